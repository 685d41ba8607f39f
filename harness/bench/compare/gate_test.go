package compare

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// The critical U of the two-sided test at α = 0.05, from the tables of the
// Mann-Whitney distribution: 6+6 rejects U ≤ 5, 5+5 U ≤ 2, and 3+3 nothing.
func TestCritical(t *testing.T) {
	for _, c := range []struct{ n1, n2, want int }{{6, 6, 5}, {5, 5, 2}, {3, 3, -1}, {6, 10, 11}} {
		if got := critical(c.n1, c.n2, 0.05); got != c.want {
			t.Errorf("critical(%d, %d) = %d, want %d", c.n1, c.n2, got, c.want)
		}
	}
}

func TestIntervalContainsTrueRatio(t *testing.T) {
	const seeds = 60
	inside := 0
	for seed := range uint64(seeds) {
		rows := Compare(synth(t, 2*seed, 6, 1e6, 0.2), synth(t, 2*seed+1, 6, 1.2e6, 0.2), Options{})
		r := rows[1] // msgs/s
		if r.Lo <= 1.2 && 1.2 <= r.Hi {
			inside++
		}
		// The interval and the test are one: it excludes 1 when p < α.
		if excludes := r.Lo > 1 || r.Hi < 1; excludes != (r.Comparison.P < 0.05) {
			t.Errorf("seed %d: interval [%.3f, %.3f] with p=%.4f", seed, r.Lo, r.Hi, r.Comparison.P)
		}
	}
	// 95% intervals: about 57 of 60 hold the truth; fewer than 54 would be
	// a 1-in-100 event.
	if inside < 54 {
		t.Errorf("the interval held the true ratio 1.2 in %d of %d runs", inside, seeds)
	}
}

func TestDetectableGrowsWithNoise(t *testing.T) {
	quiet := Compare(synth(t, 1, 6, 1e6, 0.01), synth(t, 2, 6, 1e6, 0.01), Options{})[1]
	noisy := Compare(synth(t, 1, 6, 1e6, 0.4), synth(t, 2, 6, 1e6, 0.4), Options{})[1]
	if !(quiet.Detectable < 0.02 && noisy.Detectable > 0.15 && noisy.Detectable > 10*quiet.Detectable) {
		t.Errorf("detectable: %.3f with ±1%% noise, %.3f with ±40%%", quiet.Detectable, noisy.Detectable)
	}
	few := Compare(synth(t, 1, 3, 1e6, 0.01), synth(t, 2, 3, 1e6, 0.01), Options{})[1]
	if !math.IsInf(few.Detectable, 1) || !few.Blind {
		t.Errorf("3+3 samples: detectable %v, blind %v", few.Detectable, few.Blind)
	}
}

// TestDetectableIsCalibrated: a change of the detectable size is found about
// half the time; half of it seldom, one and a half times it mostly.
func TestDetectableIsCalibrated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	draw := func(scale float64) []float64 {
		v := make([]float64, 6)
		for i := range v {
			v[i] = scale * math.Exp(0.1*r.NormFloat64())
		}
		return v
	}
	const runs = 300
	c := critical(6, 6, 0.05)
	mdc := 0.0
	for range runs {
		mdc += detectable(draw(1), 6, c) / runs
	}
	thr := &benchmath.Thresholds{CompareAlpha: 0.05}
	found := func(shift float64) float64 {
		n := 0
		for range runs {
			if benchmath.AssumeNothing.Compare(benchmath.NewSample(draw(1), thr), benchmath.NewSample(draw(math.Exp(-shift)), thr)).P < 0.05 {
				n++
			}
		}
		return float64(n) / runs
	}
	half, at, more := found(0.5*mdc), found(mdc), found(1.5*mdc)
	t.Logf("detectable %.3f: found %.2f at half of it, %.2f at it, %.2f at 1.5 times", mdc, half, at, more)
	if !(half < 0.3 && 0.3 < at && at < 0.7 && more > 0.75) {
		t.Errorf("found %.2f at half the detectable change, %.2f at it, %.2f at 1.5 times", half, at, more)
	}
}

func TestNoisyRunWarns(t *testing.T) {
	reg, table, report := gate(t, synth(t, 1, 6, 1e6, 0.4), synth(t, 2, 6, 1e6, 0.4))
	if len(reg) > 0 {
		t.Fatalf("no change flagged: %+v", reg)
	}
	for _, want := range []string{
		"warning: Queue/p=1-2: could not see a 5% regression: the run could only detect ≥ ",
		"gate: no significant regression beyond 5% (α=0.05); 1 of 1 workload could not see one",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(table, "too noisy") {
		t.Errorf("the table does not say too noisy:\n%s", table)
	}
}

func TestQuietRunSeesRegressions(t *testing.T) {
	_, table, report := gate(t, synth(t, 1, 6, 1e6, 0.005), synth(t, 2, 6, 1e6, 0.005))
	if strings.Contains(report, "warning") || strings.Contains(table, "too noisy") ||
		!strings.Contains(report, "the run could see one in every workload (1)") {
		t.Errorf("a quiet run warns:\n%s%s", table, report)
	}
}

func TestDifferentMachinesWarn(t *testing.T) {
	a, b := synthOn(t, "AMD EPYC 7B13", 1, 6, 1e6, 0.01), synthOn(t, "Intel(R) Xeon(R) CPU @ 2.20GHz", 2, 6, 1e6, 0.01)
	for _, c := range []struct {
		old, new interface{ CPU() string }
		warn     bool
	}{{a, b, true}, {a, a, false}, {a, synth(t, 3, 6, 1e6, 0.01), false}} {
		var out bytes.Buffer
		old, new := c.old.(*benchfile.File), c.new.(*benchfile.File)
		if err := Sources(&out, []string{"old", "new"}, old, new); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		if got := strings.Contains(text, "warning: the files come from different machines"); got != c.warn ||
			!strings.Contains(text, "(cpu: "+old.CPU()+")") {
			t.Errorf("cpu %q and %q: warning %v, want %v:\n%s", old.CPU(), new.CPU(), got, c.warn, text)
		}
		if c.warn && strings.Count(text, "\n") != 3 {
			t.Errorf("the warning is not one line:\n%s", text)
		}
	}
}

func TestDeterministic(t *testing.T) {
	text := func() string {
		_, table, report := gate(t, synth(t, 1, 8, 1e6, 0.3), synth(t, 2, 7, 0.93e6, 0.3))
		return table + report
	}
	if a, b := text(), text(); a != b {
		t.Errorf("two runs on the same files differ:\n%s\n%s", a, b)
	}
}

// A zero throughput has no log ratio: the row says "-" where it cannot tell,
// and the gate does not claim the run was blind.
func TestZeroValuesHaveNoInterval(t *testing.T) {
	old := synth(t, 1, 6, 1e6, 0.4)
	for _, res := range old.Results {
		res.Values[1].Value = 0
	}
	rows := Compare(old, synth(t, 2, 6, 1e6, 0.4), Options{MaxRegression: 0.05})
	var b bytes.Buffer
	if err := Table(&b, rows, "old", "new", nil, true); err != nil {
		t.Fatal(err)
	}
	r := rows[1]
	if !math.IsNaN(r.Lo) || !math.IsNaN(r.Detectable) || r.Blind {
		t.Errorf("msgs/s of 0: interval [%v, %v], detectable %v, blind %v\n%s", r.Lo, r.Hi, r.Detectable, r.Blind, b.String())
	}
}
