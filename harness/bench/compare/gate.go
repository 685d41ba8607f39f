package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Gate is the gate's verdict on rows: one line per regression (every unit),
// one warning per workload whose run could not have seen a regression of the
// threshold's size (units that keep accepts, all when nil), and a last line that
// counts both. Only a regression fails the gate: a run too noisy to see one is
// a warning, since more samples or a quieter machine, not the change, would
// settle it.
func Gate(rows []Row, o Options, keep func(unit string) bool) (report string, failed bool) {
	o = o.withDefaults()
	thr := percentOf(o.MaxRegression)
	var b strings.Builder
	var names, regressed, blind []string // workloads gated, failed, blind
	for _, r := range Regressions(rows) {
		names, regressed = addName(names, r.Name), addName(regressed, r.Name)
		ci := ""
		if s := interval(r); s != "" {
			ci = ", ratio in " + s
		}
		fmt.Fprintf(&b, "regression: %s %s: %s → %s, %.1f%% worse (%s%s, threshold %s)\n", r.Name, r.Unit,
			benchunit.Scale(r.Old.Summary.Center, benchunit.ClassOf(r.Unit)),
			benchunit.Scale(r.New.Summary.Center, benchunit.ClassOf(r.Unit)),
			100*r.Worse(), r.Comparison, ci, thr)
		failed = true
	}
	detect := map[string][]string{} // workload -> what each blind unit could detect
	other := map[string][]string{}  // workload -> why a blind unit could detect nothing
	for _, r := range rows {
		if r.Old.Status != Measured || r.New.Status != Measured || r.Better == 0 || keep != nil && !keep(r.Unit) {
			continue
		}
		names = addName(names, r.Name)
		if r.Blind {
			blind = addName(blind, r.Name)
			if math.IsInf(r.Detectable, 1) {
				other[r.Name] = append(other[r.Name], nothing(r, o))
			} else {
				detect[r.Name] = append(detect[r.Name], fmt.Sprintf("≥ %s (%s)", percent(r.Detectable), r.Unit))
			}
		}
	}
	for _, name := range blind {
		why := other[name]
		if d := detect[name]; len(d) > 0 {
			why = append([]string{"the run could only detect " + strings.Join(d, ", ")}, why...)
		}
		fmt.Fprintf(&b, "warning: %s: could not see a %s regression: %s\n", name, thr, strings.Join(why, "; "))
	}
	var unseen string
	switch {
	case len(blind) > 0 && failed:
		unseen = fmt.Sprintf("; %d could not see a %s regression", len(blind), thr)
	case len(blind) > 0:
		unseen = fmt.Sprintf("; %d of %s could not see one", len(blind), workloads(len(names)))
	case len(names) > 0:
		unseen = fmt.Sprintf("; the run could see one in every workload (%d)", len(names))
	}
	if failed {
		fmt.Fprintf(&b, "gate: %d of %s regressed beyond %s (α=%g)%s\n", len(regressed), workloads(len(names)), thr, o.Alpha, unseen)
	} else {
		fmt.Fprintf(&b, "gate: no significant regression beyond %s (α=%g)%s\n", thr, o.Alpha, unseen)
	}
	return b.String(), failed
}

// nothing says why a row's run could detect no change at all.
func nothing(r Row, o Options) string {
	n1, n2 := len(r.Old.Values), len(r.New.Values)
	if n1 < o.MinSamples || n2 < o.MinSamples {
		return fmt.Sprintf("%d+%d samples, need %d a side (%s)", n1, n2, o.MinSamples, r.Unit)
	}
	return fmt.Sprintf("the test cannot reach α=%g with %d+%d samples (%s)", o.Alpha, n1, n2, r.Unit)
}

func addName(names []string, name string) []string {
	if slices.Contains(names, name) {
		return names
	}
	return append(names, name)
}

func workloads(n int) string {
	if n == 1 {
		return "1 workload"
	}
	return fmt.Sprint(n, " workloads")
}

func percentOf(x float64) string { return fmt.Sprintf("%.4g%%", 100*x) }
