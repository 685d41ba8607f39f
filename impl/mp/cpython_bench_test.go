package mp_test

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

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
		b.Run(method, func(b *testing.B) {
			if _, err := exec.LookPath("python3"); err != nil {
				b.Skip("python3 not found")
			}
			out, err := exec.Command("python3", "-c", cpythonStartJoin, method, strconv.Itoa(b.N)).Output()
			if err != nil {
				b.Fatalf("python3: %v", err)
			}
			ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil {
				b.Fatalf("python3 printed %q", out)
			}
			b.ReportMetric(ns, "ns/op")
		})
	}
}
