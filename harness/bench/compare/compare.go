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
//
// Each row also says what the run could see. The ratio new/old has the
// confidence interval at 1-alpha that inverts the Mann-Whitney test (the
// Hodges-Lehmann interval, on log values so that it is a ratio's): the order
// statistics of the pairwise ratios new_j/old_i at the test's critical U. It
// was chosen over a bootstrap because it is the gate's own test turned into an
// interval: it excludes 1 exactly when the test rejects (without ties), it
// makes no assumption of the samples' distribution, it is deterministic with
// no seed, and it holds its level with 6 samples a side, where a bootstrap of
// medians has too few distinct resamples to. The detectable change is the
// shift that test would call significant if the new samples scattered as the
// old ones do, from every split of the old samples (see detectable): a change
// that size is found about half the time, one and a half times that size nine
// times in ten. A row without a significant difference whose detectable
// change exceeds the threshold is blind: its "no regression" says nothing, and
// the gate warns about it instead.
package compare

import (
	"fmt"
	"math"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"

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
	Lo, Hi      float64 // the confidence interval of new/old at 1-alpha, when both were measured; NaN when not known
	Comparison  benchmath.Comparison
	Significant bool   // p < alpha with enough samples on each side
	Regression  bool   // significant, the wrong way, beyond the threshold
	Note        string // why a difference does not count, when it does not

	// Detectable is the smallest change the wrong way (as Worse measures it)
	// that the run could have called significant, from the spread of the old
	// samples: +Inf when it could see none, NaN when not known.
	Detectable float64
	// Blind is a gated row without a significant difference whose Detectable
	// exceeds the threshold: its "no regression" says nothing.
	Blind bool
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
	r.Lo, r.Hi, r.Detectable = math.NaN(), math.NaN(), math.NaN()
	if assume == benchmath.AssumeNothing {
		c := critical(n1, n2, o.Alpha)
		r.Lo, r.Hi = ratioInterval(r.Old.Values, r.New.Values, c)
		if n1 < o.MinSamples || n2 < o.MinSamples {
			c = -1 // the gate would not count what the test saw
		}
		r.Detectable = worse(r.Better, detectable(r.Old.Values, n2, c))
	}
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
	r.Blind = !r.Significant && r.Better != 0 && r.Detectable > o.MaxRegression
}

// worse turns a shift of log ratio s into a relative change the wrong way for
// direction better, as Row.Worse measures it: a fall for higher-is-better.
func worse(better int, s float64) float64 {
	if better == 1 && !math.IsInf(s, 1) {
		return 1 - math.Exp(-s)
	}
	return math.Expm1(s)
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

// One summarises a single file: rows whose New side is Missing, for Table with
// no new label.
func One(f *benchfile.File) []Row {
	return Compare(f, &benchfile.File{}, Options{})
}
