package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

type valueAddArg struct {
	V *mp.Value[int64]
	N int
}

// valueAdd adds 1 to V, N times, each under V's lock.
var valueAdd = mp.Register("sharedctypes.valueAdd", func(a valueAddArg) error {
	for range a.N {
		if _, err := a.V.Update(context.Background(), func(x int64) int64 { return x + 1 }); err != nil {
			return err
		}
	}
	return a.V.Close()
})

type arrayArg struct {
	A *mp.Array[float64]
	V *mp.Value[uint8] // raw
}

// arrayDouble doubles each element of A, and sets V to the length it saw.
var arrayDouble = mp.Register("sharedctypes.arrayDouble", func(a arrayArg) error {
	xs, err := a.A.Slice(0, a.A.Len())
	if err != nil {
		return err
	}
	for i := range xs {
		xs[i] *= 2
	}
	a.V.Store(uint8(len(xs)))
	return a.A.SetSlice(0, len(xs), xs)
})

func runChildren[A any](t *testing.T, n int, target mp.Target[A], arg A) {
	t.Helper()
	var ps []*mp.Process
	for range n {
		p := mp.New(target, arg)
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(context.Background()); err != nil {
			t.Fatal(err)
		}
		if code, _ := p.ExitCode(); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
}

// Increments under the lock by several processes lose none.
func TestValueLockedIncrements(t *testing.T) {
	v, err := mp.NewValue[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const procs, each = 3, 2000
	runChildren(t, procs, valueAdd, valueAddArg{v, each})
	if got := v.Load(); got != procs*each {
		t.Fatalf("total %d, want %d", got, procs*each)
	}
}

// A child sees the parent's writes, and the parent the child's.
func TestArraySharedBothWays(t *testing.T) {
	a, err := mp.NewArrayOf([]float64{1, 2.5, -3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	v, err := mp.NewRawValue[uint8](0)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	runChildren(t, 1, arrayDouble, arrayArg{a, v})
	got, _ := a.Slice(0, 3)
	if fmt.Sprint(got) != "[2 5 -6]" || v.Load() != 3 {
		t.Fatalf("after the child: %v and %d", got, v.Load())
	}
}

func TestArrayErrors(t *testing.T) {
	a, err := mp.NewArray[int32](4)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Get(4); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("Get(4): %v, want ErrIndex", err)
	}
	if err := a.Set(-1, 1); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("Set(-1): %v, want ErrIndex", err)
	}
	if _, err := a.Slice(3, 5); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("Slice(3, 5): %v, want ErrIndex", err)
	}
	if err := a.SetSlice(0, 2, []int32{1}); !errors.Is(err, mp.ErrValue) {
		t.Errorf("SetSlice of the wrong length: %v, want ErrValue", err)
	}
	if _, err := mp.NewArray[int8](-1); !errors.Is(err, mp.ErrValue) {
		t.Errorf("NewArray(-1): %v, want ErrValue", err)
	}
	if _, err := a.MarshalJSON(); err == nil {
		t.Error("MarshalJSON outside a process's argument succeeded")
	}
}

func TestValueLocks(t *testing.T) {
	raw, _ := mp.NewRawValue[float32](0.5)
	defer raw.Close()
	if raw.GetLock() != nil || raw.TryAcquire() {
		t.Error("a raw Value has a lock")
	}
	if err := raw.Acquire(context.Background()); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("Acquire on a raw Value: %v, want ErrNotAllowed", err)
	}
	l, _ := mp.NewLock()
	defer l.Close()
	v, _ := mp.NewValue[int8](-3, mp.WithLock(l))
	defer v.Close()
	if v.GetLock() != mp.Locker(l) {
		t.Error("GetLock is not the lock given")
	}
	if !l.TryAcquire() || v.TryAcquire() {
		t.Error("the Value's lock is not the lock given")
	}
	l.Release()
	v.Store(-128)
	if v.Load() != -128 || raw.Load() != 0.5 {
		t.Errorf("Load: %d and %v", v.Load(), raw.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Acquire(context.Background())
	if _, err := v.Update(ctx, func(x int8) int8 { return x + 1 }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with the lock held elsewhere and ctx done: %v", err)
	}
	l.Release()
}

func ExampleValue() {
	v, err := mp.NewValue[int64](0) // synchronized by a new RLock
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	p := mp.New(valueAdd, valueAddArg{v, 100}) // the Value travels to the child
	p.Start()
	for range 100 {
		v.Update(context.Background(), func(x int64) int64 { return x + 1 })
	}
	p.Join(context.Background())
	fmt.Println(v.Load())
	// Output: 200
}

func ExampleArray() {
	a, err := mp.NewArrayOf([]byte("hello"), mp.WithoutLock()) // CPython's RawArray('c', b"hello")
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	a.SetSlice(0, 2, []byte("HE"))
	b, _ := a.Slice(1, 4)
	fmt.Printf("%s %d\n", b, a.Len())
	// Output: Ell 5
}
