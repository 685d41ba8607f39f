package interp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Values (protocol.md §4) are held as Go values of these types: nil, bool,
// int64, Float, string, []any (list), Dict, Bytes. Keeping int64 and Float
// apart is what keeps 1 and 1.0 apart through a run.

// Float is a float value. It is always written with a '.' or an exponent,
// so that it reads back as a float.
type Float float64

// Dict is a dict value: its pairs, in order, since keys may be of any type.
type Dict []Pair

// Pair is one entry of a Dict.
type Pair struct{ Key, Value any }

// Bytes is a bytes value.
type Bytes []byte

// The forms that only scenarios hold; they are resolved before an op runs.
type (
	param string // {"param": "i"}
	blob  int    // {"blob": N}
	ref   string // {"ref": "L"}
)

// decodeValue turns what encoding/json decoded (with UseNumber) into a value.
// forms allows the scenario-only forms.
func decodeValue(raw any, forms bool) (any, error) {
	switch v := raw.(type) {
	case nil, bool, string:
		return v, nil
	case json.Number:
		return decodeNumber(v)
	case []any:
		list := make([]any, len(v))
		for i, item := range v {
			var err error
			if list[i], err = decodeValue(item, forms); err != nil {
				return nil, err
			}
		}
		return list, nil
	case map[string]any:
		return decodeForm(v, forms)
	}
	return nil, fmt.Errorf("unexpected JSON %T", raw)
}

func decodeNumber(n json.Number) (any, error) {
	if strings.ContainsAny(string(n), ".eE") {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, fmt.Errorf("float %s out of range", n)
		}
		return Float(f), nil
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("integer %s is not a 64-bit integer", n)
	}
	return i, nil
}

// decodeForm decodes a value written as an object with one key.
func decodeForm(obj map[string]any, forms bool) (any, error) {
	if len(obj) != 1 {
		return nil, fmt.Errorf("an object value must have exactly one key (dict, bytes, param, ref or blob), got %d", len(obj))
	}
	for key, arg := range obj {
		switch {
		case key == "dict":
			pairs, ok := arg.([]any)
			if !ok {
				return nil, fmt.Errorf(`"dict" wants a list of [key, value] pairs`)
			}
			d := make(Dict, len(pairs))
			for i, p := range pairs {
				kv, ok := p.([]any)
				if !ok || len(kv) != 2 {
					return nil, fmt.Errorf(`"dict" wants a list of [key, value] pairs`)
				}
				k, err := decodeValue(kv[0], forms)
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(kv[1], forms)
				if err != nil {
					return nil, err
				}
				d[i] = Pair{k, v}
			}
			return d, nil
		case key == "bytes":
			s, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf(`"bytes" wants a base64 string`)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf(`"bytes": %v`, err)
			}
			return Bytes(b), nil
		case key == "param" && forms:
			s, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf(`"param" wants a name`)
			}
			return param(s), nil
		case key == "ref" && forms:
			s, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf(`"ref" wants a resource name`)
			}
			return ref(s), nil
		case key == "blob" && forms:
			n, ok := arg.(json.Number)
			size, err := n.Int64()
			if !ok || err != nil || size < 0 || size > math.MaxInt32 {
				return nil, fmt.Errorf(`"blob" wants a size in bytes`)
			}
			return blob(size), nil
		default:
			return nil, fmt.Errorf("unknown value form %q", key)
		}
	}
	panic("unreachable")
}

// walkValue calls f on v and on every value inside it.
func walkValue(v any, f func(any) error) error {
	if err := f(v); err != nil {
		return err
	}
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			if err := walkValue(item, f); err != nil {
				return err
			}
		}
	case Dict:
		for _, p := range v {
			if err := walkValue(p.Key, f); err != nil {
				return err
			}
			if err := walkValue(p.Value, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve replaces params and blobs in v by their values.
func resolve(v any, e *env) any {
	switch v := v.(type) {
	case param:
		val, _ := e.lookup(string(v)) // validated: always bound
		return val
	case blob:
		b := make(Bytes, v)
		for k := range b {
			b[k] = byte(k % 251)
		}
		return b
	case []any:
		list := make([]any, len(v))
		for i, item := range v {
			list[i] = resolve(item, e)
		}
		return list
	case Dict:
		d := make(Dict, len(v))
		for i, p := range v {
			d[i] = Pair{resolve(p.Key, e), resolve(p.Value, e)}
		}
		return d
	}
	return v
}

// maxTracedBytes is the longest bytes value a trace holds in full; longer
// ones are recorded as their digest.
const maxTracedBytes = 64

// appendValue appends v as JSON. In a trace, long bytes are digested. A
// map[string]any is a plain object, for the values of process.begin and
// process.end; its keys are written sorted.
func appendValue(b []byte, v any, trace bool) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case Float:
		return appendFloat(b, float64(v))
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, item := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, item, trace)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case Dict:
		b = append(b, `{"dict":[`...)
		for i, p := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendValue(b, p.Key, trace)
			b = append(b, ',')
			b = appendValue(b, p.Value, trace)
			b = append(b, ']')
		}
		return append(b, "]}"...)
	case Bytes:
		if trace && len(v) > maxTracedBytes {
			sum := sha256.Sum256(v)
			b = fmt.Appendf(b, `{"digest":{"len":%d,"sha256":"%s"}}`, len(v), hex.EncodeToString(sum[:]))
			return b
		}
		b = append(b, `{"bytes":"`...)
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, `"}`...)
	case ref:
		b = append(b, `{"ref":`...)
		return append(appendString(b, string(v)), '}')
	case map[string]any:
		var small [8]string // a record's "in" has a few keys: no allocation
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			b = appendValue(b, v[k], trace)
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("interp: no JSON form for a %T value", v))
}

// appendFloat writes f as Python's repr does, so that both reference
// drivers write the same text: positional between 1e-4 and 1e16, with ".0"
// if integral, and shortest-exponent form outside.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// JSON has no such numbers; no op produces them, but never write
		// an invalid line.
		return append(b, "null"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	if exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:]); exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if !strings.Contains(string(b[start:]), ".") {
		b = append(b, ".0"...)
	}
	return b
}

// appendString writes s as encoding/json does: a string of printable ASCII
// that needs no escape as it is, any other through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			data, _ := json.Marshal(s) // a string always marshals
			return append(b, data...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// encodeValue returns v as JSON, in full (for a child's arguments).
func encodeValue(v any) []byte { return appendValue(nil, v, false) }

// decodeJSONValue parses a value written by encodeValue.
func decodeJSONValue(data []byte) (any, error) {
	if v, ok := scanValue(data); ok {
		return v, nil
	}
	raw, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	return decodeValue(raw, true)
}

// displayValue is how emit prints a value: strings as they are, other values
// as JSON.
func displayValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(appendValue(nil, v, true))
}
