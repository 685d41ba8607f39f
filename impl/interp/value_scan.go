package interp

import (
	"encoding/json"
	"strconv"
)

// scanValue is decodeJSONValue's fast path, for the values a pool task's
// arguments and results mostly are: compact JSON of null, bools, numbers,
// strings of printable ASCII without escapes, and lists of them, which is
// what encodeValue writes for such values. Anything else (an object, an
// escape, white space, a malformed or out-of-range number, deep nesting)
// it leaves to the full decoder, ok false, so that the two never differ:
// the encoding/json decoder costs a microsecond or more a value.
func scanValue(data []byte) (v any, ok bool) {
	v, n, ok := scanOne(data, 0)
	if !ok || n != len(data) {
		return nil, false
	}
	return v, true
}

// scanMaxDepth is how deep scanValue goes into lists before it gives up.
const scanMaxDepth = 32

// scanOne scans the value at the start of data and returns it and its
// length.
func scanOne(data []byte, depth int) (any, int, bool) {
	if len(data) == 0 {
		return nil, 0, false
	}
	switch c := data[0]; {
	case c == 'n':
		return nil, 4, hasWord(data, "null")
	case c == 't':
		return true, 4, hasWord(data, "true")
	case c == 'f':
		return false, 5, hasWord(data, "false")
	case c == '"':
		for i := 1; i < len(data); i++ {
			switch c := data[i]; {
			case c == '"':
				return string(data[1:i]), i + 1, true
			case c < 0x20 || c >= 0x80 || c == '\\':
				return nil, 0, false
			}
		}
		return nil, 0, false
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(data)
	case c == '[':
		if depth >= scanMaxDepth {
			return nil, 0, false
		}
		list := []any{}
		i := 1
		if i < len(data) && data[i] == ']' {
			return list, 2, true
		}
		for {
			v, n, ok := scanOne(data[i:], depth+1)
			if !ok {
				return nil, 0, false
			}
			list = append(list, v)
			i += n
			if i >= len(data) {
				return nil, 0, false
			}
			switch data[i] {
			case ',':
				i++
			case ']':
				return list, i + 1, true
			default:
				return nil, 0, false
			}
		}
	}
	return nil, 0, false
}

func hasWord(data []byte, w string) bool {
	return len(data) >= len(w) && string(data[:len(w)]) == w
}

// scanNumber scans a JSON number (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?)
// and decodes it as decodeNumber does.
func scanNumber(data []byte) (any, int, bool) {
	i := 0
	if data[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i - start
	}
	intStart := i
	nInt := digits()
	if nInt == 0 || nInt > 1 && data[intStart] == '0' {
		return nil, 0, false
	}
	integral := true
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return nil, 0, false
		}
		integral = false
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, 0, false
		}
		integral = false
	}
	if integral && nInt <= 18 { // fits an int64 whatever its digits
		var n int64
		for _, c := range data[intStart:i] {
			n = n*10 + int64(c-'0')
		}
		if data[0] == '-' {
			n = -n
		}
		return n, i, true
	}
	if integral {
		n, err := strconv.ParseInt(string(data[:i]), 10, 64)
		return n, i, err == nil
	}
	v, err := decodeNumber(json.Number(data[:i]))
	return v, i, err == nil
}
