package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mpconform/mpconform/impl/mp"
)

// A RawValue has no lock, as a Value made WithoutLock: Load and Store are
// atomic each, and Update is a read and a write that nothing holds together.
func ExampleNewRawValue() {
	v, err := mp.NewRawValue[float64](0.5)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	v.Store(v.Load() * 3)
	n, _ := v.Update(context.Background(), func(x float64) float64 { return x + 1 })
	fmt.Println(n)
	// Output: 2.5
}

// Update runs a read-modify-write with the Value's lock held, as CPython's
// `with v.get_lock(): v.value += 1`.
func ExampleValue_Update() {
	v, err := mp.NewValue[int32](41)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	n, _ := v.Update(context.Background(), func(x int32) int32 { return x + 1 })
	fmt.Println(n, v.Load())
	// Output: 42 42
}

// An Array made from a size is zeroed; its items and slices index as
// Python's, and a slice is assigned only a sequence of its own length.
func ExampleNewArray() {
	a, err := mp.NewArray[int32](4)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	before, _ := a.Slice(0, a.Len())
	a.SetSlice(1, 3, []int32{7, 8})
	err = a.SetSlice(0, 2, []int32{1})
	_, ierr := a.Get(4)
	after, _ := a.Slice(0, a.Len())
	fmt.Println(before, after, errors.Is(err, mp.ErrValue), errors.Is(ierr, mp.ErrIndex))
	// Output: [0 0 0 0] [0 7 8 0] true true
}
