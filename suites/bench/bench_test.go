// Package bench is the `go test -bench` front end of the benchmark workloads
// (harness/bench): the same scenarios, measured by the driver's own marks and
// reported with b.ReportMetric, so that
//
//	go test -run '^$' -bench . -count 6 ./suites/bench | tee new.txt
//	go tool benchstat old.txt new.txt
//
// works as Go users expect. It runs the implementation named by $MPCONFORM_IMPL
// (default: the Go reference in impl/). Without -bench nothing here starts a
// driver: `go test ./...` only checks that every workload builds a valid scenario.
package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mpconform/mpconform/harness/bench"
	"github.com/mpconform/mpconform/harness/runner"
	"github.com/mpconform/mpconform/harness/schema"
)

// TestWorkloadsAreValid checks every workload's scenario against the protocol's
// schema, at a small and a large n, without running anything.
func TestWorkloadsAreValid(t *testing.T) {
	for _, w := range bench.Workloads() {
		for _, n := range []int{1, 7, w.Max} {
			sc, ops := w.Scenario(n)
			if ops < n {
				t.Errorf("%s: n=%d measures %d ops, fewer than asked", w.Name, n, ops)
			}
			doc, err := sc.JSON()
			if err == nil {
				err = schema.Scenario(doc)
			}
			if err != nil {
				t.Errorf("%s: n=%d: %v", w.Name, n, err)
			}
		}
	}
}

var impl struct {
	once sync.Once
	im   *runner.Impl
	err  error
}

func open(b *testing.B) *runner.Impl {
	impl.once.Do(func() {
		dir := os.Getenv("MPCONFORM_IMPL")
		if dir == "" {
			dir = filepath.Join("..", "..", "impl")
		}
		impl.im, impl.err = runner.Open(context.Background(), dir)
	})
	if impl.err != nil {
		b.Fatalf("cannot open the implementation: %v", impl.err)
	}
	return impl.im
}

func TestMain(m *testing.M) {
	code := m.Run()
	if impl.im != nil {
		impl.im.Close()
	}
	os.Exit(code)
}

// run runs every workload of an area ("Queue") as a sub-benchmark named as
// conform bench names it, so that results of both front ends compare.
func run(b *testing.B, area string) {
	for _, w := range bench.Workloads() {
		sub, ok := strings.CutPrefix(w.Name, area+"/")
		if !ok {
			continue
		}
		b.Run(sub, func(b *testing.B) {
			im := open(b)
			if missing, ok := w.Supported(im.Hello); !ok {
				b.Skipf("unsupported: %s does not list feature %s", im.Name, missing)
			}
			b.ResetTimer() // the first call builds the driver
			// b.N is the number of operations of one sample; the timer of
			// testing also counts the driver's start-up, which only makes b.N
			// grow more slowly: the metrics come from the driver's marks.
			s, err := bench.Run(context.Background(), im, w, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(s.NsPerOp(), "ns/op")
			b.ReportMetric(s.Rate(), w.Unit)
		})
	}
}

func BenchmarkProcess(b *testing.B)  { run(b, "Process") }
func BenchmarkLock(b *testing.B)     { run(b, "Lock") }
func BenchmarkQueue(b *testing.B)    { run(b, "Queue") }
func BenchmarkPipe(b *testing.B)     { run(b, "Pipe") }
func BenchmarkManager(b *testing.B)  { run(b, "Manager") }
func BenchmarkPool(b *testing.B)     { run(b, "Pool") }
func BenchmarkParallel(b *testing.B) { run(b, "Parallel") }
