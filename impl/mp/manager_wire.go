package mp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// The manager's wire format. A frame is its length (4 bytes, little-endian)
// then its payload. A request is an op byte, the object's id (uvarint), then
// the op's arguments; a reply is 0 then a value, or 1, an error kind byte
// and a message. Values are tagged, so that 1, 1.0, "1" and b"1" stay
// distinct through the server:
//
//	N nil  T true  F false  i int64 (zigzag varint)  f float64 (8 bytes)
//	s string, b bytes (uvarint length, then the bytes)
//	l list (uvarint count, then the items)
//	d dict (uvarint count, then key, value, key, value...)
//	r a managed object (kind byte, uvarint id): a nested proxy
//
// The server never decodes a value it only stores: it checks its extent
// (scanValue) and keeps its bytes, so a set costs the server a copy.
const (
	tagNil   = 'N'
	tagTrue  = 'T'
	tagFalse = 'F'
	tagInt   = 'i'
	tagFloat = 'f'
	tagStr   = 's'
	tagBytes = 'b'
	tagList  = 'l'
	tagDict  = 'd'
	tagRef   = 'r'
)

// maxDepth bounds the nesting of a value, so that a hostile frame cannot
// exhaust the server's stack.
const maxDepth = 256

// DefaultMaxFrame is the largest frame a manager server or client accepts
// unless ManagerMaxFrame says otherwise: a larger one closes the connection.
const DefaultMaxFrame = 64 << 20

// Item is one entry of a dict value: dict values travel as their items, in
// insertion order, since keys may be of any hashable type.
type Item struct{ Key, Value any }

// Items is a dict value (what DictProxy.Copy returns, what Update takes).
type Items []Item

var errMalformed = errors.New("mp: manager: malformed frame")

// appendValue encodes v. Go values map to Python's: nil, bool, every
// integer type (int64 on the way back), float32/64 (float64), string,
// []byte, []any and other slices (lists), Items and maps (dicts), and the
// proxies of this manager (nested objects).
func (cl *managerClient) appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("%w: value nested deeper than %d", ErrValue, maxDepth)
	}
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(v)), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), nil
	case int32:
		return binary.AppendVarint(append(b, tagInt), int64(v)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v)), nil
	case float32:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(float64(v))), nil
	case string:
		return append(binary.AppendUvarint(append(b, tagStr), uint64(len(v))), v...), nil
	case []byte:
		return append(binary.AppendUvarint(append(b, tagBytes), uint64(len(v))), v...), nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(v)))
		var err error
		for _, item := range v {
			if b, err = cl.appendValue(b, item, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case Items:
		b = binary.AppendUvarint(append(b, tagDict), uint64(len(v)))
		var err error
		for _, it := range v {
			if b, err = cl.appendValue(b, it.Key, depth+1); err != nil {
				return b, err
			}
			if b, err = cl.appendValue(b, it.Value, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case Proxy:
		p := v.base()
		if p.c == nil || cl == nil || p.c.token != cl.token {
			return b, fmt.Errorf("%w: a proxy can only be stored in an object of its own manager", ErrValue)
		}
		return binary.AppendUvarint(append(b, tagRef, p.kind), p.id), nil
	case refValue: // in the server: a registered type's method gives back a proxy it was given
		return binary.AppendUvarint(append(b, tagRef, v.kind), v.id), nil
	}
	return cl.appendReflect(b, v, depth)
}

// appendReflect encodes the integer, float, string, slice and map types
// that appendValue does not name.
func (cl *managerClient) appendReflect(b []byte, v any, depth int) ([]byte, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cl.appendValue(b, rv.Int(), depth)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return b, fmt.Errorf("%w: %d does not fit in an int64", ErrValue, u)
		}
		return cl.appendValue(b, int64(u), depth)
	case reflect.Float32, reflect.Float64:
		return cl.appendValue(b, rv.Float(), depth)
	case reflect.String:
		return cl.appendValue(b, rv.String(), depth)
	case reflect.Bool:
		return cl.appendValue(b, rv.Bool(), depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return cl.appendValue(b, []any{}, depth)
		}
		list := make([]any, rv.Len())
		for i := range list {
			list[i] = rv.Index(i).Interface()
		}
		return cl.appendValue(b, list, depth)
	case reflect.Map:
		items := make(Items, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			items = append(items, Item{it.Key().Interface(), it.Value().Interface()})
		}
		// Map order is random; sorted keys make the dict's order repeatable.
		sort.Slice(items, func(i, j int) bool {
			return fmt.Sprint(items[i].Key) < fmt.Sprint(items[j].Key)
		})
		return cl.appendValue(b, items, depth)
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, tagNil), nil
		}
		return cl.appendValue(b, rv.Elem().Interface(), depth)
	}
	return b, fmt.Errorf("%w: a %T cannot be stored in a managed object", ErrValue, v)
}

// scanValue returns the length of the value at the start of b, checking
// it is well formed.
func scanValue(b []byte, depth int) (int, error) {
	if len(b) == 0 || depth > maxDepth {
		return 0, errMalformed
	}
	switch b[0] {
	case tagNil, tagTrue, tagFalse:
		return 1, nil
	case tagInt:
		_, n := binary.Varint(b[1:])
		if n <= 0 {
			return 0, errMalformed
		}
		return 1 + n, nil
	case tagFloat:
		if len(b) < 9 {
			return 0, errMalformed
		}
		return 9, nil
	case tagStr, tagBytes:
		l, n := binary.Uvarint(b[1:])
		if n <= 0 || l > uint64(len(b)-1-n) {
			return 0, errMalformed
		}
		return 1 + n + int(l), nil
	case tagRef:
		if len(b) < 2 {
			return 0, errMalformed
		}
		_, n := binary.Uvarint(b[2:])
		if n <= 0 {
			return 0, errMalformed
		}
		return 2 + n, nil
	case tagList, tagDict:
		count, n := binary.Uvarint(b[1:])
		if n <= 0 || count > uint64(len(b)) {
			return 0, errMalformed
		}
		if b[0] == tagDict {
			count *= 2
		}
		off := 1 + n
		for range count {
			m, err := scanValue(b[off:], depth+1)
			if err != nil {
				return 0, err
			}
			off += m
		}
		return off, nil
	}
	return 0, errMalformed
}

// A keyID is a dict key as the server compares it: Python's equal keys
// (1, 1.0 and True) are one key, different types otherwise distinct.
type keyID struct {
	kind byte // tagInt for every integral number and bool, else the tag
	i    int64
	f    float64
	s    string
}

// keyOf returns the identity of the key encoded in k, or ErrValue for an
// unhashable one (a list or dict, as Python's TypeError).
func keyOf(k []byte) (keyID, error) {
	switch k[0] {
	case tagNil:
		return keyID{kind: tagNil}, nil
	case tagTrue:
		return keyID{kind: tagInt, i: 1}, nil
	case tagFalse:
		return keyID{kind: tagInt}, nil
	case tagInt:
		i, _ := binary.Varint(k[1:])
		return keyID{kind: tagInt, i: i}, nil
	case tagFloat:
		f := math.Float64frombits(binary.LittleEndian.Uint64(k[1:]))
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return keyID{kind: tagInt, i: int64(f)}, nil
		}
		return keyID{kind: tagFloat, f: f}, nil
	case tagStr, tagBytes:
		l, n := binary.Uvarint(k[1:])
		return keyID{kind: k[0], s: string(k[1+n : 1+n+int(l)])}, nil
	case tagRef:
		id, _ := binary.Uvarint(k[2:])
		return keyID{kind: tagRef, i: int64(id), s: string(k[1:2])}, nil
	}
	return keyID{}, fmt.Errorf("%w: unhashable key (a list or dict)", ErrValue)
}

// A decoder reads values sent by the server, turning references into
// proxies of the client's manager.
type decoder struct {
	wireReader
	cl *managerClient
}

func (d *decoder) value(depth int) (any, error) {
	b := d.rawValue(depth)
	if d.err != nil {
		return nil, d.err
	}
	return d.cl.decodeScanned(b)
}

// decodeScanned decodes a value that scanValue has checked.
func (cl *managerClient) decodeScanned(b []byte) (any, error) {
	v, rest := cl.decodeOne(b)
	if len(rest) != 0 {
		return nil, errMalformed
	}
	return v, nil
}

func (cl *managerClient) decodeOne(b []byte) (any, []byte) {
	switch b[0] {
	case tagNil:
		return nil, b[1:]
	case tagTrue:
		return true, b[1:]
	case tagFalse:
		return false, b[1:]
	case tagInt:
		i, n := binary.Varint(b[1:])
		return i, b[1+n:]
	case tagFloat:
		return math.Float64frombits(binary.LittleEndian.Uint64(b[1:])), b[9:]
	case tagStr:
		l, n := binary.Uvarint(b[1:])
		return string(b[1+n : 1+n+int(l)]), b[1+n+int(l):]
	case tagBytes:
		l, n := binary.Uvarint(b[1:])
		return append([]byte{}, b[1+n:1+n+int(l)]...), b[1+n+int(l):]
	case tagRef:
		id, n := binary.Uvarint(b[2:])
		return cl.proxyFor(b[1], id), b[2+n:]
	case tagList:
		count, n := binary.Uvarint(b[1:])
		b = b[1+n:]
		list := make([]any, count)
		for i := range list {
			list[i], b = cl.decodeOne(b)
		}
		return list, b
	case tagDict:
		count, n := binary.Uvarint(b[1:])
		b = b[1+n:]
		items := make(Items, count)
		for i := range items {
			items[i].Key, b = cl.decodeOne(b)
			items[i].Value, b = cl.decodeOne(b)
		}
		return items, b
	}
	panic("mp: decodeOne on an unscanned value")
}

// equalValues reports whether two encoded values are equal as Python
// compares them (1 == 1.0 == True), for list.remove.
func equalValues(a, b []byte) bool {
	va, _ := (*managerClient)(nil).decodeOne(a)
	vb, _ := (*managerClient)(nil).decodeOne(b)
	return pyEqual(va, vb)
}

func pyEqual(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch v := v.(type) {
		case bool:
			if v {
				return 1, true
			}
			return 0, true
		case int64:
			return float64(v), true
		case float64:
			return v, true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		if ia, ok := a.(int64); ok {
			if ib, ok := b.(int64); ok {
				return ia == ib
			}
		}
		y, ok := num(b)
		return ok && x == y
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && a == s
	case []byte:
		s, ok := b.([]byte)
		return ok && string(a) == string(s)
	case []any:
		l, ok := b.([]any)
		if !ok || len(l) != len(a) {
			return false
		}
		for i := range a {
			if !pyEqual(a[i], l[i]) {
				return false
			}
		}
		return true
	case Items:
		m, ok := b.(Items)
		if !ok || len(m) != len(a) {
			return false
		}
		for _, x := range a {
			found := false
			for _, y := range m {
				if pyEqual(x.Key, y.Key) {
					found = pyEqual(x.Value, y.Value)
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case refValue:
		r, ok := b.(refValue)
		return ok && a == r
	}
	return false
}

// refValue is a reference decoded without a client (equalValues).
type refValue struct {
	kind byte
	id   uint64
}
