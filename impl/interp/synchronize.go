package interp

import (
	"context"
	"errors"
	"math"
	"os"
)

// synchronizeOps are the ops of the lock, rlock, semaphore, event, condition
// and barrier families, and their bulk op (protocol.md §6).
func synchronizeOps() map[string]Op {
	ops := map[string]Op{}
	lockers := []string{"lock", "rlock", "semaphore", "bounded_semaphore", "condition", "manager.lock", "value", "array"}
	semaphores := []string{"semaphore", "bounded_semaphore"}
	event := []string{"event"}
	condition := []string{"condition"}
	barrier := []string{"barrier"}
	timeout := Field{Number, false}

	ops["acquire"] = Op{Fields: on(map[string]Field{"block": {Bool, false}, "timeout": timeout}), Blocks: true, On: lockers, Run: acquire}
	ops["release"] = Op{Fields: on(nil), On: lockers, Run: func(c *Call) (any, error) {
		return nil, c.On.locker().Release()
	}}
	ops["get_value"] = Op{Fields: on(nil), On: semaphores, Run: func(c *Call) (any, error) {
		return int64(c.On.Semaphore.Value()), nil
	}}
	ops["set"] = Op{Fields: on(nil), On: event, Run: func(c *Call) (any, error) { c.On.Event.Set(); return nil, nil }}
	ops["clear"] = Op{Fields: on(nil), On: event, Run: func(c *Call) (any, error) { c.On.Event.Clear(); return nil, nil }}
	ops["is_set"] = Op{Fields: on(nil), On: event, Run: func(c *Call) (any, error) { return c.On.Event.IsSet(), nil }}
	ops["wait"] = Op{Fields: on(map[string]Field{"timeout": timeout}), Blocks: true, On: []string{"event", "condition", "barrier"}, Run: wait}
	ops["wait_for"] = Op{Fields: on(map[string]Field{"until": {Step, true}, "timeout": timeout}), Blocks: true, On: condition, Run: waitFor}
	ops["notify"] = Op{Fields: on(map[string]Field{"n": {Int, false}}), On: condition, Run: func(c *Call) (any, error) {
		n, ok := c.int("n")
		if !ok {
			n = 1
		}
		return nil, c.On.Condition.Notify(int(min(max(n, 0), math.MaxInt32)))
	}}
	ops["notify_all"] = Op{Fields: on(nil), On: condition, Run: func(c *Call) (any, error) {
		return nil, c.On.Condition.NotifyAll()
	}}
	ops["abort"] = Op{Fields: on(nil), On: barrier, Run: func(c *Call) (any, error) { c.On.Barrier.Abort(); return nil, nil }}
	ops["reset"] = Op{Fields: on(nil), On: barrier, Run: func(c *Call) (any, error) { c.On.Barrier.Reset(); return nil, nil }}
	ops["parties"] = Op{Fields: on(nil), On: barrier, Run: func(c *Call) (any, error) { return int64(c.On.Barrier.Parties()), nil }}
	ops["n_waiting"] = Op{Fields: on(nil), On: barrier, Run: func(c *Call) (any, error) { return int64(c.On.Barrier.NWaiting()), nil }}
	ops["broken"] = Op{Fields: on(nil), On: barrier, Run: func(c *Call) (any, error) { return c.On.Barrier.Broken(), nil }}
	ops["acquire_release_many"] = Op{Fields: on(map[string]Field{"n": {Int, true}}), Blocks: true, On: lockers, Run: acquireReleaseMany}
	return ops
}

func acquire(c *Call) (any, error) {
	l := c.On.locker()
	if block, ok := c.In["block"].(bool); ok && !block {
		return l.TryAcquire(), nil // CPython ignores the timeout of a non-blocking acquire
	}
	ctx, cancel := c.timeoutContext()
	defer cancel()
	err := l.Acquire(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil
	}
	return err == nil, err
}

func acquireReleaseMany(c *Call) (any, error) {
	n, _ := c.int("n")
	l := c.On.locker()
	ctx := context.Background()
	for range n {
		l.Acquire(ctx)
		if err := l.Release(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func wait(c *Call) (any, error) {
	ctx, cancel := c.timeoutContext()
	defer cancel()
	switch c.On.Type {
	case "event":
		return c.On.Event.Wait(ctx) == nil, nil
	case "condition":
		err := c.On.Condition.Wait(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return false, nil
		}
		return err == nil, err
	}
	if _, ok := c.In["timeout"]; !ok {
		// The barrier's own timeout applies.
		ctx = context.Background()
	}
	i, err := c.On.Barrier.Wait(ctx)
	var end *actionEnded
	if errors.As(err, &end) {
		// The action raised or exited: the party's program ends here, as
		// the uncaught exception or SystemExit would end it in CPython.
		if end.exit {
			driver.end()
			os.Exit(end.code)
		}
		c.r.ending = end.ending
		return nil, errUnrecorded
	}
	if err != nil {
		return nil, err
	}
	return int64(i), nil
}

func waitFor(c *Call) (any, error) {
	ctx, cancel := c.timeoutContext()
	defer cancel()
	var value any
	var err error
	werr := c.On.Condition.WaitFor(ctx, func() bool {
		value, err = c.r.evaluate(c.s.body[0], c.env)
		return err != nil || truthy(value)
	})
	switch {
	case werr != nil && !errors.Is(werr, context.DeadlineExceeded): // a timeout returns pred's last value
		return nil, werr
	case err != nil:
		return nil, err
	}
	return value, nil
}

// truthy is Python's truth value of a value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case Float:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case Dict:
		return len(v) > 0
	case Bytes:
		return len(v) > 0
	}
	return true
}

// actionEnded is the error of a barrier action that raised or exited.
type actionEnded struct{ *ending }

func (e *actionEnded) Error() string {
	if e.exit {
		return "the barrier's action exited"
	}
	return "the barrier's action raised: " + e.message
}

// setActions gives each barrier this process holds its action: the program
// runs in this process, recording its steps as "<program>/i".
func (r *runner) setActions() {
	for _, spec := range r.sc.resources {
		res := r.resources[spec.Name]
		if spec.Action == "" || res == nil {
			continue
		}
		prog := r.sc.programs[spec.Action]
		res.Barrier.SetAction(func() error {
			saved, savedIn := r.ending, r.inAction
			r.ending, r.inAction = nil, true
			r.steps(prog.steps, nil)
			end := r.ending
			r.ending, r.inAction = saved, savedIn
			if end != nil && (end.raised || end.exit) {
				return &actionEnded{end}
			}
			return nil
		})
	}
}
