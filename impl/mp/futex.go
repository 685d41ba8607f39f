package mp

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h). They are used without FUTEX_PRIVATE_FLAG:
// the words live in memory shared by several processes.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWait sleeps while *addr holds val, until woken, or for at most
// timeout if it is not negative. It may return early for no reason
// (EINTR, EAGAIN, a wake meant for another waiter): callers check again.
func futexWait(addr *atomic.Uint32, val uint32, timeout time.Duration) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
}

// futexWake wakes at most n of the processes sleeping on addr.
func futexWake(addr *atomic.Uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
}

// wakeAll is futexWake's n for every sleeper.
const wakeAll = math.MaxInt32

// cancelSlice bounds one futex sleep under a context that can be canceled:
// a cancellation that comes just before the sleep begins is seen this late
// at the latest (an earlier one is seen at once).
const cancelSlice = 100 * time.Millisecond

// A waiter turns a context into futex sleeps: until its deadline, and
// woken when it is canceled. Loops that wait are of the form
//
//	w := newWaiter(ctx, word)
//	defer w.stop()
//	for {
//		if /* the condition holds */ { return true }
//		if !w.sleep(word, seen) { return false }
//	}
//
// so that a waiter checks its condition after every wake before it checks
// the context: a wake that was meant for it is never lost.
type waiter struct {
	ctx      context.Context
	deadline time.Time
	timed    bool
	cancel   func() bool // stops the wake on cancellation
}

func newWaiter(ctx context.Context, word *atomic.Uint32) waiter {
	w := waiter{ctx: ctx}
	w.deadline, w.timed = ctx.Deadline()
	if ctx.Done() != nil {
		timed := w.timed
		w.cancel = context.AfterFunc(ctx, func() {
			// The futex timeout sees the deadline; a cancellation needs a wake.
			// It wakes every sleeper on the word, which all check again.
			if !timed || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				futexWake(word, wakeAll)
			}
		})
	}
	return w
}

func (w *waiter) stop() {
	if w.cancel != nil {
		w.cancel()
	}
}

// sleep sleeps on word while it holds val. It returns false, without
// sleeping, once the context has ended: never before its deadline.
func (w *waiter) sleep(word *atomic.Uint32, val uint32) bool {
	return w.sleepMax(word, val, -1)
}

// sleepMax is sleep for at most limit, if limit is not negative: waiters
// that must look at something else from time to time (whether a lock's
// holder is still alive) wake up by themselves.
func (w *waiter) sleepMax(word *atomic.Uint32, val uint32, limit time.Duration) bool {
	if w.ctx.Err() != nil {
		return false
	}
	timeout := limit
	if w.timed {
		left := time.Until(w.deadline)
		if left <= 0 {
			return false
		}
		if timeout < 0 || left < timeout {
			timeout = left
		}
	}
	if w.ctx.Done() != nil && (timeout < 0 || timeout > cancelSlice) {
		timeout = cancelSlice
	}
	futexWait(word, val, timeout)
	return true
}

// A spinner adapts how many times a waiter looks at a word before it sleeps.
// A lock held for a short time by a process running on another CPU is often
// free again within a microsecond, while a futex sleep and wake cost several
// (tens when the CPU was idle); but spinning only delays the holder when it
// waits for the very CPU the spinner holds (more runnable processes than
// CPUs), and wastes that CPU when the lock is held long. So a spin that ends
// with the word free doubles the limit, and one that ends in a sleep lowers
// it by a quarter, between spinMin and spinMax; every probeEvery-th spin
// goes to spinMax whatever the limit, so that a limit brought down by a busy
// spell comes back up once spinning pays again. The limit lives in shared
// memory, beside the word: the processes that use one primitive learn from
// each other.
type spinner struct{ limit, probe atomic.Uint32 }

const (
	spinMin    = 32
	spinInit   = 128 // a new segment has limit 0, which stands for spinInit
	spinMax    = 16384
	probeEvery = 256
)

// spin calls try until it succeeds, at most the limit times, and adapts the
// limit.
func (s *spinner) spin(try func() bool) bool {
	limit := s.limit.Load()
	if limit == 0 {
		limit = spinInit
	}
	n := limit
	if s.probe.Add(1)%probeEvery == 0 {
		n = spinMax
	}
	for range n {
		if try() {
			if limit < spinMax {
				s.limit.Store(min(2*limit, spinMax))
			}
			return true
		}
	}
	if limit > spinMin && n == limit {
		s.limit.Store(max(limit-limit/4, spinMin))
	}
	return false
}
