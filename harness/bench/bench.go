// Package bench defines the benchmark workloads of docs/benchmarks.md and runs them on an
// implementation's driver.
//
// A workload is a scenario whose measuring processes bracket one bulk op (or a
// repeat of process ops) with the marks Begin and End; a sample is the time from
// the first Begin to the last End, read from the driver's own CLOCK_MONOTONIC
// timestamps, so the driver's start-up and the processes' start-up are not
// counted unless the workload measures start-up itself. Calibrate picks the
// number of operations per sample; Run takes one sample.
//
// Writing samples in the Go benchmark format is package benchfile's job; comparing
// them is package compare's.
package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mpconform/mpconform/harness/runner"
	"github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/schema"
	"github.com/mpconform/mpconform/harness/trace"
)

// Workload is one benchmark.
type Workload struct {
	Name     string   // the benchmark's name without "Benchmark": "Queue/p=1/c=1/size=8B"
	Unit     string   // its throughput unit (reported beside ns/op)
	Features []string // the hello features it needs
	Start    int      // the first calibration's n
	Max      int      // the largest n a sample may use
	Load     int      // busy loops that run beside each sample (load.go)

	build func(n int) (*scenario.Scenario, int) // the scenario for about n ops, and its ops
}

// Scenario returns the workload's scenario for about n operations and the exact
// number of operations it measures (n rounded up so that processes share it
// evenly).
func (w Workload) Scenario(n int) (*scenario.Scenario, int) { return w.build(max(n, 1)) }

// Supported reports whether the driver lists every feature the workload needs.
func (w Workload) Supported(h runner.Hello) (missing string, ok bool) {
	return h.Supports(w.Features...)
}

// Sample is one measurement: Ops operations in Elapsed.
type Sample struct {
	Ops     int
	Elapsed time.Duration
}

// NsPerOp is the time per operation.
func (s Sample) NsPerOp() float64 { return float64(s.Elapsed.Nanoseconds()) / float64(s.Ops) }

// Rate is operations per second.
func (s Sample) Rate() float64 { return float64(s.Ops) / s.Elapsed.Seconds() }

// Deadline bounds one sample's run; a sample takes a fraction of a second.
var Deadline = 2 * time.Minute

// Run takes one sample of about n operations.
func Run(ctx context.Context, im *runner.Impl, w Workload, n int) (Sample, error) {
	sc, ops := w.Scenario(n)
	doc, err := sc.JSON()
	if err != nil {
		return Sample{}, err
	}
	if err := schema.Scenario(doc); err != nil {
		return Sample{}, fmt.Errorf("%s: the harness built an invalid scenario: %v", w.Name, err)
	}
	if w.Load > 0 {
		stop, err := startLoad(w.Load)
		if err != nil {
			return Sample{}, err
		}
		defer stop()
	}
	res, err := im.Run(ctx, doc, runner.Options{Deadline: Deadline})
	if err != nil {
		return Sample{}, err
	}
	if len(res.Leaks) > 0 {
		return Sample{}, fmt.Errorf("processes outlived the run: %v", res.Leaks)
	}
	el, err := Measure(res.Trace)
	if err != nil {
		return Sample{}, err
	}
	return Sample{Ops: ops, Elapsed: el}, nil
}

// Measure returns the time from the first Begin mark to the last End mark. Every
// process that marks Begin must mark End, and no op may have failed: a sample of a
// run that went wrong would be a number that means nothing.
func Measure(t *trace.Trace) (time.Duration, error) {
	var first, last int64 = math.MaxInt64, math.MinInt64
	begins, ends := map[int]bool{}, map[int]bool{}
	for _, r := range t.Records {
		if r.Pending {
			continue
		}
		if !r.OK && !strings.HasPrefix(r.Op, "process.") {
			return 0, fmt.Errorf("op failed: %s", r)
		}
		if r.Op != "mark" {
			continue
		}
		switch trace.Field(r.In, "name") {
		case Begin:
			begins[r.Pid] = true
			first = min(first, r.T0)
		case End:
			ends[r.Pid] = true
			last = max(last, r.T0)
		}
	}
	if len(begins) == 0 || len(begins) != len(ends) {
		return 0, fmt.Errorf("the trace has %d processes marking %q and %d marking %q", len(begins), Begin, len(ends), End)
	}
	for pid := range begins {
		if !ends[pid] {
			return 0, fmt.Errorf("process %d marked %q but not %q", pid, Begin, End)
		}
	}
	if last <= first {
		return 0, fmt.Errorf("the marks measure %dns", last-first)
	}
	return time.Duration(last - first), nil
}

// Calibrate returns the n for which one sample takes about target: like Go's
// testing package, it grows n from w.Start until a sample lasts long enough to
// predict from, then scales it to target and rounds it to a readable number. The
// first probe never decides: its fixed costs (a feeder thread starting, caches
// filling) make a small n look slow.
func Calibrate(ctx context.Context, im *runner.Impl, w Workload, target time.Duration) (int, error) {
	n := w.Start
	for probe := 1; ; probe++ {
		smp, err := Run(ctx, im, w, n)
		if err != nil {
			return 0, err
		}
		perOp := float64(smp.Elapsed) / float64(smp.Ops)
		want := int(math.Min(float64(target)/perOp, float64(w.Max)))
		if (probe > 1 && smp.Elapsed >= target/3) || smp.Ops >= w.Max {
			return min(round(max(want, 1)), w.Max), nil
		}
		// Grow at least 2x and at most 100x, aiming past the target for the
		// prediction's own sample to be long enough.
		n = min(max(2*n, want/2), 100*n, w.Max)
	}
}

// round rounds n to the nearest of 1, 2, 3 or 5 times a power of ten, as Go's
// testing package picks b.N, so that iteration counts read well.
func round(n int) int {
	best := 1
	for p := 1; p <= n*10; p *= 10 {
		for _, m := range []int{1, 2, 3, 5} {
			if math.Abs(math.Log(float64(m*p)/float64(n))) < math.Abs(math.Log(float64(best)/float64(n))) {
				best = m * p
			}
		}
	}
	return best
}

// Filter returns the workloads whose names match match.
func Filter(ws []Workload, match func(string) bool) []Workload {
	var out []Workload
	for _, w := range ws {
		if match(w.Name) {
			out = append(out, w)
		}
	}
	return out
}
