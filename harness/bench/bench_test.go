package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/harness/trace"
)

func mark(pid int, name string, t0 int64) trace.Record {
	return trace.Record{Pid: pid, Op: "mark", In: map[string]any{"name": name}, T0: t0, T1: t0, OK: true}
}

func TestMeasureFromFirstBeginToLastEnd(t *testing.T) {
	tr := &trace.Trace{Records: []trace.Record{
		{Pid: 1, Op: "process.begin", T0: 0, OK: true},
		mark(2, Begin, 1000), mark(3, Begin, 1500),
		{Pid: 2, Op: "put_many", T0: 1000, T1: 4000, OK: true},
		{Pid: 3, Op: "get_many", Pending: true, T0: 1500},
		mark(2, End, 4000), mark(3, End, 5000),
	}}
	d, err := Measure(tr)
	if err != nil || d != 4000*time.Nanosecond {
		t.Fatalf("Measure = %v, %v; want 4µs", d, err)
	}
}

func TestMeasureRejectsBrokenRuns(t *testing.T) {
	for name, recs := range map[string][]trace.Record{
		"no marks":    {{Pid: 1, Op: "sleep", OK: true}},
		"no end":      {mark(2, Begin, 1), mark(3, Begin, 2), mark(3, End, 9)},
		"a failed op": {mark(2, Begin, 1), {Pid: 2, Op: "get_many", OK: false, Error: &trace.Error{Kind: "Empty"}}, mark(2, End, 9)},
	} {
		if _, err := Measure(&trace.Trace{Records: recs}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRound(t *testing.T) {
	for n, want := range map[int]int{1: 1, 4: 5, 7: 5, 8: 10, 140: 100, 260: 300, 4_100_000: 5_000_000, 2_300: 2_000} {
		if got := round(n); got != want {
			t.Errorf("round(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestWorkloadsCoverEveryArea(t *testing.T) {
	names := map[string]bool{}
	for _, w := range Workloads() {
		if names[w.Name] {
			t.Errorf("%s twice", w.Name)
		}
		names[w.Name] = true
		if Units[w.Unit] != "higher" {
			t.Errorf("%s: unit %q has no direction", w.Name, w.Unit)
		}
	}
	for _, prefix := range []string{"Process/", "Lock/uncontended", "Lock/contended", "Queue/p=1/c=1/size=64KiB", "Queue/p=2/c=2/size=8B",
		"Pipe/roundtrip/size=1KiB", "Pipe/stream/size=64KiB", "Manager/dict/clients=4", "Pool/apply_async/workers=2",
		"Pool/map/workers=4", "Parallel/pipe/p=4"} {
		found := false
		for n := range names {
			found = found || strings.HasPrefix(n, prefix)
		}
		if !found {
			t.Errorf("no workload %s", prefix)
		}
	}
}

func TestLoadedWorkloads(t *testing.T) {
	names := map[string]bool{}
	loaded := 0
	for _, w := range Workloads() {
		names[w.Name] = true
		if base, ok := strings.CutPrefix(w.Name, "Loaded/"); ok {
			loaded++
			if !names[base] || w.Load < 1 {
				t.Errorf("%s: no idle workload %s, or no load (%d)", w.Name, base, w.Load)
			}
		}
	}
	if loaded != 10 {
		t.Errorf("%d loaded workloads, want 10", loaded)
	}
}

// TestLoadStops: the busy loops run while the load is on and are reaped when it
// stops.
func TestLoadStops(t *testing.T) {
	stop, err := startLoad(2)
	if err != nil {
		t.Fatal(err)
	}
	if n := childCount(t); n != 2 {
		t.Errorf("%d children while loaded, want 2", n)
	}
	stop()
	if n := childCount(t); n != 0 {
		t.Errorf("%d children left after stop", n)
	}
}

func childCount(t *testing.T) int {
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		n += len(strings.Fields(string(b)))
	}
	return n
}
