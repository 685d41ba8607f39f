package mp

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// registered is the table of RegisterManaged: typeid -> type.
var registered sync.Map

type managedType struct {
	newObj  func() any
	exposed []string // the method names a proxy may call
}

// RegisterManaged registers a type that every Manager can serve, as
// CPython's BaseManager.register(typeid, callable, exposed): Manager.Managed
// (typeid) makes an object with newT in the server, and the ManagedProxy it
// returns calls the object's methods by name. exposed lists the names a
// proxy may call (none: every exported method); a name matches the method
// of that name, or with its first letter upper-cased ("increment" calls
// Increment). Calling any other is ErrNotAllowed.
//
// A method may take a context.Context first (it ends when the caller's
// does, or at shutdown), then arguments (the last may be variadic, for
// Python's optional ones) of the types managed values decode
// to (int64, or any integer or float type a number converts to; float64,
// string, bool, []byte, []any, Items, any); it returns nothing, a value, an
// error, or a value and an error. The server runs one call of an object at
// a time, so its methods need no locking of their own.
//
// Register at package initialization (a package-level var or init), as
// Register: the server is a process of its own, which must know the type
// before it serves.
func RegisterManaged[T any](typeid string, newT func() T, exposed ...string) {
	if _, dup := registered.LoadOrStore(typeid, managedType{func() any { return newT() }, exposed}); dup {
		panic(fmt.Sprintf("mp: RegisterManaged: typeid %q registered twice", typeid))
	}
}

// servedRegistered is an object of a registered type.
type servedRegistered struct {
	mu  sync.Mutex
	typ managedType
	obj reflect.Value
}

func newRegistered(typeid string) (servedObject, error) {
	t, ok := registered.Load(typeid)
	if !ok {
		return nil, fmt.Errorf("%w: no managed type %q is registered", ErrValue, typeid)
	}
	mt := t.(managedType)
	return &servedRegistered{typ: mt, obj: reflect.ValueOf(mt.newObj())}, nil
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

func (r *servedRegistered) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	m, err := r.method(method)
	if err != nil {
		return nil, err
	}
	t := m.Type()
	var in []reflect.Value
	if t.NumIn() > 0 && t.In(0) == ctxType {
		in = append(in, reflect.ValueOf(ctx))
	}
	fixed := t.NumIn() - len(in)
	if t.IsVariadic() {
		fixed--
	}
	if len(args) < fixed || (!t.IsVariadic() && len(args) > fixed) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrValue, method, fixed, len(args))
	}
	for k, a := range args {
		pt := t.In(min(len(in), t.NumIn()-1))
		if k >= fixed {
			pt = t.In(t.NumIn() - 1).Elem()
		}
		v, _ := (*managerClient)(nil).decodeOne(a)
		x, err := convertArg(v, pt)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %d: %w", method, k, err)
		}
		in = append(in, x)
	}
	out, err := r.invoke(m, in)
	if err != nil {
		return nil, err
	}
	var result any
	if n := len(out); n > 0 && t.Out(n-1) == errType {
		if e := out[n-1].Interface(); e != nil {
			return nil, e.(error)
		}
		out = out[:n-1]
	}
	if len(out) > 0 {
		result = out[0].Interface()
	}
	return (*managerClient)(nil).appendValue(nil, result, 0)
}

// invoke calls m, one call of the object at a time; a panic fails the
// call, not the server.
func (r *servedRegistered) invoke(m reflect.Value, in []reflect.Value) (out []reflect.Value, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mp: managed method panicked: %v", p)
		}
	}()
	return m.Call(in), nil
}

// method is the exposed method called name.
func (r *servedRegistered) method(name string) (reflect.Value, error) {
	if len(r.typ.exposed) > 0 && !slices.Contains(r.typ.exposed, name) {
		return reflect.Value{}, fmt.Errorf("%w: method %q is not exposed", ErrNotAllowed, name)
	}
	for _, n := range []string{name, strings.ToUpper(name[:min(1, len(name))]) + name[min(1, len(name)):]} {
		if m := r.obj.MethodByName(n); m.IsValid() {
			t := m.Type()
			if t.NumOut() <= 2 && (t.NumOut() < 2 || t.Out(1) == errType) {
				return m, nil
			}
		}
	}
	return reflect.Value{}, fmt.Errorf("%w: %q", errNoMethod, name)
}

// convertArg converts a decoded value to a method's parameter type t.
func convertArg(v any, t reflect.Type) (reflect.Value, error) {
	if v == nil {
		return reflect.Zero(t), nil
	}
	rv := reflect.ValueOf(v)
	if rv.Type().AssignableTo(t) {
		return rv, nil
	}
	x := reflect.New(t).Elem()
	switch v := v.(type) {
	case int64:
		switch {
		case x.CanInt() && !x.OverflowInt(v):
			x.SetInt(v)
			return x, nil
		case x.CanUint() && v >= 0 && !x.OverflowUint(uint64(v)):
			x.SetUint(uint64(v))
			return x, nil
		case x.CanFloat():
			x.SetFloat(float64(v))
			return x, nil
		}
	case float64:
		if x.CanFloat() {
			x.SetFloat(v)
			return x, nil
		}
	}
	return x, fmt.Errorf("%w: a %T is no %v", ErrValue, v, t)
}
