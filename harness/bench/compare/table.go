package compare

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"golang.org/x/perf/benchunit"
)

// Table prints the rows whose unit keep accepts (all when keep is nil): each
// side's centre ± its confidence interval, the ratio new/old with its
// confidence interval, the test's p, the smallest change the run could have
// detected, and "better" or "worse" for a significant difference by the unit's
// direction. With gate, the rows that fail the gate say REGRESSION instead of
// worse, and those too noisy to see a regression of the threshold's size say so;
// without (two different implementations), nothing regressed.
func Table(w io.Writer, rows []Row, oldLabel, newLabel string, keep func(unit string) bool, gate bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if newLabel == "" {
		fmt.Fprintf(tw, "benchmark\tunit\t%s\t\t\n", oldLabel)
	} else {
		fmt.Fprintf(tw, "benchmark\tunit\t%s\t\t%s\t\tratio\t%s\tp\tdetectable\t\t\n", oldLabel, newLabel, ciLabel(rows))
	}
	for _, r := range rows {
		if keep != nil && r.Unit != "" && !keep(r.Unit) {
			continue
		}
		if newLabel == "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.Name, unitLabel(r), side(r.Old, r.Unit))
			continue
		}
		var ratio, ci, p, mdc, verdict string
		if r.Old.Status == Measured && r.New.Status == Measured {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
			if math.IsInf(r.Ratio, 0) || r.Ratio == 0 {
				ratio = "-"
			}
			ci, p, mdc = interval(r), r.Comparison.String(), percent(r.Detectable)
			switch {
			case r.Regression && gate:
				verdict = "REGRESSION"
			case r.Significant && r.Worse() < 0:
				verdict = "better"
			case r.Significant && r.Worse() > 0:
				verdict = "worse"
			case r.Blind && gate:
				verdict = "too noisy"
			}
			if !r.Significant {
				ratio = "~" + ratio
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, unitLabel(r), side(r.Old, r.Unit), side(r.New, r.Unit),
			ratio, ci, p, mdc, verdict)
	}
	return tw.Flush()
}

// ciLabel names the ratio's interval by its level, which is 1 - alpha.
func ciLabel(rows []Row) string {
	for _, r := range rows {
		if a := r.Comparison.Alpha; a > 0 {
			return fmt.Sprintf("%.4g%% CI", 100*(1-a))
		}
	}
	return "CI"
}

// interval prints the confidence interval of the row's ratio; "" when unknown.
func interval(r Row) string {
	if math.IsNaN(r.Lo) || math.IsNaN(r.Hi) {
		return ""
	}
	hi := "∞"
	if !math.IsInf(r.Hi, 1) {
		hi = fmt.Sprintf("%.2f", r.Hi)
	}
	return fmt.Sprintf("[%.2f, %s]", r.Lo, hi)
}

// percent prints a fraction with two significant digits, as a spread is read.
func percent(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 1):
		return "∞"
	case x >= 0.095:
		return fmt.Sprintf("%.0f%%", 100*x)
	}
	return fmt.Sprintf("%.1f%%", 100*x)
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
