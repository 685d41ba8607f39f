package mp_test

import "testing"

// cpythonStartJoin times CPython's Process start+join of a no-op target, n times,
// with a start method, in CPython itself; it returns nanoseconds per start+join.
const cpythonStartJoin = `
import multiprocessing as mp, sys, time
def noop(): pass
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1]); n = int(sys.argv[2])
    ctx.Process(target=noop).start()  # warm up: forkserver and imports
    t0 = time.perf_counter_ns()
    for _ in range(n):
        p = ctx.Process(target=noop); p.start(); p.join()
    print((time.perf_counter_ns() - t0) // n)
`

// BenchmarkStartJoinCPython is BenchmarkStartJoin's workload on CPython's
// multiprocessing, so that `go test -bench StartJoin ./impl/mp` gives the
// reference and CPython side by side, in one run, on one machine.
func BenchmarkStartJoinCPython(b *testing.B) {
	for _, method := range []string{"fork", "spawn", "forkserver"} {
		b.Run(method, func(b *testing.B) { python(b, cpythonStartJoin, method) })
	}
}

// cpythonSync times CPython's workloads of synchronize_bench_test.go, n
// times, with the fork start method, in CPython itself; it prints
// nanoseconds per op. "uncontended": acquire+release pairs (bound methods,
// CPython's fastest loop) while a child process holds the primitive too;
// "with": the same pairs written "with lock: pass", as the tutorial does.
// "handoff": round trips with a child that acquires A when this process
// releases it and releases B for this process to acquire (two handoffs per
// op).
const cpythonSync = `
import multiprocessing as mp, sys, time
def idle(x, done):
    done.wait()
def pong(a, b, n):
    acquire, release = a.acquire, b.release
    release()
    for _ in range(n):
        acquire(); release()
if __name__ == "__main__":
    ctx = mp.get_context("fork"); kind, workload, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    make = {"lock": ctx.Lock, "semaphore": lambda: ctx.Semaphore(1 if workload == "uncontended" else 0)}[kind]
    if workload == "uncontended":
        x, done = make(), ctx.Event()
        p = ctx.Process(target=idle, args=(x, done)); p.start()
        acquire, release = x.acquire, x.release
        t0 = time.perf_counter_ns()
        for _ in range(n):
            acquire(); release()
        t1 = time.perf_counter_ns()
        done.set()
    elif workload == "with":  # uncontended, as the tutorial writes it
        x, done = make(), ctx.Event()
        p = ctx.Process(target=idle, args=(x, done)); p.start()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            with x:
                pass
        t1 = time.perf_counter_ns()
        done.set()
    else:
        a, b = make(), make()
        if kind == "lock":
            a.acquire(); b.acquire()
        p = ctx.Process(target=pong, args=(a, b, n)); p.start()
        release, acquire = a.release, b.acquire
        acquire()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            release(); acquire()
        t1 = time.perf_counter_ns()
    p.join()
    print((t1 - t0) / n)
`

// python runs a CPython timing script with args and b.N, and reports the
// nanoseconds per op that it prints as the benchmark's ns/op.
func python(b *testing.B, script string, args ...string) float64 {
	return pythonAtLeast(b, 0, script, args...)
}

func cpythonSyncBench(b *testing.B, kind, workload string) {
	ns := python(b, cpythonSync, kind, workload)
	switch workload {
	case "uncontended", "with":
		b.ReportMetric(1e9/ns, "pairs/s")
	case "handoff":
		b.ReportMetric(ns/2, "ns/handoff")
	}
}

// BenchmarkLockUncontendedCPython is BenchmarkLockUncontended on CPython:
// "calls" with bound methods, "with" with the with statement.
func BenchmarkLockUncontendedCPython(b *testing.B) {
	b.Run("calls", func(b *testing.B) { cpythonSyncBench(b, "lock", "uncontended") })
	b.Run("with", func(b *testing.B) { cpythonSyncBench(b, "lock", "with") })
}

// BenchmarkLockHandoffCPython is BenchmarkLockHandoff on CPython.
func BenchmarkLockHandoffCPython(b *testing.B) { cpythonSyncBench(b, "lock", "handoff") }

// BenchmarkSemaphoreCPython is BenchmarkSemaphore on CPython.
func BenchmarkSemaphoreCPython(b *testing.B) {
	for _, w := range []string{"uncontended", "handoff"} {
		b.Run(w, func(b *testing.B) { cpythonSyncBench(b, "semaphore", w) })
	}
}
