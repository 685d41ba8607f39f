package mp_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// identity is the no-op task of the pool benchmarks.
var identity = mp.RegisterTask("bench.identity", func(x int) (int, error) { return x, nil })

// benchPool starts a pool of n workers, warmed up, that the benchmark
// terminates at its end.
func benchPool(b *testing.B, n int) *mp.Pool {
	p, err := mp.NewPool(mp.Processes(n))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Terminate() })
	if _, err := mp.Map(context.Background(), p, identity, make([]int, 4*n), mp.Chunksize(1)); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPoolApplyAsync times apply_async round trips: each task is
// submitted and its result got before the next (protocol.md's
// pool.apply_many), so it measures the latency of a task through the pool.
func BenchmarkPoolApplyAsync(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			p := benchPool(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				r, err := mp.ApplyAsync(p, identity, i)
				if err != nil {
					b.Fatal(err)
				}
				if v, err := r.Get(ctx); err != nil || v != i {
					b.Fatalf("result %d: %d, %v", i, v, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}

// BenchmarkPoolMap times a Map of b.N no-op tasks with the default
// chunking: the pool's throughput.
func BenchmarkPoolMap(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			p := benchPool(b, n)
			items := make([]int, b.N)
			for i := range items {
				items[i] = i
			}
			b.ResetTimer()
			out, err := mp.Map(context.Background(), p, identity, items)
			b.StopTimer()
			if err != nil || len(out) != b.N || b.N > 0 && out[b.N-1] != b.N-1 {
				b.Fatalf("Map: %d results, %v", len(out), err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}

// cpythonPool times BenchmarkPoolApplyAsync's and BenchmarkPoolMap's
// workloads on CPython's Pool, fork start method, in CPython itself; it
// prints nanoseconds per task.
const cpythonPool = `
import multiprocessing as mp, sys, time
def identity(x):
    return x
if __name__ == "__main__":
    ctx = mp.get_context("fork"); workload, procs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with ctx.Pool(procs) as pool:
        pool.map(identity, range(4 * procs), chunksize=1)  # warm up
        if workload == "apply":
            t0 = time.perf_counter_ns()
            for i in range(n):
                pool.apply_async(identity, (i,)).get()
            t1 = time.perf_counter_ns()
        else:
            items = list(range(n))
            t0 = time.perf_counter_ns()
            pool.map(identity, items)
            t1 = time.perf_counter_ns()
    print((t1 - t0) / n)
`

func cpythonPoolBench(b *testing.B, workload string) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			ns := python(b, cpythonPool, workload, strconv.Itoa(n))
			b.ReportMetric(1e9/ns, "tasks/s")
		})
	}
}

// BenchmarkPoolApplyAsyncCPython is BenchmarkPoolApplyAsync on CPython.
func BenchmarkPoolApplyAsyncCPython(b *testing.B) { cpythonPoolBench(b, "apply") }

// BenchmarkPoolMapCPython is BenchmarkPoolMap on CPython.
func BenchmarkPoolMapCPython(b *testing.B) { cpythonPoolBench(b, "map") }
