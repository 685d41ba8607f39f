package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// segmentSize is the size of a shared-memory segment: one page holds the
// state of any synchronization primitive.
const segmentSize = 4096

// A segment is shared memory: an anonymous memfd, mapped MAP_SHARED. It
// has no name in any file system, so nothing is left behind whatever
// happens to the processes that map it; the kernel frees it when the last
// descriptor and mapping are gone. A child maps the same memory from the
// descriptor it inherits (see passFile).
//
// Several handles of one process may share a segment (a Condition and its
// Lock, decoded in a child, each hold one reference); the last Close unmaps
// it.
type segment struct {
	file  *os.File
	mem   []byte
	refs  atomic.Int32
	index int // the inherited file's index, or -1
}

func newSegment(kind string) (*segment, error) { return newSegmentSize(kind, segmentSize) }

// newSegmentSize is newSegment for a segment of size bytes (a multiple of
// the page size, at least segmentSize): a queue's ring follows its state.
func newSegmentSize(kind string, size int) (*segment, error) {
	fd, err := unix.MemfdCreate("mp-"+kind, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mp: creating a %s: memfd_create: %w", kind, err)
	}
	f := os.NewFile(uintptr(fd), "mp-"+kind)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("mp: creating a %s: ftruncate: %w", kind, err)
	}
	return mapSegment(f, -1)
}

func mapSegment(f *os.File, index int) (*segment, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Size < segmentSize {
		f.Close()
		return nil, fmt.Errorf("mp: mapping shared memory: not a segment (%v)", err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mp: mapping shared memory: %w", err)
	}
	s := &segment{file: f, mem: mem, index: index}
	s.refs.Store(1)
	return s, nil
}

// at returns a pointer to the T at the start of the segment's memory.
func at[T any](s *segment) *T {
	var zero T
	if unsafe.Sizeof(zero) > segmentSize {
		panic("mp: shared state larger than a segment")
	}
	return (*T)(unsafe.Pointer(&s.mem[0]))
}

// close drops one reference, and unmaps the memory and closes the
// descriptor with the last one.
func (s *segment) close() error {
	if s.refs.Add(-1) != 0 {
		return nil
	}
	if s.index >= 0 {
		inheritedSegments.Lock()
		delete(inheritedSegments.byIndex, s.index)
		inheritedSegments.Unlock()
	}
	err := unix.Munmap(s.mem)
	s.mem = nil
	return errors.Join(err, s.file.Close())
}

// inheritedSegments maps each inherited file once, however many handles
// refer to it.
var inheritedSegments struct {
	sync.Mutex
	byIndex map[int]*segment
}

// inheritedSegment returns a reference to the segment the parent passed as
// file i.
func inheritedSegment(i int) (*segment, error) {
	inheritedSegments.Lock()
	defer inheritedSegments.Unlock()
	if s, ok := inheritedSegments.byIndex[i]; ok {
		s.refs.Add(1)
		return s, nil
	}
	f := inheritedFile(i)
	if f == nil {
		return nil, fmt.Errorf("mp: no inherited file %d: shared memory is only passed as the argument of a process", i)
	}
	s, err := mapSegment(f, i)
	if err != nil {
		return nil, err
	}
	if inheritedSegments.byIndex == nil {
		inheritedSegments.byIndex = map[int]*segment{}
	}
	inheritedSegments.byIndex[i] = s
	return s, nil
}

// segmentJSON is how a handle travels in a process's argument: the index
// of the descriptor the child inherits. Lock holds the lock of a Condition.
type segmentJSON struct {
	Type string          `json:"type"`
	FD   int             `json:"fd"`
	Lock json.RawMessage `json:"lock,omitempty"`
}

// marshalSegment encodes a handle of type typ on s for the child being
// started.
func marshalSegment(typ string, s *segment, lock json.RawMessage) ([]byte, error) {
	if !passing() {
		return nil, fmt.Errorf("mp: a %s can only be encoded as (part of) the argument of a process being started", typ)
	}
	if s == nil || s.mem == nil {
		return nil, fmt.Errorf("mp: passing a closed %s", typ)
	}
	return json.Marshal(segmentJSON{Type: typ, FD: passFile(s.file), Lock: lock})
}

// unmarshalSegment decodes a handle of type typ in a child.
func unmarshalSegment(typ string, data []byte) (*segment, json.RawMessage, error) {
	var j segmentJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, nil, err
	}
	if j.Type != typ {
		return nil, nil, fmt.Errorf("mp: decoding a %s from a %q", typ, j.Type)
	}
	s, err := inheritedSegment(j.FD)
	return s, j.Lock, err
}
