package mp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// Number is the element type of a Value or an Array: the C types of
// CPython's typecodes ('b' int8, 'B' uint8, 'h' int16, 'i' int32, 'l' and
// 'q' int64, 'f' float32, 'd' float64...; 'c' is a byte, uint8).
type Number interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// A SharedOption configures a new Value or Array.
type SharedOption func(*sharedConfig)

type sharedConfig struct {
	lock   Locker
	noLock bool
}

// WithLock makes the Value or Array synchronized by lock, a *Lock or an
// *RLock, as CPython's lock=... argument; it is not closed with it.
func WithLock(lock Locker) SharedOption { return func(c *sharedConfig) { c.lock = lock } }

// WithoutLock makes a raw Value or Array, as CPython's lock=False: it has no
// lock, so GetLock returns nil and Acquire fails with ErrNotAllowed.
func WithoutLock() SharedOption { return func(c *sharedConfig) { c.noLock = true } }

var errNoLock = fmt.Errorf("%w: a raw Value or Array has no lock", ErrNotAllowed)

// shared is what a Value and an Array have in common: their segment, its
// number of elements and its lock.
type shared struct {
	seg     *segment
	n       int
	lock    Locker // nil for a raw one
	ownLock bool   // made with it, or decoded in this process: closed with it
}

// newShared maps a segment for n elements of elem bytes each, with the lock
// opts say (by default a new RLock, as CPython's).
func newShared(kind string, n int, elem uintptr, opts []SharedOption) (shared, error) {
	var c sharedConfig
	for _, o := range opts {
		o(&c)
	}
	if n < 0 || uintptr(n) > (1<<40)/elem {
		return shared{}, fmt.Errorf("%w: a %s of %d elements", ErrValue, kind, n)
	}
	s := shared{n: n, lock: c.lock}
	if c.noLock {
		s.lock = nil
	} else if s.lock == nil {
		rl, err := NewRLock()
		if err != nil {
			return shared{}, err
		}
		s.lock, s.ownLock = rl, true
	}
	size := (int(uintptr(n)*elem) + segmentSize - 1) / segmentSize * segmentSize
	seg, err := newSegmentSize(kind, max(size, segmentSize))
	if err != nil {
		s.closeLock()
		return shared{}, err
	}
	s.seg = seg
	return s, nil
}

// GetLock returns the lock, or nil for a raw Value or Array.
func (s *shared) GetLock() Locker { return s.lock }

// Acquire acquires the lock, as its Acquire does; a raw Value or Array
// fails with ErrNotAllowed.
func (s *shared) Acquire(ctx context.Context) error {
	if s.lock == nil {
		return errNoLock
	}
	return s.lock.Acquire(ctx)
}

// TryAcquire acquires the lock if it is free, without waiting; false for a
// raw Value or Array.
func (s *shared) TryAcquire() bool { return s.lock != nil && s.lock.TryAcquire() }

// Release releases the lock, as its Release does.
func (s *shared) Release() error {
	if s.lock == nil {
		return errNoLock
	}
	return s.lock.Release()
}

// locked runs f with the lock held, if there is one.
func (s *shared) locked(f func()) {
	if s.lock == nil {
		f()
		return
	}
	s.lock.Acquire(context.Background())
	defer s.lock.Release()
	f()
}

// Close unmaps the memory in this process, and the lock if it was made with
// it or decoded with it. Other processes are not affected.
func (s *shared) Close() error {
	err := s.closeLock()
	if s.seg != nil {
		err = errors.Join(err, s.seg.close())
		s.seg = nil
	}
	return err
}

func (s *shared) closeLock() error {
	if !s.ownLock || s.lock == nil {
		return nil
	}
	s.ownLock = false
	return s.lock.Close()
}

// sharedJSON is how a Value or an Array travels in a process's argument:
// its segment's descriptor, its length and element size (checked by the
// child, which may decode it as another T only of the same size) and its
// lock.
type sharedJSON struct {
	Type string          `json:"type"`
	FD   int             `json:"fd"`
	Len  int             `json:"len"`
	Elem uintptr         `json:"elem"`
	Lock json.RawMessage `json:"lock,omitempty"`
}

func (s *shared) marshal(kind string, elem uintptr) ([]byte, error) {
	if !passing() {
		return nil, fmt.Errorf("mp: a %s can only be encoded as (part of) the argument of a process being started", kind)
	}
	if s.seg == nil || s.seg.mem == nil {
		return nil, fmt.Errorf("mp: passing a closed %s", kind)
	}
	j := sharedJSON{Type: kind, Len: s.n, Elem: elem}
	if s.lock != nil {
		lock, err := s.lock.MarshalJSON()
		if err != nil {
			return nil, err
		}
		j.Lock = lock
	}
	j.FD = passFile(s.seg.file)
	return json.Marshal(j)
}

func (s *shared) unmarshal(kind string, elem uintptr, data []byte) error {
	var j sharedJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Type != kind || j.Elem != elem || j.Len < 0 {
		return fmt.Errorf("mp: decoding a %s of %d-byte elements from a %q of %d-byte elements", kind, elem, j.Type, j.Elem)
	}
	seg, err := inheritedSegment(j.FD)
	if err != nil {
		return err
	}
	if uintptr(j.Len)*elem > uintptr(len(seg.mem)) {
		seg.close()
		return fmt.Errorf("mp: decoding a %s of %d elements from a segment of %d bytes", kind, j.Len, len(seg.mem))
	}
	*s = shared{seg: seg, n: j.Len}
	if j.Lock != nil {
		if s.lock, err = decodeLocker(j.Lock); err != nil {
			seg.close()
			return err
		}
		s.ownLock = true
	}
	return nil
}

// decodeLocker maps, in a child, the *Lock or *RLock that data encodes.
func decodeLocker(data json.RawMessage) (Locker, error) {
	var kind struct{ Type string }
	if err := json.Unmarshal(data, &kind); err != nil {
		return nil, fmt.Errorf("mp: decoding a lock: %w", err)
	}
	var lock interface {
		Locker
		json.Unmarshaler
	}
	switch kind.Type {
	case "lock":
		lock = new(Lock)
	case "rlock":
		lock = new(RLock)
	default:
		return nil, fmt.Errorf("mp: a lock cannot be a %q", kind.Type)
	}
	if err := lock.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return lock, nil
}

// elemSize is the size of a T.
func elemSize[T Number]() uintptr {
	var zero T
	return unsafe.Sizeof(zero)
}
