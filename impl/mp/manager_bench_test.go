package mp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// The workloads of these benchmarks are cpythonManager's below, so that
// `go test -bench Manager ./impl/mp` gives the reference and CPython side
// by side, in one run: N client processes, each doing its share of b.N
// d[k] = v (or v = d[k]), every op acknowledged before the next.

type managerBenchArg struct {
	D      *mp.DictProxy
	Go     *mp.Event
	Client int
	N      int
	Get    bool
}

var managerBenchClient = mp.Register("bench.manager", func(a managerBenchArg) error {
	a.Go.Wait(context.Background())
	base := a.Client << 32
	for k := range a.N {
		var err error
		if a.Get {
			_, err = a.D.Get(k % 1024)
		} else {
			err = a.D.Set(base+k, k)
		}
		if err != nil {
			return err
		}
	}
	return nil
})

func benchManager(b *testing.B, clients int, get bool) {
	m, err := mp.NewManager()
	if err != nil {
		b.Fatal(err)
	}
	defer m.Shutdown()
	d, err := m.Dict(nil)
	if err != nil {
		b.Fatal(err)
	}
	if get {
		for k := range 1024 {
			d.Set(k, k)
		}
	}
	ev, err := mp.NewEvent()
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	n := max(b.N/clients, 1)
	var ps []*mp.Process
	for c := range clients {
		p := mp.New(managerBenchClient, managerBenchArg{D: d, Go: ev, Client: c, N: n, Get: get})
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	ctx := context.Background()
	b.ResetTimer()
	ev.Set()
	for _, p := range ps {
		p.Join(ctx)
		if code, _ := p.ExitCode(); code != 0 {
			b.Fatalf("client exited %d", code)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n*clients)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkManagerDictSet(b *testing.B) {
	for _, c := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) { benchManager(b, c, false) })
	}
}

func BenchmarkManagerDictGet(b *testing.B) {
	for _, c := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) { benchManager(b, c, true) })
	}
}

// cpythonManager times the same workloads in CPython (fork context): N
// client processes, each doing n/N d[k] = v (or d[k]) on one
// multiprocessing.Manager dict, from a common start to the last join; it
// prints nanoseconds per op. n is at least 20000, whatever b.N.
const cpythonManager = `
import multiprocessing as mp, sys, time
def client(d, go, c, n, get):
    go.wait()
    base = c << 32
    if get:
        for k in range(n):
            d[k % 1024]
    else:
        for k in range(n):
            d[base + k] = k
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    workload, clients, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    get = workload == "get"
    # b.N stays small when each run pays for starting CPython: do enough
    # ops for the time per op to mean something whatever b.N is.
    n = max(n, 20000) // clients
    with ctx.Manager() as m:
        d = m.dict()
        if get:
            d.update({k: k for k in range(1024)})
        go = ctx.Event()
        ps = [ctx.Process(target=client, args=(d, go, c, n, get)) for c in range(clients)]
        for p in ps: p.start()
        time.sleep(0.2)  # the clients connect and wait, as the Go ones do
        t0 = time.perf_counter_ns()
        go.set()
        for p in ps: p.join()
        t1 = time.perf_counter_ns()
    print((t1 - t0) / (n * clients))
`

func cpythonManagerBench(b *testing.B, workload string) {
	for _, c := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("clients=%d", c), func(b *testing.B) {
			ns := python(b, cpythonManager, workload, fmt.Sprint(c))
			b.ReportMetric(1e9/ns, "ops/s")
		})
	}
}

// BenchmarkManagerDictSetCPython is BenchmarkManagerDictSet on CPython.
func BenchmarkManagerDictSetCPython(b *testing.B) { cpythonManagerBench(b, "set") }

// BenchmarkManagerDictGetCPython is BenchmarkManagerDictGet on CPython.
func BenchmarkManagerDictGetCPython(b *testing.B) { cpythonManagerBench(b, "get") }
