package mp

import (
	"context"
	"sync/atomic"
	"unsafe"
)

// A Value is a number in shared memory, as CPython's
// multiprocessing.Value: every process it is passed to (as (part of) the
// argument of New) reads and writes the same memory.
//
// A Value made by NewValue is synchronized: it has a lock (GetLock; a new
// RLock unless WithLock gives one), and Acquire and Release are the lock's.
// Load and Store are atomic by themselves, as CPython's wrapper makes each
// access to .value; a read-modify-write is atomic only with the lock held:
// Update holds it. NewRawValue, or WithoutLock, makes one without a lock, as
// CPython's RawValue and lock=False.
type Value[T Number] struct {
	shared
	// word holds the T in its first bytes; a Store writes the whole word,
	// so Load and Store are one atomic access whatever T's size.
	word *atomic.Uint64
}

// NewValue returns a synchronized Value holding init.
func NewValue[T Number](init T, opts ...SharedOption) (*Value[T], error) {
	s, err := newShared("value", 1, 8, opts)
	if err != nil {
		return nil, err
	}
	v := &Value[T]{shared: s, word: at[atomic.Uint64](s.seg)}
	v.Store(init)
	return v, nil
}

// NewRawValue returns a Value holding init, without a lock.
func NewRawValue[T Number](init T) (*Value[T], error) { return NewValue(init, WithoutLock()) }

// Load returns the value.
func (v *Value[T]) Load() T {
	bits := v.word.Load()
	return *(*T)(unsafe.Pointer(&bits))
}

// Store sets the value.
func (v *Value[T]) Store(x T) {
	var bits uint64
	*(*T)(unsafe.Pointer(&bits)) = x
	v.word.Store(bits)
}

// Update sets the value to f of it with the lock held (a raw Value: with
// none), and returns the new value: the `with v.get_lock(): v.value += 1` of
// CPython. It fails only when ctx ends before the lock is acquired.
func (v *Value[T]) Update(ctx context.Context, f func(T) T) (T, error) {
	if v.lock == nil {
		x := f(v.Load())
		v.Store(x)
		return x, nil
	}
	if err := v.lock.Acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	x := f(v.Load())
	v.Store(x)
	return x, v.lock.Release()
}

// MarshalJSON encodes the Value, and its lock, for a child being started; it
// fails in any other use.
func (v *Value[T]) MarshalJSON() ([]byte, error) { return v.marshal("value", elemSize[T]()) }

// UnmarshalJSON maps, in a child, the Value its parent passed (of a T of
// the same size).
func (v *Value[T]) UnmarshalJSON(data []byte) error {
	if err := v.unmarshal("value", elemSize[T](), data); err != nil {
		return err
	}
	v.word = at[atomic.Uint64](v.seg)
	return nil
}
