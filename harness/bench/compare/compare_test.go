package compare

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// synth writes a results file: count samples of Queue (msgs/s, with ns/op) around
// rate, with relative noise, and a skipped benchmark.
func synth(t *testing.T, seed uint64, count int, rate, noise float64) *benchfile.File {
	return synthOn(t, "", seed, count, rate, noise)
}

// synthOn is synth with a cpu line, when cpu is not "".
func synthOn(t *testing.T, cpu string, seed uint64, count int, rate, noise float64) *benchfile.File {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	config := [][2]string{{"impl", "x"}}
	if cpu != "" {
		config = append(config, [2]string{"cpu", cpu})
	}
	w, err := benchfile.NewWriter(&b, config, map[string]string{"msgs/s": "higher"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range count {
		v := rate * (1 + noise*(2*r.Float64()-1))
		w.Result("Queue/p=1", 100000, benchfile.Value{Value: 1e9 / v, Unit: "ns/op"}, benchfile.Value{Value: v, Unit: "msgs/s"})
	}
	w.Skip("Pool/map", "unsupported: the driver does not list feature pool")
	f, err := benchfile.Read(b.Bytes(), fmt.Sprint("synth", seed))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// gate compares old and new with a 5% threshold and returns the regressions,
// the table and the gate's report.
func gate(t *testing.T, old, new *benchfile.File) ([]Row, string, string) {
	t.Helper()
	rows := Compare(old, new, Options{MaxRegression: 0.05})
	var b bytes.Buffer
	if err := Table(&b, rows, "old", "new", nil, true); err != nil {
		t.Fatal(err)
	}
	report, failed := Gate(rows, Options{MaxRegression: 0.05}, nil)
	t.Logf("\n%s%s", b.String(), report)
	if failed != (len(Regressions(rows)) > 0) {
		t.Errorf("Gate says failed=%v with %d regressions", failed, len(Regressions(rows)))
	}
	return Regressions(rows), b.String(), report
}

func TestTenPercentDropFails(t *testing.T) {
	reg, _, report := gate(t, synth(t, 1, 6, 1e6, 0.02), synth(t, 2, 6, 0.9e6, 0.02))
	// Both units go the wrong way: msgs/s down, sec/op up.
	if len(reg) != 2 || reg[0].Name != "Queue/p=1-2" {
		t.Fatalf("regressions = %+v, want Queue/p=1-2 in sec/op and msgs/s", reg)
	}
	if !strings.Contains(report, "regression: Queue/p=1-2 msgs/s") || !strings.Contains(report, "gate: 1 of 1 workload regressed beyond 5%") {
		t.Errorf("the report does not name the benchmark:\n%s", report)
	}
}

func TestSameDistributionPasses(t *testing.T) {
	for seed := uint64(0); seed < 20; seed += 2 {
		if reg, _, _ := gate(t, synth(t, seed, 6, 1e6, 0.05), synth(t, seed+1, 6, 1e6, 0.05)); len(reg) > 0 {
			t.Fatalf("seed %d: same distribution flagged: %+v", seed, reg)
		}
	}
}

func TestImprovementPasses(t *testing.T) {
	reg, table, _ := gate(t, synth(t, 1, 6, 1e6, 0.02), synth(t, 2, 6, 1.1e6, 0.02))
	if len(reg) > 0 || !strings.Contains(table, "better") {
		t.Fatalf("a 10%% improvement: regressions %+v, table:\n%s", reg, table)
	}
}

func TestTooFewSamplesIsNotSignificant(t *testing.T) {
	rows := Compare(synth(t, 1, 5, 1e6, 0.01), synth(t, 2, 5, 0.5e6, 0.01), Options{})
	if reg := Regressions(rows); len(reg) > 0 {
		t.Fatalf("5 samples a side flagged: %+v", reg)
	}
	if !strings.Contains(rows[0].Note, "need 6 a side") {
		t.Errorf("note = %q", rows[0].Note)
	}
}

func TestSmallDropWithinThresholdPasses(t *testing.T) {
	reg, _, _ := gate(t, synth(t, 1, 6, 1e6, 0.005), synth(t, 2, 6, 0.97e6, 0.005))
	if len(reg) > 0 {
		t.Fatalf("a 3%% drop under a 5%% threshold flagged: %+v", reg)
	}
}

func TestUnsupportedIsNotZero(t *testing.T) {
	_, table, _ := gate(t, synth(t, 1, 6, 1e6, 0.02), synth(t, 2, 6, 1e6, 0.02))
	if !strings.Contains(table, "Pool/map") || !strings.Contains(table, "unsupported") {
		t.Fatalf("the skipped benchmark is not reported unsupported:\n%s", table)
	}
}
