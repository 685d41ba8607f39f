package mp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

type condArg struct {
	C           *Condition
	Ready, Woke *Semaphore
}

// condWaiter waits on the condition once, and says when it woke.
var condWaiter = Register("sync.condWaiter", func(a condArg) error {
	if a.C.Acquire(context.Background()) != nil {
		return errors.New("acquire failed")
	}
	a.Ready.Release()
	if err := a.C.Wait(context.Background()); err != nil {
		return fmt.Errorf("wait: %v", err)
	}
	a.Woke.Release()
	return a.C.Release()
})

// TestConditionNotifyN looks inside the condition: once Notify(n) returns,
// the n woken processes have left the sleepers, and the others have not.
func TestConditionNotifyN(t *testing.T) {
	for _, kind := range []string{"rlock", "lock"} {
		t.Run(kind, func(t *testing.T) {
			var lock Locker
			if kind == "lock" {
				l, _ := NewLock()
				defer l.Close()
				lock = l
			}
			c, err := NewCondition(lock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ready, _ := NewSemaphore(0)
			woke, _ := NewSemaphore(0)
			defer ready.Close()
			defer woke.Close()
			var ps []*Process
			for range 4 {
				p := New(condWaiter, condArg{C: c, Ready: ready, Woke: woke})
				if err := p.Start(); err != nil {
					t.Fatal(err)
				}
				defer p.Kill()
				ps = append(ps, p)
			}
			for range 4 {
				ready.Acquire(context.Background())
			}
			// Each waiter released ready while it held the lock: once main
			// holds it, all four are in Wait.
			sleepers := func() int { return int(c.s.sleeping.value.Load()) }
			c.Acquire(context.Background())
			if n := sleepers(); n != 4 {
				t.Fatalf("%d sleepers, want 4", n)
			}
			c.Notify(1)
			if n := sleepers(); n != 3 {
				t.Errorf("notify(1) left %d sleepers, want 3", n)
			}
			c.Release()
			woke.Acquire(context.Background())
			c.Acquire(context.Background())
			c.Notify(2)
			if n := sleepers(); n != 1 {
				t.Errorf("notify(2) left %d sleepers, want 1", n)
			}
			c.Release()
			woke.Acquire(context.Background())
			woke.Acquire(context.Background())
			c.Acquire(context.Background())
			if woke.TryAcquire() {
				t.Error("a fourth waiter woke")
			}
			c.NotifyAll()
			c.Release()
			for _, p := range ps {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := p.Join(ctx)
				cancel()
				if code, _ := p.ExitCode(); err != nil || code != 0 {
					t.Errorf("%s: %v, exit %d", p.Name(), err, code)
				}
			}
			if n := sleepers(); n != 0 {
				t.Errorf("%d sleepers at the end", n)
			}
		})
	}
}
