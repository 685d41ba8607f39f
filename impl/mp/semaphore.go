package mp

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
)

// semState is a counting semaphore: value is the count, max the value a
// release may not go beyond, and waiters counts the processes that may
// sleep on value, so that a release only makes a system call when needed.
type semState struct {
	value, waiters, max atomic.Uint32
	spin                spinState
}

// semValueMax is the largest value of a semaphore (SEM_VALUE_MAX on Linux).
const semValueMax = math.MaxInt32

func (s *semState) init(value, max uint32) {
	s.value.Store(value)
	s.max.Store(max)
}

func (s *semState) tryAcquire() bool {
	for v := s.value.Load(); v != 0; v = s.value.Load() {
		if s.value.CompareAndSwap(v, v-1) {
			return true
		}
	}
	return false
}

func (s *semState) acquire(ctx context.Context) bool {
	return s.tryAcquire() || s.acquireSlow(ctx)
}

func (s *semState) acquireSlow(ctx context.Context) bool {
	if lockSpin.spin(&s.spin, func() bool { return s.value.Load() != 0 && s.tryAcquire() }) {
		return true
	}
	s.waiters.Add(1)
	defer s.waiters.Add(^uint32(0))
	w := newWaiter(ctx, &s.value)
	defer w.stop()
	for {
		if s.tryAcquire() {
			return true
		}
		if !w.sleep(&s.value, 0) {
			return false
		}
	}
}

func (s *semState) release() error {
	for {
		v := s.value.Load()
		if v >= s.max.Load() {
			return errReleased
		}
		if s.value.CompareAndSwap(v, v+1) {
			break
		}
	}
	if s.waiters.Load() != 0 {
		futexWake(&s.value, 1)
	}
	return nil
}

// Semaphore is a counting semaphore shared by processes, as CPython's
// multiprocessing.Semaphore and BoundedSemaphore: Acquire waits until the
// value is positive and decrements it, Release increments it. The value of a
// bounded semaphore never exceeds its initial value: a Release that would
// make it do so fails with ErrValue.
type Semaphore struct {
	seg *segment
	s   *semState
}

// NewSemaphore returns a semaphore with the initial value, which must be
// between 0 and math.MaxInt32.
func NewSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, semValueMax) }

// NewBoundedSemaphore returns a semaphore with the initial value that a
// Release may not exceed.
func NewBoundedSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, value) }

func newSemaphore(value, max int) (*Semaphore, error) {
	if value < 0 || value > semValueMax {
		return nil, fmt.Errorf("%w: semaphore initial value %d must be between 0 and %d", ErrValue, value, semValueMax)
	}
	seg, err := newSegment("semaphore")
	if err != nil {
		return nil, err
	}
	s := at[semState](seg)
	s.init(uint32(value), uint32(max))
	return &Semaphore{seg, s}, nil
}

// Acquire decrements the value, waiting until it is positive or ctx ends:
// then it fails with ctx's error, never before ctx's deadline. A ctx already
// done makes it only try.
func (s *Semaphore) Acquire(ctx context.Context) error {
	if s.s.tryAcquire() {
		return nil
	}
	return s.acquireSlow(ctx)
}

// acquireSlow is Acquire's wait, out of line as Lock's.
func (s *Semaphore) acquireSlow(ctx context.Context) error {
	return waitResult(ctx, s.s.acquireSlow(ctx))
}

// TryAcquire decrements the value if it is positive, without waiting.
func (s *Semaphore) TryAcquire() bool { return s.s.tryAcquire() }

// Release increments the value and wakes a waiter. It fails with ErrValue
// when the value would exceed a bounded semaphore's initial value.
func (s *Semaphore) Release() error { return s.s.release() }

// Value returns the current value.
func (s *Semaphore) Value() int { return int(s.s.value.Load()) }

// Close unmaps the Semaphore in this process.
func (s *Semaphore) Close() error { return closeHandle(&s.seg, &s.s) }

// MarshalJSON encodes the Semaphore for a child being started.
func (s *Semaphore) MarshalJSON() ([]byte, error) {
	return marshalSegment("semaphore", s.seg, nil)
}

// UnmarshalJSON maps, in a child, the Semaphore its parent passed.
func (s *Semaphore) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("semaphore", data, &s.seg, &s.s)
}
