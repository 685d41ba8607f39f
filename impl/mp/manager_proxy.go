package mp

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// A Proxy is a DictProxy, ListProxy, NamespaceProxy, ValueProxy,
// LockProxy, or a proxy of an object served by method name (QueueProxy,
// EventProxy, SemaphoreProxy, BarrierProxy, ArrayProxy, ManagedProxy): a handle on an object that a Manager's server owns.
//
// Proxies are values of managed objects too: a ListProxy stored in a
// DictProxy stays the same list, shared (as in CPython since 3.6), and
// reading it back gives a proxy of it. A proxy travels to a child as (part
// of) the argument of New; the child connects to the server itself.
type Proxy interface {
	// ID identifies the object on its manager's server.
	ID() uint64
	// ExposedName returns the name the object was exposed under (see
	// Manager.Expose), or "" if none.
	ExposedName() (string, error)
	base() *proxy
}

type proxy struct {
	c    *managerClient
	kind byte
	id   uint64
}

func (p *proxy) ID() uint64   { return p.id }
func (p *proxy) base() *proxy { return p }

// ExposedName returns the name the object was exposed under (see
// Manager.Expose), or "" if none.
func (p *proxy) ExposedName() (string, error) {
	var name string
	err := p.c.do(opName, p.id, nil, func(d *decoder) error {
		v, err := d.value(0)
		name, _ = v.(string)
		return err
	})
	return name, err
}

// DictProxy is a managed dict. Keys are nil, bools, integers, floats,
// strings and bytes, with Python's equality (1, 1.0 and true are one key;
// "1" is another); values are any value a managed object holds (see
// Items). A missing key is ErrKey.
type DictProxy struct{ proxy }

// ListProxy is a managed list. Indexes count from the end when negative,
// as in Python; out of range is ErrIndex.
type ListProxy struct{ proxy }

// NamespaceProxy is a managed Namespace: attributes by name; a missing one
// is ErrKey (Python's AttributeError).
type NamespaceProxy struct{ proxy }

// ValueProxy is a managed Value: one value, with a typecode that, as in
// CPython's manager, documents it but is not enforced.
type ValueProxy struct{ proxy }

// LockProxy is a managed Lock (CPython's manager.Lock, a threading.Lock in
// the server): no owner, releasing it unlocked is ErrValue. It holds
// read-modify-writes of other proxies exact.
type LockProxy struct{ proxy }

func (cl *managerClient) proxyFor(kind byte, id uint64) any {
	if cl == nil {
		return refValue{kind, id}
	}
	p := proxy{c: cl, kind: kind, id: id}
	switch kind {
	case kindDict:
		return &DictProxy{p}
	case kindList:
		return &ListProxy{p}
	case kindNamespace:
		return &NamespaceProxy{p}
	case kindValue:
		return &ValueProxy{p}
	case kindLock:
		return &LockProxy{p}
	}
	if sp := servedProxy(p); sp != nil {
		return sp
	}
	return refValue{kind, id}
}

// create makes an object on the server.
func (m *Manager) create(kind byte, enc func(b []byte) ([]byte, error)) (proxy, error) {
	var p proxy
	err := m.c.do(opCreate, 0, func(b []byte) ([]byte, error) {
		b = append(b, kind)
		if enc == nil {
			return b, nil
		}
		return enc(b)
	}, func(d *decoder) error {
		v, err := d.value(0)
		if err != nil {
			return err
		}
		pr, ok := v.(Proxy)
		if !ok {
			return errMalformed
		}
		p = *pr.base()
		return nil
	})
	return p, err
}

// Dict creates a managed dict holding init's items (none if nil).
func (m *Manager) Dict(init Items) (*DictProxy, error) {
	p, err := m.create(kindDict, func(b []byte) ([]byte, error) {
		if init == nil {
			return append(b, tagNil), nil
		}
		return m.c.appendValue(b, init, 0)
	})
	if err != nil {
		return nil, err
	}
	return &DictProxy{p}, nil
}

// List creates a managed list holding init's items.
func (m *Manager) List(init []any) (*ListProxy, error) {
	p, err := m.create(kindList, func(b []byte) ([]byte, error) {
		if init == nil {
			init = []any{}
		}
		return m.c.appendValue(b, init, 0)
	})
	if err != nil {
		return nil, err
	}
	return &ListProxy{p}, nil
}

// Namespace creates a managed Namespace without attributes.
func (m *Manager) Namespace() (*NamespaceProxy, error) {
	p, err := m.create(kindNamespace, func(b []byte) ([]byte, error) { return append(b, tagNil), nil })
	if err != nil {
		return nil, err
	}
	return &NamespaceProxy{p}, nil
}

// Value creates a managed Value holding init; typecode ("i", "d", "c"...)
// is CPython's, recorded but not enforced.
func (m *Manager) Value(typecode string, init any) (*ValueProxy, error) {
	p, err := m.create(kindValue, func(b []byte) ([]byte, error) {
		b, _ = m.c.appendValue(b, typecode, 0)
		return m.c.appendValue(b, init, 0)
	})
	if err != nil {
		return nil, err
	}
	return &ValueProxy{p}, nil
}

// Lock creates a managed Lock, unlocked.
func (m *Manager) Lock() (*LockProxy, error) {
	p, err := m.create(kindLock, nil)
	if err != nil {
		return nil, err
	}
	return &LockProxy{p}, nil
}

// Expose publishes p's object under name, so that a process that connects
// to the manager (ConnectManager) can get a proxy of it with Proxy(name),
// as CPython's BaseManager.register publishes objects by typeid.
func (m *Manager) Expose(name string, p Proxy) error {
	b := p.base()
	if b.c == nil || b.c.token != m.c.token {
		return fmt.Errorf("%w: the proxy is not of this manager", ErrValue)
	}
	return m.c.do(opExpose, b.id, func(buf []byte) ([]byte, error) { return m.c.appendValue(buf, name, 0) }, nil)
}

// Proxy returns a proxy of the object exposed under name; ErrKey if none.
func (m *Manager) Proxy(name string) (Proxy, error) {
	var p Proxy
	err := m.c.do(opLookup, 0, func(b []byte) ([]byte, error) { return m.c.appendValue(b, name, 0) },
		func(d *decoder) error {
			v, err := d.value(0)
			if err != nil {
				return err
			}
			var ok bool
			if p, ok = v.(Proxy); !ok {
				return errMalformed
			}
			return nil
		})
	return p, err
}

// call sends op with the encoded args and decodes the reply's value.
func (p *proxy) call(op byte, args ...any) (any, error) {
	var v any
	err := p.c.do(op, p.id, func(b []byte) ([]byte, error) {
		var err error
		for _, a := range args {
			switch a := a.(type) {
			case rawByte:
				b = append(b, byte(a))
			case rawInt:
				b = binary.AppendVarint(b, int64(a))
			default:
				if b, err = p.c.appendValue(b, a, 0); err != nil {
					return b, err
				}
			}
		}
		return b, nil
	}, func(d *decoder) error {
		var err error
		v, err = d.value(0)
		return err
	})
	return v, err
}

// rawByte and rawInt are request arguments that are not values.
type (
	rawByte byte
	rawInt  int64
)

func (p *proxy) exec(op byte, args ...any) error {
	_, err := p.call(op, args...)
	return err
}

// Set sets d[key] = value.
func (d *DictProxy) Set(key, value any) error { return d.exec(opSet, key, value) }

// Get returns d[key]; ErrKey when missing.
func (d *DictProxy) Get(key any) (any, error) { return d.call(opGet, key, rawByte(0)) }

// GetDefault returns d.get(key, def).
func (d *DictProxy) GetDefault(key, def any) (any, error) { return d.call(opGet, key, rawByte(1), def) }

// Delete deletes d[key]; ErrKey when missing.
func (d *DictProxy) Delete(key any) error { return d.exec(opDel, key) }

// Pop removes d[key] and returns it; ErrKey when missing.
func (d *DictProxy) Pop(key any) (any, error) { return d.call(opPop, key, rawByte(0)) }

// SetDefault sets d[key] = value unless key is present, and returns the
// value now stored.
func (d *DictProxy) SetDefault(key, value any) (any, error) { return d.call(opSetDefault, key, value) }

// Update sets each item.
func (d *DictProxy) Update(items Items) error { return d.exec(opUpdate, items) }

// Len returns the number of keys.
func (d *DictProxy) Len() (int, error) { return intResult(d.call(opLen)) }

// Contains reports whether key is present.
func (d *DictProxy) Contains(key any) (bool, error) {
	v, err := d.call(opContains, key)
	b, _ := v.(bool)
	return b, err
}

// Copy returns the items, in insertion order.
func (d *DictProxy) Copy() (Items, error) {
	v, err := d.call(opCopy)
	items, _ := v.(Items)
	return items, err
}

// Clear removes every key.
func (d *DictProxy) Clear() error { return d.exec(opClear) }

// Append appends value.
func (l *ListProxy) Append(value any) error { return l.exec(opAppend, value) }

// Extend appends the items of values.
func (l *ListProxy) Extend(values []any) error {
	if values == nil {
		values = []any{}
	}
	return l.exec(opExtend, values)
}

// Get returns l[i].
func (l *ListProxy) Get(i int) (any, error) { return l.call(opIndexGet, rawInt(i)) }

// Set sets l[i] = value.
func (l *ListProxy) Set(i int, value any) error { return l.exec(opIndexSet, rawInt(i), value) }

// Pop removes l[i] and returns it (Pop(-1) is Python's pop()).
func (l *ListProxy) Pop(i int) (any, error) { return l.call(opListPop, rawInt(i)) }

// Insert inserts value before index i (clamped, as in Python).
func (l *ListProxy) Insert(i int, value any) error { return l.exec(opInsert, rawInt(i), value) }

// Remove removes the first item equal to value; ErrValue if none.
func (l *ListProxy) Remove(value any) error { return l.exec(opRemove, value) }

// Reverse reverses the list in place.
func (l *ListProxy) Reverse() error { return l.exec(opReverse) }

// Len returns the number of items.
func (l *ListProxy) Len() (int, error) { return intResult(l.call(opLen)) }

// Copy returns the items.
func (l *ListProxy) Copy() ([]any, error) {
	v, err := l.call(opCopy)
	list, _ := v.([]any)
	return list, err
}

// Clear removes every item.
func (l *ListProxy) Clear() error { return l.exec(opClear) }

// Set sets attribute attr.
func (n *NamespaceProxy) Set(attr string, value any) error { return n.exec(opSet, attr, value) }

// Get returns attribute attr; ErrKey if it is not set.
func (n *NamespaceProxy) Get(attr string) (any, error) { return n.call(opGet, attr, rawByte(0)) }

// Delete deletes attribute attr; ErrKey if it is not set.
func (n *NamespaceProxy) Delete(attr string) error { return n.exec(opDel, attr) }

// Get returns the value.
func (v *ValueProxy) Get() (any, error) { return v.call(opValueGet) }

// Set sets the value.
func (v *ValueProxy) Set(value any) error { return v.exec(opValueSet, value) }

// Acquire takes the lock, waiting until it is free or ctx ends: then it
// fails with ctx's error. The server waits until ctx's deadline, if any,
// and this process for its answer; a request that a cancellation ends
// first is abandoned with its connection (a lock it acquires after all is
// released). A ctx
// already done makes it only try. It fails with ErrClosed once the manager
// is shut down.
func (l *LockProxy) Acquire(ctx context.Context) error {
	if ctx.Done() == nil || ctx.Err() != nil {
		timeout := int64(-1)
		if ctx.Err() != nil {
			timeout = 0
		}
		v, err := l.call(opAcquire, rawInt(timeout))
		if err != nil {
			return err
		}
		ok, _ := v.(bool)
		return waitResult(ctx, ok)
	}
	timeout := int64(-1)
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(int64(time.Until(dl)), 0)
	}
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := l.call(opAcquire, rawInt(timeout))
		ok, _ := v.(bool)
		done <- result{ok, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.err
		}
		return waitResult(ctx, r.ok)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The server times out at the same deadline: its answer is on
			// its way. Abandoned, its acquire could still take the lock
			// once another process frees it, and hold it until the
			// goroutine below gave it back.
			select {
			case r := <-done:
				if r.err != nil {
					return r.err
				}
				return waitResult(ctx, r.ok)
			case <-time.After(time.Second):
			}
		}
		go func() {
			// Acquired after all: give it back, as nobody holds it.
			if r := <-done; r.ok {
				l.Release()
			}
		}()
		return ctx.Err()
	}
}

// TryAcquire takes the lock if it is free.
func (l *LockProxy) TryAcquire() bool {
	v, _ := l.call(opAcquire, rawInt(0))
	ok, _ := v.(bool)
	return ok
}

// Release releases the lock, whoever acquired it: ErrNotAllowed if it is not
// locked, as threading.Lock's RuntimeError.
func (l *LockProxy) Release() error { return l.exec(opRelease) }

func intResult(v any, err error) (int, error) {
	i, _ := v.(int64)
	return int(i), err
}

// proxyJSON is how a proxy travels to a child.
type proxyJSON struct {
	Type    string          `json:"type"`
	Kind    string          `json:"kind"`
	ID      uint64          `json:"id"`
	Manager json.RawMessage `json:"manager"`
}

func (p *proxy) marshal() ([]byte, error) {
	m, err := p.c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return json.Marshal(proxyJSON{Type: "proxy", Kind: string(p.kind), ID: p.id, Manager: m})
}

func (p *proxy) unmarshal(kind byte, data []byte) error {
	var j proxyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Type != "proxy" || j.Kind != string(kind) {
		return fmt.Errorf("mp: decoding a proxy of kind %q from a %s of kind %q", kind, j.Type, j.Kind)
	}
	cl, err := decodeClient(j.Manager)
	if err != nil {
		return err
	}
	p.c, p.kind, p.id = cl, kind, j.ID
	return nil
}

// MarshalJSON encodes the proxy for a child being started.
func (d *DictProxy) MarshalJSON() ([]byte, error) { return d.marshal() }

// UnmarshalJSON takes, in a child, the proxy its parent passed.
func (d *DictProxy) UnmarshalJSON(b []byte) error { return d.unmarshal(kindDict, b) }

// MarshalJSON encodes the proxy for a child being started.
func (l *ListProxy) MarshalJSON() ([]byte, error) { return l.marshal() }

// UnmarshalJSON takes, in a child, the proxy its parent passed.
func (l *ListProxy) UnmarshalJSON(b []byte) error { return l.unmarshal(kindList, b) }

// MarshalJSON encodes the proxy for a child being started.
func (n *NamespaceProxy) MarshalJSON() ([]byte, error) { return n.marshal() }

// UnmarshalJSON takes, in a child, the proxy its parent passed.
func (n *NamespaceProxy) UnmarshalJSON(b []byte) error { return n.unmarshal(kindNamespace, b) }

// MarshalJSON encodes the proxy for a child being started.
func (v *ValueProxy) MarshalJSON() ([]byte, error) { return v.marshal() }

// UnmarshalJSON takes, in a child, the proxy its parent passed.
func (v *ValueProxy) UnmarshalJSON(b []byte) error { return v.unmarshal(kindValue, b) }

// MarshalJSON encodes the proxy for a child being started.
func (l *LockProxy) MarshalJSON() ([]byte, error) { return l.marshal() }

// UnmarshalJSON takes, in a child, the proxy its parent passed.
func (l *LockProxy) UnmarshalJSON(b []byte) error { return l.unmarshal(kindLock, b) }

// As converts what a proxy op returns to a Go type, for typed code:
//
//	n, err := mp.As[int](d.Get("n"))
//
// A value already of type T is returned as is; an int64 converts to any
// integer type it fits, an int64 or float64 to a float type; anything else
// (a wrong type, or an integer out of range) is ErrValue. An error passes
// through.
func As[T any](v any, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if t, ok := v.(T); ok {
		return t, nil
	}
	rt := reflect.TypeFor[T]()
	if v != nil {
		if x, err := convertArg(v, rt); err == nil {
			return x.Interface().(T), nil
		}
	}
	return zero, fmt.Errorf("%w: a managed %T is no %v", ErrValue, v, rt)
}
