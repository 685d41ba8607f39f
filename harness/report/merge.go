package report

import (
	"fmt"
	"strings"
)

// Merge combines the results of repeated runs of the same suites into one,
// behaviour by behaviour. A behaviour whose verdict was the same in every run
// keeps it (with the first run's message and trace). One whose verdict changed
// is flaky: its message counts the verdicts, and unless the expectations record
// it as flaky it is also Unrecorded, which fails the run, since a spec that
// changes its mind cannot be trusted either way. runs must be non-empty.
func Merge(runs []*Results, exp *Expectations) *Results {
	merged := *runs[0]
	merged.Behaviours = nil
	byID := map[string][]Behaviour{}
	var order []string
	for _, r := range runs {
		for _, b := range r.Behaviours {
			if _, ok := byID[b.ID]; !ok {
				order = append(order, b.ID)
			}
			byID[b.ID] = append(byID[b.ID], b)
		}
	}
	for _, id := range order {
		bs := byID[id]
		b := bs[0]
		counts := map[string]int{}
		var verdicts []string
		for _, x := range bs {
			v := x.Status
			if x.Unexpected {
				v += " (unexpected)"
			}
			if counts[v] == 0 {
				verdicts = append(verdicts, v)
			}
			counts[v]++
			if x.Status != Pass && b.Status == Pass {
				b.Message, b.Trace = x.Message, x.Trace // keep a failing run's explanation
			}
		}
		if len(verdicts) > 1 || len(bs) < len(runs) {
			var parts []string
			for _, v := range verdicts {
				parts = append(parts, fmt.Sprintf("%s %d", v, counts[v]))
			}
			if missing := len(runs) - len(bs); missing > 0 {
				parts = append(parts, fmt.Sprintf("not run %d", missing))
			}
			note := fmt.Sprintf("verdict changed between %d runs (%s)", len(runs), strings.Join(parts, ", "))
			b.Unexpected = false
			b.Status = Flaky
			if x, ok := exp.Flaky[id]; ok {
				b.Message = note + "; recorded as flaky: " + x.Reason + "; " + firstLine(b.Message)
			} else {
				b.Unrecorded = true
				b.Message = note + "; " + firstLine(b.Message)
			}
		}
		merged.Behaviours = append(merged.Behaviours, b)
	}
	merged.Runs = len(runs)
	return &merged
}
