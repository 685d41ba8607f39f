package mp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
)

// A SyncManager's RLock and Condition, served by method name. CPython's
// server runs each client connection in a thread of its own, and the
// threading.RLock it serves is owned by that thread: in effect by the client
// process. This server serves a process over a pool of connections, so each
// call names its caller instead (callerID), and the lock is owned by that
// process: two goroutines of one process share its ownership.

// callerID names this process to a manager's server, as the owner of the
// RLocks and Conditions it acquires: its pid and a random part, since a
// remote server sees processes of other hosts.
var callerID = sync.OnceValue(func() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
})

var (
	errRLockNotOwned = fmt.Errorf("%w: cannot release un-acquired lock", ErrNotAllowed)
	errCondNotOwned  = fmt.Errorf("%w: cannot wait on or notify an un-acquired lock", ErrNotAllowed)
)

// servedCondition is a manager's Condition over a lock of its own, an RLock
// (threading.Condition()), or that RLock alone (cond false): then wait,
// notify and notify_all are not methods of it.
type servedCondition struct {
	waitState
	cond    bool
	done    <-chan struct{} // the server's: ends a wait to reacquire the lock
	owner   string          // "" when free
	count   int             // the owner's acquisitions
	waiters []*servedWaiter // in arrival order: notify wakes the first
}

type servedWaiter struct{ notified bool }

func (c *servedCondition) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(args) == 0 || len(args[0]) == 0 || args[0][0] != tagStr {
		return nil, fmt.Errorf("%w: %s: want the caller's id first", ErrValue, method)
	}
	caller, args := string(args[0][1+uvarintLen(args[0][1:]):]), args[1:]
	n := 0
	if method == "notify" {
		n = 1
	}
	if err := argCount(method, args, n); err != nil {
		return nil, err
	}
	switch method {
	case "acquire":
		if c.owner == caller {
			c.count++
			return encBool(true), nil
		}
		ok := c.await(ctx, func() bool { return c.owner == "" })
		if ok {
			c.owner, c.count = caller, 1
		}
		return encBool(ok), nil
	case "release":
		if c.owner != caller {
			return nil, errRLockNotOwned
		}
		if c.count--; c.count == 0 {
			c.owner = ""
			c.changed()
		}
		return encNil, nil
	}
	if !c.cond {
		return nil, errNoMethod
	}
	if c.owner != caller {
		return nil, errCondNotOwned
	}
	switch method {
	case "wait":
		return encBool(c.wait(ctx, caller)), nil
	case "notify":
		k, err := argInt(args[0])
		if err != nil {
			return nil, err
		}
		c.notify(int(k))
		return encNil, nil
	case "notify_all":
		c.notify(len(c.waiters))
		return encNil, nil
	}
	return nil, errNoMethod
}

// wait releases the lock however many times the caller holds it, waits for
// a notify or ctx, and takes the lock back, as threading.Condition.wait: it
// reports whether a notify woke it.
func (c *servedCondition) wait(ctx context.Context, caller string) bool {
	w := &servedWaiter{}
	c.waiters = append(c.waiters, w)
	saved := c.count
	c.owner, c.count = "", 0
	c.changed()
	c.await(ctx, func() bool { return w.notified })
	if !w.notified {
		for i, x := range c.waiters {
			if x == w {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				break
			}
		}
	}
	// The lock comes back whatever the wait's timeout, unless the server stops.
	life, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-life.Done():
		}
	}()
	if c.await(life, func() bool { return c.owner == "" }) {
		c.owner, c.count = caller, saved
	}
	return w.notified
}

// notify wakes the first n waiters (all of them if fewer wait).
func (c *servedCondition) notify(n int) {
	n = min(max(n, 0), len(c.waiters))
	for _, w := range c.waiters[:n] {
		w.notified = true
	}
	c.waiters = append(c.waiters[:0:0], c.waiters[n:]...)
	if n > 0 {
		c.changed()
	}
}

// uvarintLen is the length of the uvarint at the start of b.
func uvarintLen(b []byte) int {
	for i, x := range b {
		if x < 0x80 {
			return i + 1
		}
	}
	return len(b)
}

// RLockProxy is a managed RLock (SyncManager.RLock). It is owned by the
// process that acquired it, which may acquire it again; only that process
// may release it (ErrNotAllowed otherwise).
type RLockProxy struct{ proxy }

// ConditionProxy is a managed Condition over an RLock of its own
// (SyncManager.Condition()), owned as an RLockProxy is. Wait, Notify and
// NotifyAll fail with ErrNotAllowed unless this process holds the lock.
type ConditionProxy struct{ proxy }

// RLock creates a managed RLock.
func (m *Manager) RLock() (*RLockProxy, error) {
	return createServed[RLockProxy](m, kindRLock, func(b []byte) []byte { return b })
}

// Condition creates a managed Condition over a new RLock.
func (m *Manager) Condition() (*ConditionProxy, error) {
	return createServed[ConditionProxy](m, kindCondition, func(b []byte) []byte { return b })
}

// acquire, tryAcquire and release are the lock methods of both proxies.
func (p *proxy) ownedAcquire(ctx context.Context) error {
	ok, err := boolResult(p.invoke(ctx, "acquire", callerID()))
	if err == nil {
		err = waitResult(ctx, ok)
	}
	return err
}

func (p *proxy) ownedTryAcquire() bool {
	ok, _ := boolResult(p.invoke(canceled, "acquire", callerID()))
	return ok
}

func (p *proxy) ownedRelease() error {
	_, err := p.now("release", callerID())
	return err
}

// Acquire takes the lock, or takes it once more if this process holds it,
// waiting until it is free or ctx ends: then it fails with ctx's error.
func (r *RLockProxy) Acquire(ctx context.Context) error { return r.ownedAcquire(ctx) }

// TryAcquire takes the lock if it is free or this process holds it.
func (r *RLockProxy) TryAcquire() bool { return r.ownedTryAcquire() }

// Release releases the lock once: ErrNotAllowed unless this process holds it.
func (r *RLockProxy) Release() error { return r.ownedRelease() }

// Acquire takes the Condition's lock, as RLockProxy.Acquire.
func (c *ConditionProxy) Acquire(ctx context.Context) error { return c.ownedAcquire(ctx) }

// TryAcquire takes the Condition's lock if it is free or this process holds it.
func (c *ConditionProxy) TryAcquire() bool { return c.ownedTryAcquire() }

// Release releases the Condition's lock once.
func (c *ConditionProxy) Release() error { return c.ownedRelease() }

// Wait releases the lock, waits until a Notify wakes this process or ctx
// ends, and takes the lock back before it returns (however ctx ended). It
// returns nil when a Notify woke it, ctx's error otherwise, and
// ErrNotAllowed without the lock held. The server waits until ctx's
// deadline, if any; a wait that a deadline-less ctx ends first is abandoned
// with its connection, and the server then takes the lock back for this
// process all the same.
func (c *ConditionProxy) Wait(ctx context.Context) error {
	ok, err := boolResult(c.invoke(ctx, "wait", callerID()))
	if err == nil {
		err = waitResult(ctx, ok)
	}
	return err
}

// Notify wakes the first n processes waiting (all of them if fewer wait);
// ErrNotAllowed without the lock held.
func (c *ConditionProxy) Notify(n int) error {
	_, err := c.now("notify", callerID(), n)
	return err
}

// NotifyAll wakes every process waiting; ErrNotAllowed without the lock held.
func (c *ConditionProxy) NotifyAll() error {
	_, err := c.now("notify_all", callerID())
	return err
}

func (r *RLockProxy) MarshalJSON() ([]byte, error)     { return r.marshal() }
func (r *RLockProxy) UnmarshalJSON(b []byte) error     { return r.unmarshal(kindRLock, b) }
func (c *ConditionProxy) MarshalJSON() ([]byte, error) { return c.marshal() }
func (c *ConditionProxy) UnmarshalJSON(b []byte) error { return c.unmarshal(kindCondition, b) }
