package mp

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Barrier makes a number of processes (parties) wait for each other, as
// CPython's multiprocessing.Barrier (threading.Barrier's algorithm, over
// shared memory). Each party calls Wait; the last to arrive runs the
// action, if any, then all of them leave together, and the barrier can be
// used again.
//
// A barrier breaks when a party's Wait times out, when Abort is called, or
// when the action fails: every Wait in progress, and every later one until
// Reset, fails with ErrBroken.
type Barrier struct {
	seg    *segment
	s      *barrierState
	action atomic.Pointer[func() error]
}

type barrierState struct {
	lock    rmutexState
	cond    condState
	state   atomic.Int32 // barrierFilling...
	count   atomic.Int32 // parties in Wait
	parties atomic.Int32
	timeout atomic.Int64 // the default timeout of Wait, in nanoseconds; -1 for none
}

// The states of a barrier, as threading.Barrier's.
const (
	barrierFilling   = 0
	barrierDraining  = 1
	barrierResetting = -1
	barrierBroken    = -2
)

// A BarrierOption configures a Barrier made by NewBarrier.
type BarrierOption func(*Barrier)

// BarrierTimeout sets the timeout of a Wait whose context has no deadline.
// It is part of the shared state: every process's Wait uses it.
func BarrierTimeout(d time.Duration) BarrierOption {
	return func(b *Barrier) { b.s.timeout.Store(int64(max(d, 0))) }
}

// BarrierAction sets this process's action (see SetAction).
func BarrierAction(action func() error) BarrierOption {
	return func(b *Barrier) { b.SetAction(action) }
}

// NewBarrier returns a Barrier for parties processes (or goroutines).
func NewBarrier(parties int, opts ...BarrierOption) (*Barrier, error) {
	if parties < 1 || parties > math.MaxInt32 {
		return nil, fmt.Errorf("%w: a barrier needs at least one party, got %d", ErrValue, parties)
	}
	seg, err := newSegment("barrier")
	if err != nil {
		return nil, err
	}
	b := &Barrier{seg: seg, s: at[barrierState](seg)}
	b.s.cond.init()
	b.s.parties.Store(int32(parties))
	b.s.timeout.Store(-1)
	for _, opt := range opts {
		opt(b)
	}
	return b, nil
}

// SetAction sets the function that the last party to arrive runs, in its
// own process and before any party leaves, when that party's Wait was
// called on this handle. A function cannot travel to a child: each process
// sets its own, as CPython pickles the action with the barrier. A failing
// action (an error or a panic) breaks the barrier; that party's Wait
// returns the error (or panics), the others fail with ErrBroken.
func (b *Barrier) SetAction(action func() error) {
	if action == nil {
		b.action.Store(nil)
	} else {
		b.action.Store(&action)
	}
}

// Wait waits until every party has called Wait, and returns this party's
// index: the number of parties that arrived before it, so 0 for the first
// and Parties()-1 for the last, which runs the action. It fails with
// ErrBroken when the barrier is or becomes broken, or when ctx (or the
// barrier's timeout, if ctx has no deadline) ends first: this breaks the
// barrier for every party, and that error is also ctx's (or
// context.DeadlineExceeded for the barrier's timeout). A ctx already done
// makes it wait for nobody: it breaks the barrier unless it is the last
// party.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	s := b.s
	if _, ok := ctx.Deadline(); !ok {
		if t := s.timeout.Load(); t >= 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(t))
			defer cancel()
		}
	}
	s.lock.acquire(context.Background())
	defer s.lock.release()
	// Wait while the barrier drains or resets.
	for st := s.state.Load(); st == barrierDraining || st == barrierResetting; st = s.state.Load() {
		s.cond.wait(context.Background(), &s.lock)
	}
	if s.state.Load() < 0 {
		return 0, errBroken
	}
	index := s.count.Add(1) - 1
	defer func() {
		// The last party out lets the barrier fill again.
		if s.count.Add(-1) == 0 {
			if st := s.state.Load(); st == barrierDraining || st == barrierResetting {
				s.state.Store(barrierFilling)
				s.cond.notify(&s.lock, math.MaxInt)
			}
		}
	}()
	if index+1 == s.parties.Load() {
		if err := b.release(); err != nil {
			return 0, err
		}
		return int(index), nil
	}
	ok, _ := s.cond.waitFor(ctx, &s.lock, func() bool { return s.state.Load() != barrierFilling })
	if !ok {
		b.breakLocked()
		return 0, timedOut(ctx, errBroken)
	}
	if s.state.Load() < 0 {
		return 0, errBroken
	}
	return int(index), nil
}

// release runs the action and lets every party go, or breaks the barrier
// if the action fails.
func (b *Barrier) release() (err error) {
	if action := b.action.Load(); action != nil {
		done := false
		defer func() {
			if !done {
				b.breakLocked()
			}
		}()
		if err := (*action)(); err != nil && !faultActionErrorsIgnored {
			return fmt.Errorf("mp: barrier action: %w", err)
		}
		done = true
	}
	b.s.state.Store(barrierDraining)
	b.s.cond.notify(&b.s.lock, math.MaxInt)
	return nil
}

func (b *Barrier) breakLocked() {
	b.s.state.Store(barrierBroken)
	b.s.cond.notify(&b.s.lock, math.MaxInt)
}

// Abort breaks the barrier: every Wait in progress and every later one
// fails with ErrBroken, until Reset.
func (b *Barrier) Abort() {
	b.s.lock.acquire(context.Background())
	defer b.s.lock.release()
	b.breakLocked()
}

// Reset returns the barrier to its initial, empty state. Parties waiting on
// it fail with ErrBroken.
func (b *Barrier) Reset() {
	s := b.s
	s.lock.acquire(context.Background())
	defer s.lock.release()
	if s.count.Load() > 0 {
		if st := s.state.Load(); st == barrierFilling || st == barrierBroken {
			// Wake the waiters; the last one out empties the barrier.
			s.state.Store(barrierResetting)
		}
	} else {
		s.state.Store(barrierFilling)
	}
	s.cond.notify(&s.lock, math.MaxInt)
}

// Parties returns the number of parties the barrier waits for.
func (b *Barrier) Parties() int { return int(b.s.parties.Load()) }

// NWaiting returns the number of parties waiting in Wait (while the
// barrier fills; 0 while it drains or resets).
func (b *Barrier) NWaiting() int {
	if b.s.state.Load() == barrierFilling {
		return int(b.s.count.Load())
	}
	return 0
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.s.state.Load() == barrierBroken }

// Timeout returns the barrier's default timeout, and false if it has none.
func (b *Barrier) Timeout() (time.Duration, bool) {
	t := b.s.timeout.Load()
	return time.Duration(t), t >= 0
}

// Close unmaps the Barrier in this process.
func (b *Barrier) Close() error { return closeHandle(&b.seg, &b.s) }

// MarshalJSON encodes the Barrier for a child being started; its action
// stays in this process.
func (b *Barrier) MarshalJSON() ([]byte, error) { return marshalSegment("barrier", b.seg, nil) }

// UnmarshalJSON maps, in a child, the Barrier its parent passed. It has no
// action until SetAction.
func (b *Barrier) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("barrier", data, &b.seg, &b.s)
}

// closeHandle drops a handle's reference to its segment and makes the
// handle unusable: a later use is a nil dereference.
func closeHandle[T any](seg **segment, state **T) error {
	if *seg == nil {
		return nil
	}
	err := (*seg).close()
	*seg, *state = nil, nil
	return err
}

// unmarshalHandle maps the segment that data names into a handle.
func unmarshalHandle[T any](typ string, data []byte, seg **segment, state **T) error {
	s, _, err := unmarshalSegment(typ, data)
	if err != nil {
		return err
	}
	*seg, *state = s, at[T](s)
	return nil
}
