// Package compare compares two sets of benchmark results with benchstat's method
// and decides which differences are regressions.
//
// Results are grouped by benchmark and unit with golang.org/x/perf/benchproc,
// summarised (median and 95% confidence interval) and tested (Mann-Whitney U,
// unless a unit's metadata says otherwise) with golang.org/x/perf/benchmath. A
// difference is significant when p < alpha with at least MinSamples samples on
// each side; it is a regression when it is significant, goes the wrong way for
// its unit (benchfmt's better=), and exceeds the threshold. The package never
// reads benchstat's text, whose sign ignores the direction of a unit.
package compare

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// Options set the gate.
type Options struct {
	Alpha         float64 // significance level; 0 means 0.05
	MaxRegression float64 // a fraction: 0.05 lets a significant 5% change the wrong way pass
	MinSamples    int     // on each side for a difference to count; 0 means 6
}

func (o Options) withDefaults() Options {
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if o.MinSamples == 0 {
		o.MinSamples = 6
	}
	return o
}

// Status of one side of a row.
const (
	Measured    = ""
	Unsupported = "unsupported" // the implementation does not support the benchmark
	Failed      = "failed"      // it failed to run
	Missing     = "missing"     // the file does not have it
)

// Cell is one side of a row.
type Cell struct {
	Status  string
	Reason  string // for Unsupported and Failed
	Values  []float64
	Summary benchmath.Summary
}

// Row compares one benchmark in one unit.
type Row struct {
	Name   string // the full benchmark name without "Benchmark"
	Unit   string // tidied (ns/op reads as sec/op, as in benchstat)
	Better int    // +1 higher is better, -1 lower is better, 0 unknown
	Old    Cell
	New    Cell

	Ratio       float64 // new centre / old centre, when both were measured
	Comparison  benchmath.Comparison
	Significant bool   // p < alpha with enough samples on each side
	Regression  bool   // significant, the wrong way, beyond the threshold
	Note        string // why a difference does not count, when it does not
}

// Delta is the relative change of the centre, new against old.
func (r Row) Delta() float64 { return r.Ratio - 1 }

// Worse is the relative change in the bad direction: positive when new is
// worse than old by the unit's direction.
func (r Row) Worse() float64 {
	switch r.Better {
	case 1:
		return 1 - r.Ratio
	case -1:
		return r.Ratio - 1
	}
	return 0
}

// Compare compares every benchmark and unit of old and new, in the order they
// first appear (old's, then new's).
func Compare(old, new *benchfile.File, o Options) []Row {
	o = o.withDefaults()
	var pp benchproc.ProjectionParser
	proj, unitField, err := pp.ParseWithUnit(".fullname", nil)
	if err != nil {
		panic(err) // a constant projection
	}
	type key struct {
		name benchproc.Key
		unit string
	}
	var order []key
	values := map[key][2][]float64{}
	names := map[key]string{}
	for side, f := range []*benchfile.File{old, new} {
		for _, res := range f.Results {
			for i, k := range proj.ProjectValues(res) {
				kk := key{k, k.Get(unitField)}
				v, seen := values[kk]
				if !seen {
					order = append(order, kk)
					names[kk] = strings.TrimPrefix(res.Name.String(), "Benchmark")
				}
				v[side] = append(v[side], res.Values[i].Value)
				values[kk] = v
			}
		}
	}
	units := benchfmt.UnitMetadataMap{}
	for _, f := range []*benchfile.File{old, new} {
		for k, m := range f.Units {
			units[k] = m
		}
	}
	var rows []Row
	for _, k := range order {
		v := values[k]
		r := Row{Name: names[k], Unit: k.unit, Better: better(units, k.unit)}
		assume := units.GetAssumption(k.unit)
		thr := &benchmath.Thresholds{CompareAlpha: o.Alpha}
		r.Old = cell(old, r.Name, v[0], assume, thr)
		r.New = cell(new, r.Name, v[1], assume, thr)
		if r.Old.Status == Measured && r.New.Status == Measured {
			judge(&r, assume, thr, o)
		}
		rows = append(rows, r)
	}
	// Benchmarks that one side skipped or failed and neither side measured.
	for _, f := range []*benchfile.File{old, new} {
		for _, notes := range []map[string]string{f.Skipped, f.Failed} {
			for full := range notes {
				name := strings.TrimPrefix(full, "Benchmark")
				if !hasRow(rows, name) {
					rows = append(rows, Row{Name: name, Old: cell(old, name, nil, nil, nil), New: cell(new, name, nil, nil, nil)})
				}
			}
		}
	}
	return rows
}

// better is the unit's direction from its metadata, else from benchfmt's
// defaults; a rate ("msgs/s") without metadata, as `go test` writes b.ReportMetric
// units, is higher-is-better.
func better(units benchfmt.UnitMetadataMap, unit string) int {
	if b := units.GetBetter(unit); b != 0 {
		return b
	}
	if strings.HasSuffix(unit, "/s") {
		return 1
	}
	return 0
}

func hasRow(rows []Row, name string) bool {
	for _, r := range rows {
		if r.Name == name {
			return true
		}
	}
	return false
}

func cell(f *benchfile.File, name string, vals []float64, assume benchmath.Assumption, thr *benchmath.Thresholds) Cell {
	full := "Benchmark" + name
	if len(vals) == 0 {
		if why, ok := f.Skipped[full]; ok {
			return Cell{Status: Unsupported, Reason: why}
		}
		if why, ok := f.Failed[full]; ok {
			return Cell{Status: Failed, Reason: why}
		}
		return Cell{Status: Missing}
	}
	s := benchmath.NewSample(vals, thr)
	c := Cell{Values: s.Values, Summary: assume.Summary(s, 0.95)}
	if why, ok := f.Failed[full]; ok {
		c.Reason = "some samples failed: " + why
	}
	return c
}

func judge(r *Row, assume benchmath.Assumption, thr *benchmath.Thresholds, o Options) {
	oc, nc := r.Old.Summary.Center, r.New.Summary.Center
	if oc != 0 {
		r.Ratio = nc / oc
	}
	r.Comparison = assume.Compare(benchmath.NewSample(r.Old.Values, thr), benchmath.NewSample(r.New.Values, thr))
	n1, n2 := len(r.Old.Values), len(r.New.Values)
	switch {
	case n1 < o.MinSamples || n2 < o.MinSamples:
		r.Note = fmt.Sprintf("not significant: %d+%d samples, need %d a side", n1, n2, o.MinSamples)
	case !(r.Comparison.P < o.Alpha):
		r.Note = fmt.Sprintf("not significant: p=%.3f ≥ α=%g", r.Comparison.P, o.Alpha)
	default:
		r.Significant = true
	}
	switch {
	case !r.Significant:
	case r.Better == 0:
		r.Note = "unit has no direction (no better= metadata): not gated"
	case r.Worse() > o.MaxRegression:
		r.Regression = true
	case r.Worse() > 0:
		r.Note = fmt.Sprintf("worse by %.1f%%, within the %.1f%% threshold", 100*r.Worse(), 100*o.MaxRegression)
	}
}

// Regressions returns the rows that fail the gate.
func Regressions(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		if r.Regression {
			out = append(out, r)
		}
	}
	return out
}

// Table prints the rows whose unit keep accepts (all when keep is nil): each
// side's centre ± its confidence interval, the ratio new/old, and the test's p,
// with "better" or "worse" for a significant difference by the unit's direction.
// With gate, the rows that fail the gate say REGRESSION instead of worse; without
// (two different implementations), nothing regressed.
func Table(w io.Writer, rows []Row, oldLabel, newLabel string, keep func(unit string) bool, gate bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if newLabel == "" {
		fmt.Fprintf(tw, "benchmark\tunit\t%s\t\t\n", oldLabel)
	} else {
		fmt.Fprintf(tw, "benchmark\tunit\t%s\t\t%s\t\tratio\tp\t\n", oldLabel, newLabel)
	}
	for _, r := range rows {
		if keep != nil && r.Unit != "" && !keep(r.Unit) {
			continue
		}
		if newLabel == "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.Name, unitLabel(r), side(r.Old, r.Unit))
			continue
		}
		ratio, p := "", ""
		if r.Old.Status == Measured && r.New.Status == Measured {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
			if math.IsInf(r.Ratio, 0) || r.Ratio == 0 {
				ratio = "-"
			}
			p = r.Comparison.String()
			switch {
			case r.Regression && gate:
				p += "  REGRESSION"
			case r.Significant && r.Worse() < 0:
				p += "  better"
			case r.Significant && r.Worse() > 0:
				p += "  worse"
			case !r.Significant:
				ratio = "~" + ratio
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, unitLabel(r), side(r.Old, r.Unit), side(r.New, r.Unit), ratio, p)
	}
	return tw.Flush()
}

func unitLabel(r Row) string {
	switch r.Better {
	case 1:
		return r.Unit + " ↑"
	case -1:
		return r.Unit + " ↓"
	}
	return r.Unit
}

func side(c Cell, unit string) string {
	if c.Status != Measured {
		return c.Status + "\t"
	}
	return benchunit.Scale(c.Summary.Center, benchunit.ClassOf(unit)) + "\t± " + c.Summary.PctRangeString()
}

// Summary says in one line per regression why the gate fails, naming the
// benchmarks; empty when it passes.
func Summary(rows []Row, o Options) string {
	o = o.withDefaults()
	var b strings.Builder
	for _, r := range Regressions(rows) {
		fmt.Fprintf(&b, "regression: %s %s: %s → %s, %.1f%% worse (%s, threshold %.1f%%)\n", r.Name, r.Unit,
			benchunit.Scale(r.Old.Summary.Center, benchunit.ClassOf(r.Unit)),
			benchunit.Scale(r.New.Summary.Center, benchunit.ClassOf(r.Unit)),
			100*r.Worse(), r.Comparison, 100*o.MaxRegression)
	}
	return b.String()
}

// One summarises a single file: rows whose New side is Missing, for Table with
// no new label.
func One(f *benchfile.File) []Row {
	return Compare(f, &benchfile.File{}, Options{})
}
