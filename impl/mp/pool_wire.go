package mp

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// A pool talks to each of its workers through a link (link.go): tasks go
// to the worker in one ring, results come back in the other, as messages
// read with a wireReader (wire.go). A task message (parent to worker) is
//
//	kind (1 byte: msgTask or msgExit), job id (8), task name length (2),
//	task name, item count (4), then per item: length (4), encoded argument
//
// and a result message (worker to parent) is
//
//	job id (8), item count (4), then per item: status (1 byte: 0 for a
//	result, 1 for an error), length (4), encoded result or error message.
const (
	msgTask = 1
	msgExit = 2
)

// errPoolMalformed is a pool message's error when it is cut short.
var errPoolMalformed = errors.New("mp: pool: malformed message")

// poolMessage reads a task or result message.
func poolMessage(b []byte) wireReader { return wireReader{b: b, malformed: errPoolMalformed} }

// A codec encodes a task's arguments or results. Common scalar types have
// a fixed binary form, so that a map of small items costs nanoseconds per
// item, not the microsecond of encoding/json; so does a type whose pointer
// is an encoding.BinaryAppender and an encoding.BinaryUnmarshaler, in a
// form of its own; any other type travels as JSON (so it must round-trip
// through encoding/json, as a target's argument must).
type codec[T any] struct {
	enc func(b []byte, v *T) []byte
	dec func(b []byte, v *T) error
}

func codecFor[T any]() codec[T] {
	var zero T
	fixed := func(size int) error { return fmt.Errorf("mp: pool: want %d bytes for a %T", size, zero) }
	u64 := func(b []byte) (uint64, error) {
		if len(b) != 8 {
			return 0, fixed(8)
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	switch any(zero).(type) {
	case int:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, uint64(*(*int)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*int)(unsafe.Pointer(v)) = int(x)
				return err
			}}
	case int64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, uint64(*(*int64)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*int64)(unsafe.Pointer(v)) = int64(x)
				return err
			}}
	case uint64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return binary.LittleEndian.AppendUint64(b, *(*uint64)(unsafe.Pointer(v))) },
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*uint64)(unsafe.Pointer(v)) = x
				return err
			}}
	case float64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*float64)(unsafe.Pointer(v)) = math.Float64frombits(x)
				return err
			}}
	case bool:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				if *(*bool)(unsafe.Pointer(v)) {
					return append(b, 1)
				}
				return append(b, 0)
			},
			dec: func(b []byte, v *T) error {
				if len(b) != 1 {
					return fixed(1)
				}
				*(*bool)(unsafe.Pointer(v)) = b[0] != 0
				return nil
			}}
	case string:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return append(b, *(*string)(unsafe.Pointer(v))...) },
			dec: func(b []byte, v *T) error { *(*string)(unsafe.Pointer(v)) = string(b); return nil }}
	case []byte:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return append(b, *(*[]byte)(unsafe.Pointer(v))...) },
			dec: func(b []byte, v *T) error {
				*(*[]byte)(unsafe.Pointer(v)) = append([]byte(nil), b...)
				return nil
			}}
	case struct{}:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return b },
			dec: func(b []byte, v *T) error { return nil }}
	}
	if _, ok := any(&zero).(binaryCodec); ok {
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				out, err := any(v).(encoding.BinaryAppender).AppendBinary(b)
				if err != nil {
					// As for JSON below: encodeJob fails the job with it.
					panic(fmt.Sprintf("mp: pool: encoding a %T: %v", zero, err))
				}
				return out
			},
			dec: func(b []byte, v *T) error { return any(v).(encoding.BinaryUnmarshaler).UnmarshalBinary(b) }}
	}
	return codec[T]{
		enc: func(b []byte, v *T) []byte {
			data, err := json.Marshal(v)
			if err != nil {
				// Encoding fails only for types that cannot travel
				// (channels, funcs): a programming error, as for a
				// target's argument.
				panic(fmt.Sprintf("mp: pool: encoding a %T: %v", zero, err))
			}
			return append(b, data...)
		},
		dec: func(b []byte, v *T) error { return json.Unmarshal(b, v) }}
}

// binaryCodec is what a type's pointer implements to travel in a binary
// form of its own.
type binaryCodec interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}
