package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"time"
)

// The proxies of the objects a manager serves by method name: a
// SyncManager's Queue, JoinableQueue, Event, Semaphore, BoundedSemaphore,
// Barrier and Array, and registered types (RegisterManaged). Their waits take
// a context: the server waits until its deadline, if any, and this process
// for the context; a wait that a deadline-less context ends first is
// abandoned with its connection (an item a Get took after all is lost, a
// semaphore acquired after all is released).

// QueueProxy is a managed Queue or JoinableQueue (CPython serves a
// queue.Queue for both: either has TaskDone and Join). Items are any value
// a managed object holds.
type QueueProxy struct{ proxy }

// EventProxy is a managed Event.
type EventProxy struct{ proxy }

// SemaphoreProxy is a managed Semaphore or BoundedSemaphore.
type SemaphoreProxy struct{ proxy }

// BarrierProxy is a managed Barrier, without an action.
type BarrierProxy struct{ proxy }

// ArrayProxy is a managed Array: a fixed number of items, with a typecode
// that, as the ValueProxy's, is recorded but not enforced.
type ArrayProxy struct{ proxy }

// ManagedProxy is an object of a registered type (RegisterManaged).
type ManagedProxy struct{ proxy }

// invoke calls method on the server; ctx bounds a wait (see above).
func (p *proxy) invoke(ctx context.Context, method string, args ...any) (any, error) {
	timeout := int64(-1)
	if ctx.Err() != nil {
		timeout = 0
	} else if dl, ok := ctx.Deadline(); ok {
		timeout = max(int64(time.Until(dl)), 0)
	}
	if ctx.Done() == nil || timeout == 0 {
		v, err := p.callMethod(method, timeout, args)
		return v, ctxError(ctx, err)
	}
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := p.callMethod(method, timeout, args)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, ctxError(ctx, r.err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The server times out at the same deadline: its answer
			// (ErrEmpty, ErrBroken...) is on its way.
			select {
			case r := <-done:
				return r.v, ctxError(ctx, r.err)
			case <-time.After(time.Second):
			}
		}
		if method == "acquire" {
			go func() {
				if r := <-done; r.v == true {
					p.callMethod("release", -1, args) // an owned lock's: the caller's id
				}
			}()
		}
		return nil, ctx.Err()
	}
}

// ctxError adds ctx's error to a wait's that ctx ended (ErrEmpty...). The
// server waits until ctx's deadline, so its answer may come before ctx's own
// timer has marked ctx done: a deadline that has passed counts as ended.
func ctxError(ctx context.Context, err error) error {
	if err == nil || ctx == canceled || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(dl) {
		cerr = context.DeadlineExceeded
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return &waitError{err, cerr}
}

func (p *proxy) callMethod(method string, timeout int64, args []any) (any, error) {
	if args == nil {
		args = []any{}
	}
	var v any
	err := p.c.do(opCall, p.id, func(b []byte) ([]byte, error) {
		b, _ = p.c.appendValue(b, method, 0)
		b = binary.AppendVarint(b, timeout)
		return p.c.appendValue(b, args, 0)
	}, func(d *decoder) error {
		var err error
		v, err = d.value(0)
		return err
	})
	return v, err
}

func (p *proxy) now(method string, args ...any) (any, error) {
	return p.callMethod(method, -1, args)
}

func boolResult(v any, err error) (bool, error) {
	b, _ := v.(bool)
	return b, err
}

// createServed makes an object served by method name.
func createServed[P any](m *Manager, kind byte, enc func(b []byte) []byte) (*P, error) {
	p, err := m.create(kind, func(b []byte) ([]byte, error) { return enc(b), nil })
	if err != nil {
		return nil, err
	}
	out := new(P)
	*any(out).(interface{ base() *proxy }).base() = p
	return out, nil
}

func varints(xs ...int64) func(b []byte) []byte {
	return func(b []byte) []byte {
		for _, x := range xs {
			b = binary.AppendVarint(b, x)
		}
		return b
	}
}

// Queue creates a managed Queue of at most maxsize items (0: unbounded).
func (m *Manager) Queue(maxsize int) (*QueueProxy, error) {
	return createServed[QueueProxy](m, kindQueue, varints(int64(maxsize)))
}

// JoinableQueue creates a managed JoinableQueue (the same queue as Queue's).
func (m *Manager) JoinableQueue(maxsize int) (*QueueProxy, error) { return m.Queue(maxsize) }

// Event creates a managed Event, clear.
func (m *Manager) Event() (*EventProxy, error) {
	return createServed[EventProxy](m, kindEvent, varints())
}

// Semaphore creates a managed Semaphore of initial value value.
func (m *Manager) Semaphore(value int) (*SemaphoreProxy, error) {
	return createServed[SemaphoreProxy](m, kindSemaphore, func(b []byte) []byte {
		return append(binary.AppendVarint(b, int64(value)), 0)
	})
}

// BoundedSemaphore creates a managed BoundedSemaphore: a release above
// value is ErrValue.
func (m *Manager) BoundedSemaphore(value int) (*SemaphoreProxy, error) {
	return createServed[SemaphoreProxy](m, kindSemaphore, func(b []byte) []byte {
		return append(binary.AppendVarint(b, int64(value)), 1)
	})
}

// Barrier creates a managed Barrier for parties processes; a timeout > 0
// is the default of a Wait whose context has no deadline (0: none).
func (m *Manager) Barrier(parties int, timeout time.Duration) (*BarrierProxy, error) {
	if timeout <= 0 {
		timeout = -1
	}
	return createServed[BarrierProxy](m, kindBarrier, varints(int64(parties), int64(timeout)))
}

// Array creates a managed Array of typecode ("i", "d"...) holding init.
func (m *Manager) Array(typecode string, init []any) (*ArrayProxy, error) {
	if init == nil {
		init = []any{}
	}
	var err error
	p, cerr := createServed[ArrayProxy](m, kindArray, func(b []byte) []byte {
		b, _ = m.c.appendValue(b, typecode, 0)
		b, err = m.c.appendValue(b, init, 0)
		return b
	})
	if err != nil {
		return nil, err
	}
	return p, cerr
}

// Managed creates, in the server, an object of the type registered as
// typeid (RegisterManaged); ErrValue if none is.
func (m *Manager) Managed(typeid string) (*ManagedProxy, error) {
	return createServed[ManagedProxy](m, kindRegistered, func(b []byte) []byte {
		b, _ = m.c.appendValue(b, typeid, 0)
		return b
	})
}

// Put appends v, waiting while the queue is full: ErrFull when ctx ends
// first (and ctx's error) or, for a ctx already done, at once.
func (q *QueueProxy) Put(ctx context.Context, v any) error {
	_, err := q.invoke(ctx, "put", v)
	return err
}

// Get removes and returns the first item, waiting while the queue is
// empty: ErrEmpty when ctx ends first (and ctx's error).
func (q *QueueProxy) Get(ctx context.Context) (any, error) { return q.invoke(ctx, "get") }

// PutNowait puts v if there is room, else fails with ErrFull.
func (q *QueueProxy) PutNowait(v any) error { return q.Put(canceled, v) }

// GetNowait gets an item if there is one, else fails with ErrEmpty.
func (q *QueueProxy) GetNowait() (any, error) { return q.Get(canceled) }

// Qsize returns the number of items.
func (q *QueueProxy) Qsize() (int, error) { return intResult(q.now("qsize")) }

// Empty reports whether the queue has no items.
func (q *QueueProxy) Empty() (bool, error) { return boolResult(q.now("empty")) }

// Full reports whether the queue has maxsize items.
func (q *QueueProxy) Full() (bool, error) { return boolResult(q.now("full")) }

// TaskDone says that an item got is processed; ErrValue when called more
// times than items were put.
func (q *QueueProxy) TaskDone() error {
	_, err := q.now("task_done")
	return err
}

// Join waits until every item put has had its TaskDone, or ctx ends.
func (q *QueueProxy) Join(ctx context.Context) error {
	_, err := q.invoke(ctx, "join")
	return err
}

// Set sets the flag, waking every waiter.
func (e *EventProxy) Set() error {
	_, err := e.now("set")
	return err
}

// Clear clears the flag.
func (e *EventProxy) Clear() error {
	_, err := e.now("clear")
	return err
}

// IsSet reports the flag.
func (e *EventProxy) IsSet() (bool, error) { return boolResult(e.now("is_set")) }

// Wait waits until the flag is set, or fails with ctx's error when ctx
// ends first.
func (e *EventProxy) Wait(ctx context.Context) error {
	ok, err := boolResult(e.invoke(ctx, "wait"))
	if err == nil {
		err = waitResult(ctx, ok)
	}
	return err
}

// Acquire decrements the value, waiting while it is 0, or fails with ctx's
// error when ctx ends first.
func (s *SemaphoreProxy) Acquire(ctx context.Context) error {
	ok, err := boolResult(s.invoke(ctx, "acquire"))
	if err == nil {
		err = waitResult(ctx, ok)
	}
	return err
}

// TryAcquire decrements the value if it is above 0.
func (s *SemaphoreProxy) TryAcquire() bool {
	ok, _ := boolResult(s.invoke(canceled, "acquire"))
	return ok
}

// Release increments the value; ErrValue above a BoundedSemaphore's
// initial value.
func (s *SemaphoreProxy) Release() error {
	_, err := s.now("release")
	return err
}

// Wait waits until every party has called Wait, and returns this party's
// index (0 for the first to arrive, as threading.Barrier's). It fails with
// ErrBroken if the barrier is or becomes broken, or when ctx (or, without
// a deadline, the barrier's timeout) ends first, which breaks it.
func (b *BarrierProxy) Wait(ctx context.Context) (int, error) {
	return intResult(b.invoke(ctx, "wait"))
}

// Abort breaks the barrier: waiters and later Waits fail with ErrBroken.
func (b *BarrierProxy) Abort() error {
	_, err := b.now("abort")
	return err
}

// Reset returns the barrier to its initial state; current waiters fail
// with ErrBroken.
func (b *BarrierProxy) Reset() error {
	_, err := b.now("reset")
	return err
}

// Parties returns the number of parties.
func (b *BarrierProxy) Parties() (int, error) { return intResult(b.now("parties")) }

// NWaiting returns the number of parties waiting.
func (b *BarrierProxy) NWaiting() (int, error) { return intResult(b.now("n_waiting")) }

// Broken reports whether the barrier is broken.
func (b *BarrierProxy) Broken() (bool, error) { return boolResult(b.now("broken")) }

// Get returns a[i] (negative from the end); ErrIndex out of range.
func (a *ArrayProxy) Get(i int) (any, error) { return a.now("get", i) }

// Set sets a[i] = v.
func (a *ArrayProxy) Set(i int, v any) error {
	_, err := a.now("set", i, v)
	return err
}

// Len returns the number of items.
func (a *ArrayProxy) Len() (int, error) { return intResult(a.now("len")) }

// Copy returns the items (a[:]).
func (a *ArrayProxy) Copy() ([]any, error) {
	v, err := a.now("copy")
	list, _ := v.([]any)
	return list, err
}

// Call calls the object's method called method with args; a method the
// type does not expose is ErrNotAllowed. ctx is the method's, if it takes
// one.
func (m *ManagedProxy) Call(ctx context.Context, method string, args ...any) (any, error) {
	return m.invoke(ctx, method, args...)
}

func (q *QueueProxy) MarshalJSON() ([]byte, error)     { return q.marshal() }
func (q *QueueProxy) UnmarshalJSON(b []byte) error     { return q.unmarshal(kindQueue, b) }
func (e *EventProxy) MarshalJSON() ([]byte, error)     { return e.marshal() }
func (e *EventProxy) UnmarshalJSON(b []byte) error     { return e.unmarshal(kindEvent, b) }
func (s *SemaphoreProxy) MarshalJSON() ([]byte, error) { return s.marshal() }
func (s *SemaphoreProxy) UnmarshalJSON(b []byte) error { return s.unmarshal(kindSemaphore, b) }
func (b *BarrierProxy) MarshalJSON() ([]byte, error)   { return b.marshal() }
func (b *BarrierProxy) UnmarshalJSON(d []byte) error   { return b.unmarshal(kindBarrier, d) }
func (a *ArrayProxy) MarshalJSON() ([]byte, error)     { return a.marshal() }
func (a *ArrayProxy) UnmarshalJSON(b []byte) error     { return a.unmarshal(kindArray, b) }
func (m *ManagedProxy) MarshalJSON() ([]byte, error)   { return m.marshal() }
func (m *ManagedProxy) UnmarshalJSON(b []byte) error   { return m.unmarshal(kindRegistered, b) }

// servedProxy is the proxy of a served kind, for proxyFor.
func servedProxy(p proxy) any {
	switch p.kind {
	case kindQueue:
		return &QueueProxy{p}
	case kindEvent:
		return &EventProxy{p}
	case kindSemaphore:
		return &SemaphoreProxy{p}
	case kindBarrier:
		return &BarrierProxy{p}
	case kindArray:
		return &ArrayProxy{p}
	case kindRegistered:
		return &ManagedProxy{p}
	case kindRLock:
		return &RLockProxy{p}
	case kindCondition:
		return &ConditionProxy{p}
	}
	return nil
}
