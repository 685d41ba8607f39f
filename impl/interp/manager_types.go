package interp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// The manager.types and manager.register families (protocol.md §5): a
// manager's queue, event, semaphore, barrier and array, served by method
// name, and the custom types of §5's catalogue. The queue, event, semaphore
// and barrier proxies take the ops of the primitives (servePrimitives); the
// array and custom types have ops of their own.

// counter is §5's custom type "counter": increment and get are exposed,
// secret is not.
type counter struct{ n int64 }

func (c *counter) Increment(by ...int64) int64 {
	if len(by) == 0 {
		by = []int64{1}
	}
	for _, b := range by {
		c.n += b
	}
	return c.n
}
func (c *counter) Get() int64     { return c.n }
func (c *counter) Secret() string { return "s3cret" }
func newCounter() *counter        { return &counter{} }

// fooBar is §5's custom type "foobar", registered without exposed: its
// exported methods f and g are exposed, and "_h", which Go cannot export,
// is not, as Python exposes a type's methods but those starting with "_".
type fooBar struct{}

func (fooBar) F() string { return "f()" }
func (fooBar) G() error  { return fmt.Errorf("%w: g() raised", mp.ErrValue) }

var _ = registerCustomTypes()

// customTypes lists §5's custom types, by typeid.
var customTypes = map[string]bool{"counter": true, "foobar": true}

func registerCustomTypes() bool {
	mp.RegisterManaged("counter", newCounter, "increment", "get")
	mp.RegisterManaged("foobar", func() fooBar { return fooBar{} })
	return true
}

// newServedProxy makes a managed object served by method name on its
// manager and exposes it under the resource's name.
func newServedProxy(r *Resource, spec ResourceSpec, made map[string]*Resource) error {
	m := made[spec.Manager].Manager
	var p mp.Proxy
	var err error
	switch spec.Type {
	case "manager.queue", "manager.joinable_queue":
		r.MQueue, err = m.Queue(int(spec.Maxsize))
		p = r.MQueue
	case "manager.event":
		r.MEvent, err = m.Event()
		p = r.MEvent
	case "manager.semaphore":
		r.MSemaphore, err = m.Semaphore(int(spec.Value))
		p = r.MSemaphore
	case "manager.bounded_semaphore":
		r.MSemaphore, err = m.BoundedSemaphore(int(spec.Value))
		p = r.MSemaphore
	case "manager.barrier":
		var timeout time.Duration // none
		if spec.Timeout != nil {
			timeout = max(*spec.Timeout, 1) // 0 breaks at once, as in CPython
		}
		r.MBarrier, err = m.Barrier(int(spec.Parties), timeout)
		p = r.MBarrier
	case "manager.array":
		c := &Call{r: &runner{resources: made}}
		var init any
		if init, err = c.toMP(spec.Init); err != nil {
			return err
		}
		list, _ := init.([]any)
		typecode := spec.Typecode
		if typecode == "" {
			typecode = "i"
		}
		r.MArray, err = m.Array(typecode, list)
		p = r.MArray
	case "manager.custom":
		r.MCustom, err = m.Managed(spec.Typeid)
		p = r.MCustom
	case "manager.rlock":
		r.MRLock, err = m.RLock()
		p = r.MRLock
	case "manager.condition":
		r.MCondition, err = m.Condition()
		p = r.MCondition
	}
	if err != nil {
		return err
	}
	return m.Expose(spec.Name, p)
}

// servedProxy returns the resource's proxy of a type served by method
// name, or nil.
func (r *Resource) servedProxy() mp.Proxy {
	switch {
	case r.MQueue != nil:
		return r.MQueue
	case r.MEvent != nil:
		return r.MEvent
	case r.MSemaphore != nil:
		return r.MSemaphore
	case r.MBarrier != nil:
		return r.MBarrier
	case r.MArray != nil:
		return r.MArray
	case r.MCustom != nil:
		return r.MCustom
	case r.MRLock != nil:
		return r.MRLock
	case r.MCondition != nil:
		return r.MCondition
	}
	return nil
}

// setServedProxy binds a proxy that manager.proxy got to r, with the type
// of the resource it names (a queue and a joinable queue have one proxy).
func setServedProxy(r *Resource, p mp.Proxy, specs []ResourceSpec) {
	if i := slices.IndexFunc(specs, func(s ResourceSpec) bool { return s.Name == r.Name }); i >= 0 {
		r.Type = specs[i].Type
	}
	switch p := p.(type) {
	case *mp.QueueProxy:
		r.MQueue = p
	case *mp.EventProxy:
		r.MEvent = p
	case *mp.SemaphoreProxy:
		r.MSemaphore = p
	case *mp.BarrierProxy:
		r.MBarrier = p
	case *mp.ArrayProxy:
		r.MArray = p
	case *mp.ManagedProxy:
		r.MCustom = p
	case *mp.RLockProxy:
		r.MRLock = p
	case *mp.ConditionProxy:
		r.MCondition = p
	}
}

// servedRuns are the primitives' ops on a manager's proxies: op name ->
// the proxy types and what the op does on them (nil: the op's own Run,
// which reaches the proxy through an interface, as acquire and release).
func servedRuns() map[string]struct {
	types []string
	run   func(c *Call) (any, error)
} {
	queues := []string{"manager.queue", "manager.joinable_queue"}
	event := []string{"manager.event"}
	barrier := []string{"manager.barrier"}
	sems := []string{"manager.semaphore", "manager.bounded_semaphore"}
	owned := []string{"manager.rlock", "manager.condition"}
	cond := []string{"manager.condition"}
	type entry = struct {
		types []string
		run   func(c *Call) (any, error)
	}
	// get and put wait for ctx, which nowait passes already done.
	get := func(c *Call, ctx context.Context) (any, error) { return c.fromMP(c.On.MQueue.Get(ctx)) }
	put := func(c *Call, ctx context.Context) (any, error) {
		v, err := c.toMP(c.In["value"])
		if err != nil {
			return nil, err
		}
		return nil, c.On.MQueue.Put(ctx, v)
	}
	blocking := func(op func(*Call, context.Context) (any, error)) func(*Call) (any, error) {
		return func(c *Call) (any, error) {
			ctx, cancel := c.blockContext()
			defer cancel()
			return op(c, ctx)
		}
	}
	nowait := func(op func(*Call, context.Context) (any, error)) func(*Call) (any, error) {
		return func(c *Call) (any, error) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return op(c, ctx)
		}
	}
	marray := []string{"manager.array"}
	return map[string]entry{
		// A manager's array takes sharedctypes' item ops.
		"array.get": {marray, func(c *Call) (any, error) {
			i, _ := c.int("at")
			return c.fromMP(c.On.MArray.Get(clampIndex(i)))
		}},
		"array.set": {marray, func(c *Call) (any, error) {
			v, _, err := c.mpArgs("value", "")
			if err != nil {
				return nil, err
			}
			i, _ := c.int("at")
			return nil, c.On.MArray.Set(clampIndex(i), v)
		}},
		"array.len":  {marray, func(c *Call) (any, error) { return int64Result(c.On.MArray.Len()) }},
		"put":        {queues, blocking(put)},
		"get":        {queues, blocking(get)},
		"put_nowait": {queues, nowait(put)},
		"get_nowait": {queues, nowait(get)},
		"qsize":      {queues, func(c *Call) (any, error) { return int64Result(c.On.MQueue.Qsize()) }},
		"empty":      {queues, func(c *Call) (any, error) { return c.On.MQueue.Empty() }},
		"full":       {queues, func(c *Call) (any, error) { return c.On.MQueue.Full() }},
		"task_done":  {queues, func(c *Call) (any, error) { return nil, c.On.MQueue.TaskDone() }},
		"join": {queues, func(c *Call) (any, error) {
			ctx, cancel := c.timeoutContext()
			defer cancel()
			if err := c.On.MQueue.Join(ctx); errors.Is(err, context.DeadlineExceeded) {
				return nil, errorf("Timeout", "join: tasks not done before the timeout")
			} else if err != nil {
				return nil, err
			}
			return nil, nil
		}},
		"set":    {event, func(c *Call) (any, error) { return nil, c.On.MEvent.Set() }},
		"clear":  {event, func(c *Call) (any, error) { return nil, c.On.MEvent.Clear() }},
		"is_set": {event, func(c *Call) (any, error) { return c.On.MEvent.IsSet() }},
		"wait": {slices.Concat(event, barrier, cond), func(c *Call) (any, error) {
			ctx, cancel := c.timeoutContext()
			defer cancel()
			if c.On.MCondition != nil {
				err := c.On.MCondition.Wait(ctx)
				if errors.Is(err, context.DeadlineExceeded) {
					return false, nil
				}
				return err == nil, err
			}
			if c.On.MEvent != nil {
				err := c.On.MEvent.Wait(ctx)
				if errors.Is(err, context.DeadlineExceeded) {
					return false, nil
				}
				return err == nil, err
			}
			if _, ok := c.In["timeout"]; !ok {
				ctx = context.Background() // the barrier's own timeout applies
			}
			return int64Result(c.On.MBarrier.Wait(ctx))
		}},
		"abort":     {barrier, func(c *Call) (any, error) { return nil, c.On.MBarrier.Abort() }},
		"reset":     {barrier, func(c *Call) (any, error) { return nil, c.On.MBarrier.Reset() }},
		"parties":   {barrier, func(c *Call) (any, error) { return int64Result(c.On.MBarrier.Parties()) }},
		"n_waiting": {barrier, func(c *Call) (any, error) { return int64Result(c.On.MBarrier.NWaiting()) }},
		"broken":    {barrier, func(c *Call) (any, error) { return c.On.MBarrier.Broken() }},
		"acquire":   {slices.Concat(sems, owned), nil},
		"release":   {slices.Concat(sems, owned), nil},
		"notify": {cond, func(c *Call) (any, error) {
			n, ok := c.int("n")
			if !ok {
				n = 1
			}
			return nil, c.On.MCondition.Notify(int(min(max(n, 0), math.MaxInt32)))
		}},
		"notify_all": {cond, func(c *Call) (any, error) { return nil, c.On.MCondition.NotifyAll() }},
	}
}

func int64Result(n int, err error) (any, error) { return int64(n), err }

// servePrimitives lets the primitives' ops act on a manager's proxies too.
func servePrimitives(ops map[string]Op) {
	for name, e := range servedRuns() {
		op := ops[name]
		op.On = append(slices.Clip(op.On), e.types...)
		if own, run := op.Run, e.run; run != nil {
			op.Run = func(c *Call) (any, error) {
				if c.On != nil && slices.Contains(e.types, c.On.Type) {
					return run(c)
				}
				return own(c)
			}
		}
		ops[name] = op
	}
}

// managerTypesOps are the ops of the array and custom types.
func managerTypesOps() map[string]Op {
	array := []string{"manager.array"}
	return map[string]Op{
		"array.copy": {Fields: on(nil), On: array, Run: func(c *Call) (any, error) {
			items, err := c.On.MArray.Copy()
			return c.fromMP(items, err)
		}},
		"custom.call": {Fields: on(map[string]Field{"method": {String, true}, "args": {List, false}}), Blocks: true,
			On: []string{"manager.custom"}, Run: func(c *Call) (any, error) {
				args, err := c.toMP(c.In["args"])
				if err != nil {
					return nil, err
				}
				list, _ := args.([]any)
				return c.fromMP(c.On.MCustom.Call(context.Background(), c.In["method"].(string), list...))
			}},
	}
}

// RefType is the type of the resource that v, a recorded {"ref"} value,
// names in the calling process ("" for any other value), as the mutants
// need to tell a nested proxy by the type it refers to.
func (c *Call) RefType(v any) string {
	if name, ok := v.(ref); ok {
		if r := c.r.resources[string(name)]; r != nil {
			return r.Type
		}
	}
	return ""
}
