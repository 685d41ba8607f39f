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

// timeoutWaiter is a waiter without a context, for waits that end after
// timeout (never if it is negative) or when their own stop condition holds:
// making a context would cost more than a wait that ends at once.
func timeoutWaiter(timeout time.Duration) waiter {
	w := waiter{ctx: context.Background()}
	if timeout >= 0 {
		w.deadline, w.timed = time.Now().Add(timeout), true
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

// A wakeWord is how a process waits for a condition on shared memory that
// others make hold (data or room in a queue's ring or a link's, the end of
// a JoinableQueue's tasks, an Event set), when the condition is not a
// lock's or a semaphore's: a sequence word that waiters sleep on and that
// whoever makes the condition hold bumps, with a system call only when
// someone sleeps. A waiter sets the word's sleepers bit (arm) before it
// checks its condition for the last time; a waker that changed the
// condition reads the word, and only when the bit is set does it clear it,
// bump the sequence and wake every sleeper. Either the waiter sees the
// change or the waker sees the bit (all atomics are sequentially
// consistent), so no wake is lost, and a waker with no sleeper only loads
// one word.
//
// A bit rather than a count of waiters, since a process may be killed in
// its sleep (a queue survives SIGKILL): it leaves a count raised for ever,
// after which every wake costs a system call, whereas it leaves the bit set
// until the next wake clears it, which costs that one wake one system call
// and no more. The price is that a wake wakes every sleeper, and those it
// was not meant for sleep again: right for these words, on which one
// process or a few wait, or all wait for the same thing. A semaphore,
// whose release wakes one sleeper, counts its waiters instead, and a lock
// keeps its own wait bit in its word (contend).
type wakeWord struct{ seq atomic.Uint32 }

// sleepers is the bit of a wakeWord that tells that processes may sleep on
// it.
const sleepers = 1 << 31

// arm announces a sleeper and returns the value to sleep on: the waiter
// checks its condition after arm, and sleeps only if it still fails.
func (w *wakeWord) arm() uint32 {
	for {
		seen := w.seq.Load()
		if seen&sleepers != 0 {
			return seen
		}
		if w.seq.CompareAndSwap(seen, seen|sleepers) {
			return seen | sleepers
		}
	}
}

// wake wakes the sleepers, if any, after a change that may make their
// condition hold.
func (w *wakeWord) wake() {
	if v := w.seq.Load(); v&sleepers != 0 {
		w.wakeSlow(v)
	}
}

func (w *wakeWord) wakeSlow(v uint32) {
	for !w.seq.CompareAndSwap(v, (v+1)&^sleepers) {
		if v = w.seq.Load(); v&sleepers == 0 {
			return // another waker did it
		}
	}
	futexWake(&w.seq, wakeAll)
}

// wait sleeps on the word until ok holds, stop (if not nil) holds, or wt
// ends, at most limit at a time if limit is not negative; it reports
// whether ok holds. stop is asked once the sleeper is announced, so that
// whoever makes it hold and then wakes the word ends a sleep that began
// too late at once; a stop that nobody wakes for is seen after a limit.
func (w *wakeWord) wait(wt *waiter, ok, stop func() bool, limit time.Duration) bool {
	for {
		seen := w.arm()
		if ok() {
			return true
		}
		if stop != nil && stop() {
			return ok()
		}
		if !wt.sleepMax(&w.seq, seen, limit) {
			return ok()
		}
		if ok() {
			return true
		}
	}
}

// A lock's word (a Lock's, a queue's put or get lock's) keeps its own wait
// bit instead of a wakeWord: 0 when the lock is free, and otherwise the
// holder's pid, with waitBit set once a process may sleep waiting for it
// (synchronize.go), so that a release wakes one sleeper, and only when one
// may sleep. contend is one round of a waiter: it takes the lock if it is
// free, or else sets waitBit, and returns the value to sleep on.
func contend(word *atomic.Uint32) (v uint32, acquired bool) {
	for {
		v := word.Load()
		if v == 0 {
			// Others may still sleep: whoever acquires after a sleep keeps
			// waitBit, so that its release wakes the next one.
			if word.CompareAndSwap(0, mypid|waitBit) {
				return 0, true
			}
			continue
		}
		// Set waitBit before giving up too: a wake this waiter took, then
		// lost the lock to another process, is passed on.
		if v&waitBit != 0 || word.CompareAndSwap(v, v|waitBit) {
			return v | waitBit, false
		}
	}
}
