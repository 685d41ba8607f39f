package mp

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"
)

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
	for !faultLostNotifies && c.woken.tryAcquire() {
		c.sleeping.tryAcquire()
	}
	sleepers, lost := 0, 0
	for sleepers+lost < n && c.sleeping.tryAcquire() {
		if faultLostNotifies && c.woken.tryAcquire() {
			lost++ // a sleeper that timed out
			continue
		}
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
	lock, err := decodeLocker(j.Lock)
	if err != nil {
		return err
	}
	c.lock, c.ownLock = lock, true
	return nil
}
