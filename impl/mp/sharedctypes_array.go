package mp

import (
	"fmt"
	"unsafe"
)

// An Array is a fixed number of numbers in shared memory, as CPython's
// multiprocessing.Array: every process it is passed to (as (part of) the
// argument of New) reads and writes the same memory. A 'c' array of CPython
// is an Array[byte].
//
// An Array made by NewArray or NewArrayOf is synchronized: it has a lock
// (GetLock; a new RLock unless WithLock gives one), and Acquire and Release
// are the lock's. Slice, CopyTo and SetSlice hold it while they copy, as
// CPython's wrapper does, so a copy is never torn by another; with a Lock
// (not an RLock) given by WithLock, do not call them holding it. Get and Set
// of one element are a single access. NewRawArray, or WithoutLock, makes
// one without a lock.
type Array[T Number] struct {
	shared
	elems []T
}

// NewArray returns a synchronized Array of n zeros.
func NewArray[T Number](n int, opts ...SharedOption) (*Array[T], error) {
	s, err := newShared("array", n, elemSize[T](), opts)
	if err != nil {
		return nil, err
	}
	a := &Array[T]{shared: s}
	a.view()
	return a, nil
}

// NewArrayOf returns a synchronized Array holding a copy of init.
func NewArrayOf[T Number](init []T, opts ...SharedOption) (*Array[T], error) {
	a, err := NewArray[T](len(init), opts...)
	if err == nil {
		copy(a.elems, init)
	}
	return a, err
}

// NewRawArray returns an Array of n zeros, without a lock.
func NewRawArray[T Number](n int) (*Array[T], error) { return NewArray[T](n, WithoutLock()) }

func (a *Array[T]) view() {
	if a.n == 0 {
		a.elems = []T{}
		return
	}
	a.elems = unsafe.Slice((*T)(unsafe.Pointer(&a.seg.mem[0])), a.n)
}

// Len returns the number of elements.
func (a *Array[T]) Len() int { return a.n }

// Get returns element i; it fails with ErrIndex outside [0, Len()).
func (a *Array[T]) Get(i int) (T, error) {
	if uint(i) >= uint(a.n) {
		var zero T
		return zero, a.indexError(i)
	}
	return a.elems[i], nil
}

// Set sets element i; it fails with ErrIndex outside [0, Len()).
func (a *Array[T]) Set(i int, x T) error {
	if uint(i) >= uint(a.n) {
		return a.indexError(i)
	}
	a.elems[i] = x
	return nil
}

func (a *Array[T]) indexError(i int) error {
	return fmt.Errorf("%w: index %d of an array of %d", ErrIndex, i, a.n)
}

func (a *Array[T]) checkSlice(lo, hi int) error {
	if lo < 0 || hi < lo || hi > a.n {
		return fmt.Errorf("%w: slice [%d:%d] of an array of %d", ErrIndex, lo, hi, a.n)
	}
	return nil
}

// Slice returns a copy of elements lo to hi-1; it fails with ErrIndex
// unless 0 <= lo <= hi <= Len().
func (a *Array[T]) Slice(lo, hi int) ([]T, error) {
	if err := a.checkSlice(lo, hi); err != nil {
		return nil, err
	}
	out := make([]T, hi-lo)
	a.locked(func() { copy(out, a.elems[lo:hi]) })
	return out, nil
}

// CopyTo copies the first min(len(dst), Len()) elements into dst and
// returns how many: Slice without allocating.
func (a *Array[T]) CopyTo(dst []T) int {
	var n int
	a.locked(func() { n = copy(dst, a.elems) })
	return n
}

// SetSlice copies src into elements lo to hi-1, as Python's a[lo:hi] = src;
// it fails with ErrIndex unless 0 <= lo <= hi <= Len(), and with ErrValue
// unless len(src) is hi-lo.
func (a *Array[T]) SetSlice(lo, hi int, src []T) error {
	if err := a.checkSlice(lo, hi); err != nil {
		return err
	}
	if len(src) != hi-lo {
		return fmt.Errorf("%w: can only assign %d elements to slice [%d:%d], not %d", ErrValue, hi-lo, lo, hi, len(src))
	}
	a.locked(func() { copy(a.elems[lo:hi], src) })
	return nil
}

// MarshalJSON encodes the Array, and its lock, for a child being started;
// it fails in any other use.
func (a *Array[T]) MarshalJSON() ([]byte, error) { return a.marshal("array", elemSize[T]()) }

// UnmarshalJSON maps, in a child, the Array its parent passed (of a T of
// the same size).
func (a *Array[T]) UnmarshalJSON(data []byte) error {
	if err := a.unmarshal("array", elemSize[T](), data); err != nil {
		return err
	}
	a.view()
	return nil
}
