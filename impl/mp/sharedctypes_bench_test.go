package mp_test

import (
	"context"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// The workloads, beside their CPython counterparts (cpythonShared):
// `go test -bench 'ValueIncrLocked|ArrayCopy' ./impl/mp` gives both in one
// run. "incr": an increment under the Value's lock (its default RLock), as
// `with v.get_lock(): v.value += 1`; "copy": a copy of a synchronized 1 MiB
// byte ('c') Array out of shared memory, as `a[:]`.

const mib = 1 << 20

func BenchmarkValueIncrLocked(b *testing.B) {
	v, err := mp.NewValue[int64](0)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	add := func(x int64) int64 { return x + 1 }
	b.ResetTimer()
	for range b.N {
		v.Update(ctx, add)
	}
	b.StopTimer()
	if got := v.Load(); got != int64(b.N) {
		b.Fatalf("%d increments made %d", b.N, got)
	}
}

func BenchmarkArrayCopy1MiB(b *testing.B) {
	a, err := mp.NewArray[byte](mib)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	buf := make([]byte, mib)
	b.SetBytes(mib)
	b.ResetTimer()
	for range b.N {
		a.CopyTo(buf)
	}
}

// cpythonShared times the same workloads in CPython (fork context), n
// times, and prints nanoseconds per op.
const cpythonShared = `
import multiprocessing as mp, sys, time
if __name__ == "__main__":
    ctx = mp.get_context("fork"); workload, n = sys.argv[1], int(sys.argv[2])
    if workload == "incr":
        v = ctx.Value("q", 0); lock = v.get_lock()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            with lock:
                v.value += 1
        t1 = time.perf_counter_ns()
        assert v.value == n
    else:
        a = ctx.Array("c", 1 << 20)
        t0 = time.perf_counter_ns()
        for _ in range(n):
            a[:]
        t1 = time.perf_counter_ns()
    print((t1 - t0) / n)
`

// BenchmarkValueIncrLockedCPython is BenchmarkValueIncrLocked on CPython.
func BenchmarkValueIncrLockedCPython(b *testing.B) { python(b, cpythonShared, "incr") }

// BenchmarkArrayCopy1MiBCPython is BenchmarkArrayCopy1MiB on CPython.
func BenchmarkArrayCopy1MiBCPython(b *testing.B) {
	ns := python(b, cpythonShared, "copy")
	b.ReportMetric(mib/ns*1e9/1e6, "MB/s")
}
