package interp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/mpconform/mpconform/impl/mp"
)

// sharedTypes are the resource types of the sharedctypes family: value and
// array are synchronized unless made with lock: false, which makes them
// raw_value and raw_array (the type acquire, release and shared.get_lock
// refuse, as CPython's AttributeError).
var sharedTypes = []string{"value", "array", "raw_value", "raw_array"}

// sharedctypesOps are the ops of the sharedctypes family (protocol.md §6).
func sharedctypesOps() map[string]Op {
	ops := map[string]Op{}
	values := []string{"value", "raw_value", "array", "raw_array"} // an array: a 'c' one's .value
	arrays := []string{"array", "raw_array"}
	bound := map[string]Field{"start": {Int, false}, "stop": {Int, false}}
	run := func(f func(s *sharedRes, c *Call) (any, error)) func(*Call) (any, error) {
		return func(c *Call) (any, error) { return f(c.On.Shared, c) }
	}
	ops["shared.get"] = Op{Fields: on(nil), On: values, Run: run((*sharedRes).getValue)}
	ops["shared.set"] = Op{Fields: on(map[string]Field{"value": {Value, true}}), On: values, Run: run((*sharedRes).setValue)}
	ops["shared.incr"] = Op{Fields: on(map[string]Field{"by": {Number, false}}), On: []string{"value", "raw_value"},
		Run: run((*sharedRes).incr)}
	ops["shared.get_lock"] = Op{Fields: on(nil), On: []string{"value", "array"}, Run: run(func(s *sharedRes, _ *Call) (any, error) {
		if _, ok := s.obj.lock().(*mp.Lock); ok {
			return "lock", nil
		}
		return "rlock", nil
	})}
	ops["array.len"] = Op{Fields: on(nil), On: arrays, Run: run(func(s *sharedRes, _ *Call) (any, error) {
		return int64(s.obj.length()), nil
	})}
	ops["array.get"] = Op{Fields: on(map[string]Field{"at": {Int, true}}), On: arrays, Run: run(func(s *sharedRes, c *Call) (any, error) {
		i, err := s.index(c)
		if err != nil {
			return nil, err
		}
		return s.obj.get(i), nil
	})}
	ops["array.set"] = Op{Fields: on(map[string]Field{"at": {Int, true}, "value": {Value, true}}), On: arrays,
		Run: run(func(s *sharedRes, c *Call) (any, error) {
			i, err := s.index(c)
			if err != nil {
				return nil, err
			}
			return nil, s.obj.set(i, c.In["value"])
		})}
	ops["array.slice"] = Op{Fields: on(bound), On: arrays, Run: run(func(s *sharedRes, c *Call) (any, error) {
		lo, hi := s.bounds(c)
		return s.obj.slice(lo, hi), nil
	})}
	ops["array.set_slice"] = Op{Fields: on(map[string]Field{"start": {Int, false}, "stop": {Int, false}, "value": {Value, true}}),
		On: arrays, Run: run(func(s *sharedRes, c *Call) (any, error) {
			lo, hi := s.bounds(c)
			return nil, s.obj.setSlice(lo, hi, c.In["value"])
		})}
	ops["array.raw"] = Op{Fields: on(nil), On: arrays, Run: run(func(s *sharedRes, _ *Call) (any, error) {
		if s.Typecode != "c" {
			return nil, errorf("Error", "a %q array has no raw", s.Typecode)
		}
		return s.obj.slice(0, s.obj.length()), nil
	})}
	ops["shared.incr_many"] = Op{Fields: on(map[string]Field{"n": {Int, true}}), Blocks: true, On: []string{"value", "raw_value"},
		Run: run(func(s *sharedRes, c *Call) (any, error) {
			n, _ := c.int("n")
			return n, s.obj.incrMany(int(min(n, math.MaxInt32)))
		})}
	ops["array.copy_many"] = Op{Fields: on(map[string]Field{"n": {Int, true}}), Blocks: true, On: arrays,
		Run: run(func(s *sharedRes, c *Call) (any, error) {
			n, _ := c.int("n")
			s.obj.copyMany(int(min(n, math.MaxInt32)))
			return n, nil
		})}
	return ops
}

// A sharedRes is a value or array resource: its typecode, and the mp.Value
// or mp.Array of the typecode's Go type behind sharedObj.
type sharedRes struct {
	Typecode string          `json:"typecode"`
	Array    bool            `json:"array"`
	Obj      json.RawMessage `json:"obj"`
	obj      sharedObj
}

// A sharedObj is an mp.Value[T] or mp.Array[T] with its items as values
// (§4). Indices and bounds are checked by the caller.
type sharedObj interface {
	length() int
	get(i int) any
	set(i int, v any) error
	slice(lo, hi int) any
	setSlice(lo, hi int, v any) error
	incr(by any) (any, error)
	incrMany(n int) error
	copyMany(n int)
	lock() mp.Locker
	marshal() ([]byte, error)
	unmarshal([]byte) error
}

// typecodes maps each typecode to a maker of its sharedObj (Linux's LP64: 'l'
// and 'L' are 64-bit).
var typecodes = map[string]func() sharedObj{
	"b": func() sharedObj { return &typed[int8]{} }, "B": func() sharedObj { return &typed[uint8]{} },
	"h": func() sharedObj { return &typed[int16]{} }, "H": func() sharedObj { return &typed[uint16]{} },
	"i": func() sharedObj { return &typed[int32]{} }, "I": func() sharedObj { return &typed[uint32]{} },
	"l": func() sharedObj { return &typed[int64]{} }, "L": func() sharedObj { return &typed[uint64]{} },
	"q": func() sharedObj { return &typed[int64]{} }, "Q": func() sharedObj { return &typed[uint64]{} },
	"f": func() sharedObj { return &typed[float32]{} }, "d": func() sharedObj { return &typed[float64]{} },
	"c": func() sharedObj { return &typed[uint8]{char: true} },
}

// typed is the sharedObj of element type T: v for a value, a for an array.
type typed[T mp.Number] struct {
	char bool // typecode 'c': items are bytes of length 1
	v    *mp.Value[T]
	a    *mp.Array[T]
}

func isFloat[T mp.Number]() bool { var x T = 1; x /= 2; return x != 0 }

// item converts a value to a T as ctypes does: a float item takes an int or
// a float, an int item an int or a bool (and keeps its low bits), a 'c' item
// bytes of length 1 or an int below 256.
func (t *typed[T]) item(v any) (T, error) {
	switch x := v.(type) {
	case bool:
		if !t.char {
			return T(boolInt(x)), nil
		}
	case int64:
		if !t.char || (x >= 0 && x < 256) {
			if isFloat[T]() {
				return T(float64(x)), nil
			}
			return T(x), nil
		}
	case Float:
		if isFloat[T]() {
			return T(float64(x)), nil
		}
	case Bytes:
		if t.char && len(x) == 1 {
			return T(x[0]), nil
		}
	}
	return 0, errorf("ValueError", "%s is no %s item", displayValue(v), t.kind())
}

func (t *typed[T]) kind() string {
	switch {
	case t.char:
		return "'c'"
	case isFloat[T]():
		return "float"
	}
	return "int"
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (t *typed[T]) value(x T) any {
	switch {
	case t.char:
		return Bytes{byte(x)}
	case isFloat[T]():
		return Float(float64(x))
	}
	return int64(x)
}

func (t *typed[T]) length() int { return t.a.Len() }

func (t *typed[T]) get(i int) any {
	if t.v != nil {
		return t.value(t.v.Load())
	}
	x, _ := t.a.Get(i)
	return t.value(x)
}

func (t *typed[T]) set(i int, v any) error {
	x, err := t.item(v)
	if err != nil {
		return err
	}
	if t.v != nil {
		t.v.Store(x)
		return nil
	}
	return t.a.Set(i, x)
}

func (t *typed[T]) items(lo, hi int) []T {
	xs, _ := t.a.Slice(lo, hi)
	return xs
}

func (t *typed[T]) slice(lo, hi int) any {
	xs := t.items(lo, hi)
	if t.char {
		b := make(Bytes, len(xs))
		for i, x := range xs {
			b[i] = byte(x)
		}
		return b
	}
	list := make([]any, len(xs))
	for i, x := range xs {
		list[i] = t.value(x)
	}
	return list
}

// fromValue converts a list of items (bytes, for 'c') to Ts.
func (t *typed[T]) fromValue(v any) ([]T, error) {
	var list []any
	switch x := v.(type) {
	case Bytes:
		if !t.char {
			return nil, errorf("ValueError", "bytes are not %s items", t.kind())
		}
		xs := make([]T, len(x))
		for i, b := range x {
			xs[i] = T(b)
		}
		return xs, nil
	case []any:
		list = x
	default:
		return nil, errorf("ValueError", "%s is not a list of items", displayValue(v))
	}
	xs := make([]T, len(list))
	for i, item := range list {
		var err error
		if xs[i], err = t.item(item); err != nil {
			return nil, err
		}
	}
	return xs, nil
}

func (t *typed[T]) setSlice(lo, hi int, v any) error {
	xs, err := t.fromValue(v)
	if err != nil {
		return err
	}
	return t.a.SetSlice(lo, hi, xs)
}

func (t *typed[T]) incr(by any) (any, error) {
	d, err := t.item(by)
	if err != nil || t.char {
		return nil, errorf("ValueError", "cannot add %s to a %s value", displayValue(by), t.kind())
	}
	x := t.v.Load() + d
	t.v.Store(x)
	return t.value(x), nil
}

func (t *typed[T]) incrMany(n int) error {
	ctx := context.Background()
	add := func(x T) T { return x + 1 }
	for range n {
		if _, err := t.v.Update(ctx, add); err != nil {
			return err
		}
	}
	return nil
}

func (t *typed[T]) copyMany(n int) {
	buf := make([]T, t.a.Len())
	for range n {
		t.a.CopyTo(buf)
	}
}

func (t *typed[T]) lock() mp.Locker {
	if t.v != nil {
		return t.v.GetLock()
	}
	return t.a.GetLock()
}

func (t *typed[T]) marshal() ([]byte, error) {
	if t.v != nil {
		return t.v.MarshalJSON()
	}
	return t.a.MarshalJSON()
}

func (t *typed[T]) unmarshal(data []byte) error {
	if t.a == nil {
		t.v = new(mp.Value[T])
		return t.v.UnmarshalJSON(data)
	}
	return t.a.UnmarshalJSON(data)
}

// newTyped makes the mp object of a value or array resource, with the
// checked init of its spec.
func (t *typed[T]) make(spec ResourceSpec, lock mp.Locker) error {
	var opts []mp.SharedOption
	switch {
	case spec.Type == "raw_value" || spec.Type == "raw_array" || spec.NoLock:
		opts = append(opts, mp.WithoutLock())
	case lock != nil:
		opts = append(opts, mp.WithLock(lock))
	}
	var err error
	if spec.Type == "value" || spec.Type == "raw_value" {
		var x T
		if spec.Init != nil {
			x, _ = t.item(spec.Init)
		}
		t.v, err = mp.NewValue(x, opts...)
		return err
	}
	if spec.Size != nil {
		t.a, err = mp.NewArray[T](int(*spec.Size), opts...)
		return err
	}
	xs, _ := t.fromValue(spec.Init)
	t.a, err = mp.NewArrayOf(xs, opts...)
	return err
}

// newSharedResource makes a value or array resource; made holds its lock.
func newSharedResource(r *Resource, spec ResourceSpec, made map[string]*Resource) error {
	var lock mp.Locker
	if spec.Lock != "" {
		if l := made[spec.Lock]; l.Lock != nil {
			lock = l.Lock
		} else {
			lock = l.RLock
		}
	}
	s := &sharedRes{Typecode: spec.Typecode, Array: spec.Type == "array" || spec.Type == "raw_array"}
	obj := typecodes[spec.Typecode]()
	if err := obj.(interface {
		make(ResourceSpec, mp.Locker) error
	}).make(spec, lock); err != nil {
		return err
	}
	s.obj = obj
	r.Shared = s
	if spec.NoLock {
		r.Type = "raw_" + spec.Type
	}
	return nil
}

func (s *sharedRes) MarshalJSON() ([]byte, error) {
	obj, err := s.obj.marshal()
	if err != nil {
		return nil, err
	}
	type plain sharedRes
	return json.Marshal(plain{Typecode: s.Typecode, Array: s.Array, Obj: obj})
}

func (s *sharedRes) UnmarshalJSON(data []byte) error {
	type plain sharedRes
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	mk, ok := typecodes[p.Typecode]
	if !ok {
		return fmt.Errorf("a shared object of typecode %q", p.Typecode)
	}
	*s = sharedRes(p)
	s.obj = mk()
	if s.Array {
		s.obj.(interface{ newArray() }).newArray()
	}
	return s.obj.unmarshal(p.Obj)
}

func (t *typed[T]) newArray() { t.a = new(mp.Array[T]) }

// check reports whether v is an item (list: a list of items) of T.
func (t *typed[T]) check(v any, list bool) error {
	var err error
	if list {
		_, err = t.fromValue(v)
	} else {
		_, err = t.item(v)
	}
	return err
}

// locker is the resource's lock, for acquire and release (nil when raw).
func (s *sharedRes) locker() mp.Locker { return s.obj.lock() }

// getValue is shared.get: a value's value, or a 'c' array's bytes up to the
// first NUL.
func (s *sharedRes) getValue(*Call) (any, error) {
	if !s.Array {
		return s.obj.get(0), nil
	}
	if s.Typecode != "c" {
		return nil, errorf("Error", "a %q array has no value", s.Typecode)
	}
	b := s.obj.slice(0, s.obj.length()).(Bytes)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b, nil
}

// setValue is shared.set: a value's value, or a 'c' array's bytes then a
// NUL if they are shorter.
func (s *sharedRes) setValue(c *Call) (any, error) {
	v := c.In["value"]
	if !s.Array {
		return nil, s.obj.set(0, v)
	}
	b, ok := v.(Bytes)
	if s.Typecode != "c" {
		return nil, errorf("Error", "a %q array has no value", s.Typecode)
	}
	n := s.obj.length()
	if !ok || len(b) > n {
		return nil, errorf("ValueError", "%s is not bytes of at most %d", displayValue(v), n)
	}
	if len(b) < n {
		b = append(slices.Clip(b), 0)
	}
	return nil, s.obj.setSlice(0, len(b), b)
}

func (s *sharedRes) incr(c *Call) (any, error) {
	by, ok := c.In["by"]
	if !ok {
		by = int64(1)
	}
	return s.obj.incr(by)
}

// index is the step's index as Python takes it (negative: from the end),
// or IndexError.
func (s *sharedRes) index(c *Call) (int, error) {
	i, _ := c.int("at")
	n := int64(s.obj.length())
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, errorf("IndexError", "invalid index %d of an array of %d", c.In["at"], n)
	}
	return int(i), nil
}

// bounds are the step's start and stop as Python's slice takes them.
func (s *sharedRes) bounds(c *Call) (int, int) {
	n := int64(s.obj.length())
	clamp := func(name string, def int64) int {
		i, ok := c.int(name)
		if !ok {
			return int(def)
		}
		if i < 0 {
			i += n
		}
		return int(min(max(i, 0), n))
	}
	lo, hi := clamp("start", 0), clamp("stop", n)
	return lo, max(lo, hi)
}

// setShared validates field k of a value or array resource.
func (spec *ResourceSpec) setShared(where, k string, raw any, types map[string]string) error {
	wrong := func(want string) error {
		return errorAt(where, "%s.%s: want %s, got %s", spec.Type, k, want, describe(raw))
	}
	switch k {
	case "typecode":
		s, _ := raw.(string)
		if typecodes[s] == nil {
			return wrong("a typecode (b, B, h, H, i, I, l, L, q, Q, f, d or c)")
		}
		spec.Typecode = s
	case "size":
		n, ok := raw.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 0 || i > math.MaxInt32 {
			return wrong(fmt.Sprintf("an integer from 0 to %d", math.MaxInt32))
		}
		spec.Size = &i
	case "lock":
		if raw == false {
			spec.NoLock = true
			return nil
		}
		name, ok := raw.(string)
		if !ok || !slices.Contains([]string{"lock", "rlock"}, types[name]) {
			return wrong("false, or the name of a lock or rlock resource declared before it")
		}
		spec.Lock = name
	case "init":
		v, err := decodeValue(raw, false)
		if err != nil {
			return errorAt(where, "%s.init: %v", spec.Type, err)
		}
		spec.Init = v
	}
	return nil
}

// checkShared checks what a value's or an array's fields say together: an
// array has a size or an init, and its init fits its typecode.
func (spec *ResourceSpec) checkShared(where string) error {
	if !slices.Contains(sharedTypes, spec.Type) || spec.Typecode == "" {
		return nil
	}
	t := typecodes[spec.Typecode]().(interface{ check(v any, list bool) error })
	array := spec.Type == "array" || spec.Type == "raw_array"
	switch {
	case array && (spec.Size == nil) == (spec.Init == nil):
		return errorAt(where, "%s: exactly one of size and init", spec.Type)
	case spec.Init == nil:
	case array:
		if err := t.check(spec.Init, true); err != nil {
			return errorAt(where, "%s.init: %v", spec.Type, err)
		}
	default:
		if err := t.check(spec.Init, false); err != nil {
			return errorAt(where, "%s.init: %v", spec.Type, err)
		}
	}
	return nil
}
