package mp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
)

// The synchronization primitives of CPython's multiprocessing.synchronize,
// over shared memory. Each lives in its own segment (shm.go); its state is a
// struct of atomic words at the start of the segment, and processes sleep on
// those words with futexes (futex.go). A handle is passed to a child as (part
// of) the argument of New: the child maps the same memory.

// mypid is this process's pid as lock words hold it: a child is a new
// execution of the binary, never a fork, so it is set in each process.
var mypid = uint32(os.Getpid())

// A lock word is 0 when the lock is free, and otherwise holds the pid of the
// process that acquired it, with waitBit set once a process may be asleep
// waiting for it (pids are below 2^22).
const (
	waitBit = 1 << 31
	pidMask = waitBit - 1
)

var (
	errReleased      = fmt.Errorf("%w: semaphore or lock released too many times", ErrValue)
	errNotOwner      = fmt.Errorf("%w: attempt to release recursive lock not owned by this goroutine", ErrNotAllowed)
	errWaitNotHeld   = fmt.Errorf("%w: must acquire() the condition's lock before wait()", ErrNotAllowed)
	errNotifyNotHeld = fmt.Errorf("%w: the condition's lock is not held", ErrNotAllowed)
	errBroken        = fmt.Errorf("%w: the barrier is broken", ErrBroken)
)

// mutexState is a lock without a recursion count.
type mutexState struct {
	word atomic.Uint32
	spin spinState
}

func (m *mutexState) tryAcquire() bool { return m.word.CompareAndSwap(0, mypid) }

func (m *mutexState) acquire(ctx context.Context) bool {
	return m.word.CompareAndSwap(0, mypid) || m.acquireSlow(ctx)
}

func (m *mutexState) acquireSlow(ctx context.Context) bool {
	if lockSpin.spin(&m.spin, func() bool { return m.word.Load() == 0 && m.word.CompareAndSwap(0, mypid) }) {
		return true
	}
	w := newWaiter(ctx, &m.word)
	defer w.stop()
	for {
		v, acquired := contend(&m.word)
		if acquired {
			return true
		}
		if !w.sleep(&m.word, v) {
			return false
		}
	}
}

func (m *mutexState) release() error {
	if v := m.word.Swap(0); v != mypid {
		return m.releaseSlow(v)
	}
	return nil
}

func (m *mutexState) releaseSlow(v uint32) error {
	if v == 0 {
		return errReleased
	}
	if v&waitBit != 0 {
		futexWake(&m.word, 1)
	}
	return nil
}

// mine reports whether this process holds the lock.
func (m *mutexState) mine() bool { return m.word.Load()&pidMask == mypid }

// A Condition waits with either kind of lock (lockCore). releaseAll releases
// the lock however many times it is held, for reacquire to restore.
type lockCore interface {
	mine() bool
	releaseAll() uint32
	reacquire(n uint32)
}

func (m *mutexState) releaseAll() uint32 { m.release(); return 1 }
func (m *mutexState) reacquire(uint32)   { m.acquire(context.Background()) }

// rmutexState is a recursive lock: a mutexState, and the goroutine that
// holds it (curg) with its recursion count. Only the holder writes owner and
// count; it clears owner before it releases the mutex, so a goroutine of the
// holder's process that reads owner sees itself only when it is the owner.
type rmutexState struct {
	mutexState
	count atomic.Uint32
	owner atomic.Uint64
}

func (r *rmutexState) mine() bool {
	return r.word.Load()&pidMask == mypid && r.owner.Load() == curg()
}

func (r *rmutexState) acquire(ctx context.Context) bool {
	g := curg()
	if r.word.Load()&pidMask == mypid && r.owner.Load() == g {
		r.count.Add(1)
		return true
	}
	if !r.mutexState.acquire(ctx) {
		return false
	}
	r.owner.Store(g)
	r.count.Store(1)
	return true
}

func (r *rmutexState) tryAcquire() bool {
	g := curg()
	if r.word.Load()&pidMask == mypid && r.owner.Load() == g {
		r.count.Add(1)
		return true
	}
	if !r.mutexState.tryAcquire() {
		return false
	}
	r.owner.Store(g)
	r.count.Store(1)
	return true
}

func (r *rmutexState) release() error {
	if !r.mine() {
		return errNotOwner
	}
	if r.count.Add(^uint32(0)) == 0 {
		r.owner.Store(0)
		return r.mutexState.release()
	}
	return nil
}

func (r *rmutexState) releaseAll() uint32 {
	n := r.count.Swap(0)
	r.owner.Store(0)
	r.mutexState.release()
	return n
}

func (r *rmutexState) reacquire(n uint32) {
	r.mutexState.acquire(context.Background())
	r.owner.Store(curg())
	r.count.Store(n)
}

// Lock is a non-recursive lock shared by processes, as CPython's
// multiprocessing.Lock. It has no owner: any process may release it, and
// releasing it when it is not locked fails with ErrValue. Within a process
// it excludes goroutines from each other as well.
//
// Its state is one word of shared memory, acquired with one atomic
// compare-and-swap when it is free; a process that finds it locked spins
// briefly, then sleeps on a futex until a release wakes it.
//
// A process that dies while it holds the Lock leaves it locked, as in
// CPython (the word keeps the dead process's pid).
//
// A Lock is passed to a child as (part of) the argument of New; the child
// shares it until it exits. Close releases this process's mapping of it: the
// handle must not be used afterwards.
type Lock struct {
	seg *segment
	s   *mutexState
}

// NewLock returns a new, unlocked Lock.
func NewLock() (*Lock, error) {
	seg, err := newSegment("lock")
	if err != nil {
		return nil, err
	}
	return &Lock{seg, at[mutexState](seg)}, nil
}

// Acquire acquires the lock, waiting until it is free or ctx ends: then it
// fails with ctx's error, never before ctx's deadline. A ctx already done
// makes it only try, as CPython's acquire(block=False).
func (l *Lock) Acquire(ctx context.Context) error {
	if l.s.tryAcquire() {
		return nil
	}
	return l.acquireSlow(ctx)
}

// acquireSlow is Acquire's wait, out of line so that the one
// compare-and-swap of an uncontended Acquire is inlined into its caller.
func (l *Lock) acquireSlow(ctx context.Context) error {
	return waitResult(ctx, l.s.acquireSlow(ctx))
}

// TryAcquire acquires the lock if it is free, without waiting.
func (l *Lock) TryAcquire() bool { return l.s.tryAcquire() }

// Release releases the lock, whoever acquired it. It fails with ErrValue
// when the lock is not locked.
func (l *Lock) Release() error { return l.s.release() }

// Close unmaps the Lock in this process. Other processes are not affected.
func (l *Lock) Close() error { return closeHandle(&l.seg, &l.s) }

// MarshalJSON encodes the Lock for a child being started; it fails in any
// other use.
func (l *Lock) MarshalJSON() ([]byte, error) { return marshalSegment("lock", l.seg, nil) }

// UnmarshalJSON maps, in a child, the Lock its parent passed.
func (l *Lock) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("lock", data, &l.seg, &l.s)
}

func (l *Lock) core() lockCore { return l.s }

// RLock is a recursive lock shared by processes, as CPython's
// multiprocessing.RLock. It is owned by the goroutine that acquired it (a
// goroutine of one process: CPython's owner is a thread), which may acquire
// it again and must release it as many times; a release by any other
// goroutine or process fails with ErrNotAllowed.
//
// A goroutine is identified by its runtime descriptor, which the runtime
// reuses once a goroutine has exited: a goroutine must not exit while it
// holds an RLock.
type RLock struct {
	seg *segment
	s   *rmutexState
}

// NewRLock returns a new, unlocked RLock.
func NewRLock() (*RLock, error) {
	seg, err := newSegment("rlock")
	if err != nil {
		return nil, err
	}
	return &RLock{seg, at[rmutexState](seg)}, nil
}

// Acquire acquires the lock, at once if the calling goroutine holds it
// already, else waiting until it is free or ctx ends: then it fails with
// ctx's error, never before ctx's deadline. A ctx already done makes it
// only try.
func (r *RLock) Acquire(ctx context.Context) error { return waitResult(ctx, r.s.acquire(ctx)) }

// TryAcquire acquires the lock if it is free or held by the calling
// goroutine, without waiting.
func (r *RLock) TryAcquire() bool { return r.s.tryAcquire() }

// Release releases the lock once; the lock is free once it is released as
// many times as it was acquired. It fails with ErrNotAllowed unless the
// calling goroutine holds it.
func (r *RLock) Release() error { return r.s.release() }

// Close unmaps the RLock in this process.
func (r *RLock) Close() error { return closeHandle(&r.seg, &r.s) }

// MarshalJSON encodes the RLock for a child being started.
func (r *RLock) MarshalJSON() ([]byte, error) { return marshalSegment("rlock", r.seg, nil) }

// UnmarshalJSON maps, in a child, the RLock its parent passed.
func (r *RLock) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("rlock", data, &r.seg, &r.s)
}

func (r *RLock) core() lockCore { return r.s }

// A Locker is a lock that a Condition waits with: a *Lock or an *RLock.
type Locker interface {
	Acquire(ctx context.Context) error
	TryAcquire() bool
	Release() error
	Close() error
	json.Marshaler
	core() lockCore
}
