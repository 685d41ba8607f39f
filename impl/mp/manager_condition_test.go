package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// condWaiter takes the condition's lock, tells main through ready that it
// holds it, and waits on the condition; it exits 0 once notified.
type condArgs struct {
	C     *mp.ConditionProxy
	Ready *mp.EventProxy
}

var condWaiter = mp.Register("test.manager-cond-waiter", func(a condArgs) error {
	c, ready, bg := a.C, a.Ready, context.Background()
	if err := c.Acquire(bg); err != nil {
		return err
	}
	if err := ready.Set(); err != nil {
		return err
	}
	if err := c.Wait(bg); err != nil {
		return err
	}
	return c.Release()
})

// rlockRelease releases an RLock it does not hold.
var rlockRelease = mp.Register("test.manager-rlock-release", func(r *mp.RLockProxy) error {
	if err := r.Release(); !errors.Is(err, mp.ErrNotAllowed) {
		return errors.New("released another process's RLock")
	}
	return nil
})

func TestManagedCondition(t *testing.T) {
	m, err := mp.NewManager()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	bg := context.Background()
	c, err := m.Condition()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Notify(1); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("notify without the lock: %v", err)
	}
	if err := c.Wait(bg); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("wait without the lock: %v", err)
	}
	c.Acquire(bg)
	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	if err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a timed wait nobody notifies: %v", err)
	}
	cancel()
	if err := c.Release(); err != nil {
		t.Errorf("the lock is held again after a wait: %v", err)
	}

	ready, _ := m.Event()
	p := mp.New(condWaiter, condArgs{c, ready})
	p.Start()
	if err := ready.Wait(bg); err != nil {
		t.Fatal(err)
	}
	// The waiter holds the lock until its Wait releases it.
	c.Acquire(bg)
	if err := c.NotifyAll(); err != nil {
		t.Errorf("notify_all: %v", err)
	}
	c.Release()
	p.Join(bg)
	if code, _ := p.ExitCode(); code != 0 {
		t.Errorf("the waiter exited %d", code)
	}
}

func TestManagedRLock(t *testing.T) {
	m, err := mp.NewManager()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	r, err := m.RLock()
	if err != nil {
		t.Fatal(err)
	}
	if !r.TryAcquire() || !r.TryAcquire() {
		t.Fatal("an RLock is acquired again by its owner")
	}
	p := mp.New(rlockRelease, r)
	p.Start()
	p.Join(context.Background())
	if code, _ := p.ExitCode(); code != 0 {
		t.Errorf("another process released the RLock (exit %d)", code)
	}
	r.Release()
	r.Release()
	if err := r.Release(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("a release too many: %v", err)
	}
}
