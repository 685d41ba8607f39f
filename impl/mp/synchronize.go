package mp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"
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

// eventState is an event: bit 0 of word is the flag, and the rest counts
// the times it was set, so that a waiter knows it was set even if it was
// cleared again before the waiter woke; waiters sleep on woken.
type eventState struct {
	word  atomic.Uint32
	woken wakeWord
}

func (e *eventState) set() {
	for {
		w := e.word.Load()
		if w&1 != 0 {
			return
		}
		if e.word.CompareAndSwap(w, w+3) { // one more setting, and the flag
			break
		}
	}
	e.woken.wake()
}

func (e *eventState) clear() {
	for {
		w := e.word.Load()
		if w&1 == 0 || e.word.CompareAndSwap(w, w&^1) {
			return
		}
	}
}

func (e *eventState) wait(ctx context.Context) bool {
	w := e.word.Load()
	if w&1 != 0 {
		return true
	}
	// From an unset word, only set changes it.
	wt := newWaiter(ctx, &e.woken.seq)
	defer wt.stop()
	return e.woken.wait(&wt, func() bool { return e.word.Load() != w }, nil, -1)
}

// condState is a condition variable, with CPython's algorithm: three
// semaphores count the sleepers, wake them, and count those that woke, so
// that notify(n) wakes exactly n of the processes waiting when it is called
// (fewer only if fewer wait), and returns once they have woken.
type condState struct{ sleeping, woken, wake semState }

func (c *condState) init() {
	c.sleeping.init(0, semValueMax)
	c.woken.init(0, semValueMax)
	c.wake.init(0, semValueMax)
}

func (c *condState) wait(ctx context.Context, lock lockCore) (bool, error) {
	if !lock.mine() {
		return false, errWaitNotHeld
	}
	c.sleeping.release()
	n := lock.releaseAll()
	ok := c.wake.acquire(ctx)
	c.woken.release()
	lock.reacquire(n)
	return ok, nil
}

func (c *condState) waitFor(ctx context.Context, lock lockCore, pred func() bool) (bool, error) {
	result := pred()
	for !result && !expired(ctx) {
		if _, err := c.wait(ctx, lock); err != nil {
			return false, err
		}
		result = pred()
	}
	return result, nil
}

// expired reports whether ctx has ended or reached its deadline.
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= 0
}

func (c *condState) notify(lock lockCore, n int) error {
	if !lock.mine() {
		return errNotifyNotHeld
	}
	// Sleepers that left on their own (timed out) since the last notify
	// are sleepers no more.
	for c.woken.tryAcquire() {
		c.sleeping.tryAcquire()
	}
	sleepers := 0
	for sleepers < n && c.sleeping.tryAcquire() {
		c.wake.release()
		sleepers++
	}
	if sleepers > 0 {
		for range sleepers {
			c.woken.acquire(context.Background())
		}
		// A sleeper that timed out just then left its wake unused.
		for c.wake.tryAcquire() {
		}
	}
	return nil
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

// Event is a flag shared by processes, as CPython's multiprocessing.Event:
// Wait waits until it is set.
type Event struct {
	seg *segment
	s   *eventState
}

// NewEvent returns a new Event, not set.
func NewEvent() (*Event, error) {
	seg, err := newSegment("event")
	if err != nil {
		return nil, err
	}
	return &Event{seg, at[eventState](seg)}, nil
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() { e.s.set() }

// Clear clears the flag.
func (e *Event) Clear() { e.s.clear() }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.s.isSet() }

func (e *eventState) isSet() bool { return e.word.Load()&1 != 0 }

// Wait waits until the flag is set or ctx ends. It returns nil if the flag
// was set, before the call or while it waited (even if it was cleared again
// before the waiter woke, as threading.Event.wait), and ctx's error if ctx
// ended first, never before ctx's deadline. A ctx already done makes it only
// look.
func (e *Event) Wait(ctx context.Context) error {
	if e.s.isSet() {
		return nil
	}
	return e.waitSlow(ctx)
}

// waitSlow is Wait's wait, out of line as Lock's.
func (e *Event) waitSlow(ctx context.Context) error { return waitResult(ctx, e.s.wait(ctx)) }

// Close unmaps the Event in this process.
func (e *Event) Close() error { return closeHandle(&e.seg, &e.s) }

// MarshalJSON encodes the Event for a child being started.
func (e *Event) MarshalJSON() ([]byte, error) { return marshalSegment("event", e.seg, nil) }

// UnmarshalJSON maps, in a child, the Event its parent passed.
func (e *Event) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("event", data, &e.seg, &e.s)
}

// A Locker is a lock that a Condition waits with: a *Lock or an *RLock.
type Locker interface {
	Acquire(ctx context.Context) error
	TryAcquire() bool
	Release() error
	Close() error
	json.Marshaler
	core() lockCore
}

// Condition is a condition variable shared by processes, as CPython's
// multiprocessing.Condition, over a Lock or an RLock. Wait, WaitFor, Notify
// and NotifyAll fail with ErrNotAllowed unless the caller holds the lock: for
// an RLock, the calling goroutine; for a Lock, which has no owner, the calling
// process.
//
// Notify(n) wakes exactly n of the processes waiting when it is called, or
// all of them if fewer wait, and returns once they have woken (they then
// wait for the lock, which the notifier holds). A process that dies while it
// waits on a Condition makes a later Notify wait for it forever, as in
// CPython.
type Condition struct {
	seg     *segment
	s       *condState
	lock    Locker
	ownLock bool // the lock was made with the Condition, and is closed with it
}

// NewCondition returns a Condition over lock, or over a new RLock if lock is
// nil.
func NewCondition(lock Locker) (*Condition, error) {
	own := false
	if lock == nil {
		rl, err := NewRLock()
		if err != nil {
			return nil, err
		}
		lock, own = rl, true
	}
	seg, err := newSegment("condition")
	if err != nil {
		if own {
			lock.Close()
		}
		return nil, err
	}
	s := at[condState](seg)
	s.init()
	return &Condition{seg: seg, s: s, lock: lock, ownLock: own}, nil
}

// Locker returns the Condition's lock.
func (c *Condition) Locker() Locker { return c.lock }

// Acquire acquires the Condition's lock, as the lock's Acquire does.
func (c *Condition) Acquire(ctx context.Context) error { return c.lock.Acquire(ctx) }

// TryAcquire acquires the Condition's lock if it is free, without waiting.
func (c *Condition) TryAcquire() bool { return c.lock.TryAcquire() }

// Release releases the Condition's lock.
func (c *Condition) Release() error { return c.lock.Release() }

// Wait releases the lock (however many times an RLock is held), waits until
// a Notify wakes it or ctx ends, and acquires the lock again before it
// returns. It returns nil when a Notify woke it, and ctx's error when ctx
// ended first, never before ctx's deadline; a ctx already done makes it
// release and reacquire the lock without waiting.
func (c *Condition) Wait(ctx context.Context) error {
	ok, err := c.s.wait(ctx, c.lock.core())
	if err != nil {
		return err
	}
	return waitResult(ctx, ok)
}

// WaitFor waits until pred, called with the lock held, returns true, or ctx
// ends. It returns nil when pred's last result was true, and ctx's error
// otherwise; a ctx already done makes it call pred once.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	ok, err := c.s.waitFor(ctx, c.lock.core(), pred)
	if err != nil {
		return err
	}
	return waitResult(ctx, ok)
}

// Notify wakes n of the processes waiting on the Condition (all of them if
// fewer wait).
func (c *Condition) Notify(n int) error { return c.s.notify(c.lock.core(), n) }

// NotifyAll wakes every process waiting on the Condition.
func (c *Condition) NotifyAll() error { return c.s.notify(c.lock.core(), math.MaxInt) }

// Close unmaps the Condition in this process, and its lock if the Condition
// made it or was passed to this process.
func (c *Condition) Close() error {
	var err error
	if c.ownLock && c.lock != nil {
		err = c.lock.Close()
	}
	return errors.Join(err, closeHandle(&c.seg, &c.s))
}

// MarshalJSON encodes the Condition, and its lock, for a child being started.
func (c *Condition) MarshalJSON() ([]byte, error) {
	lock, err := c.lock.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return marshalSegment("condition", c.seg, lock)
}

// UnmarshalJSON maps, in a child, the Condition its parent passed.
func (c *Condition) UnmarshalJSON(data []byte) error {
	if err := unmarshalHandle("condition", data, &c.seg, &c.s); err != nil {
		return err
	}
	var j segmentJSON
	json.Unmarshal(data, &j) // unmarshalHandle has parsed it
	var kind struct{ Type string }
	if err := json.Unmarshal(j.Lock, &kind); err != nil {
		return fmt.Errorf("mp: decoding a condition's lock: %w", err)
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
		return fmt.Errorf("mp: a condition's lock cannot be a %q", kind.Type)
	}
	if err := lock.UnmarshalJSON(j.Lock); err != nil {
		return err
	}
	c.lock, c.ownLock = lock, true
	return nil
}

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
		if err := (*action)(); err != nil {
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
