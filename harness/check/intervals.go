// Package check holds the property checkers that suites apply to traces: relations
// between intervals (overlap, order), counts and distinctness. Each returns nil
// when the property holds, or an error that names the records that break it.
//
// Checkers assert relations, never absolute durations: a 2-core shared machine
// makes any single time unreliable, but the order of two records is not.
package check

import (
	"fmt"
	"sort"

	"github.com/mpconform/mpconform/harness/trace"
)

// Interval is the time a record's op took, [T0, T1].
type Interval struct {
	T0, T1 int64
	Rec    trace.Record
}

// Spans turns completed records into intervals.
func Spans(recs []trace.Record) []Interval {
	out := make([]Interval, len(recs))
	for i, r := range recs {
		out[i] = Interval{T0: r.T0, T1: r.T1, Rec: r}
	}
	return out
}

// CommonPoint holds when some instant lies inside every interval: the ops all ran
// at the same time.
func CommonPoint(iv []Interval) error {
	if len(iv) == 0 {
		return nil
	}
	latestStart, earliestEnd := iv[0], iv[0]
	for _, x := range iv[1:] {
		if x.T0 > latestStart.T0 {
			latestStart = x
		}
		if x.T1 < earliestEnd.T1 {
			earliestEnd = x
		}
	}
	if latestStart.T0 > earliestEnd.T1 {
		return fmt.Errorf("not all at once: %s\n  began %.1f ms after this one ended: %s",
			latestStart.Rec, ms(latestStart.T0-earliestEnd.T1), earliestEnd.Rec)
	}
	return nil
}

// Disjoint holds when no two intervals overlap: the ops ran one at a time.
func Disjoint(iv []Interval) error {
	s := append([]Interval(nil), iv...)
	sort.Slice(s, func(i, j int) bool { return s[i].T0 < s[j].T0 })
	for i := 1; i < len(s); i++ {
		if s[i].T0 < s[i-1].T1 {
			return fmt.Errorf("overlap of %.3f ms:\n  %s\n  %s", ms(s[i-1].T1-s[i].T0), s[i-1].Rec, s[i].Rec)
		}
	}
	return nil
}

// Before holds when every record in first ended before any record in then began.
func Before(first, then []trace.Record) error {
	for _, a := range first {
		for _, b := range then {
			if a.T1 > b.T0 {
				return fmt.Errorf("out of order: this ended %.3f ms after the next began:\n  %s\n  %s", ms(a.T1-b.T0), a, b)
			}
		}
	}
	return nil
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// AtMost holds when no instant lies inside more than k intervals: at most k ops
// ran at once. Disjoint is AtMost(iv, 1).
func AtMost(iv []Interval, k int) error {
	type edge struct {
		t     int64
		delta int
		i     int
	}
	var es []edge
	for i, x := range iv {
		es = append(es, edge{x.T0, +1, i}, edge{x.T1, -1, i})
	}
	// Ends sort before starts at the same instant: touching is not overlapping.
	sort.Slice(es, func(a, b int) bool {
		if es[a].t != es[b].t {
			return es[a].t < es[b].t
		}
		return es[a].delta < es[b].delta
	})
	open := map[int]bool{}
	for _, e := range es {
		if e.delta < 0 {
			delete(open, e.i)
			continue
		}
		open[e.i] = true
		if len(open) > k {
			msg := fmt.Sprintf("%d at once, at most %d allowed:", len(open), k)
			for i := range open {
				msg += "\n  " + iv[i].Rec.String()
			}
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

// Held pairs each successful acquire on resource `on` with the same process's
// next release of it, giving the intervals in which the resource was held (from
// the acquire's return to the release's call). Acquires that returned false are
// skipped; an acquire never released is held until the process's last record.
func Held(t *trace.Trace, on string) []Interval {
	var out []Interval
	for _, p := range t.Processes() {
		var open *trace.Record
		recs := t.Of(p.Pid)
		for i := range recs {
			r := recs[i]
			if r.Pending || r.In["on"] != on {
				continue
			}
			switch {
			case r.Op == "acquire" && r.OK && r.Value == true:
				open = &recs[i]
			case r.Op == "release" && open != nil:
				out = append(out, Interval{T0: open.T1, T1: r.T0, Rec: *open})
				open = nil
			}
		}
		if open != nil {
			last := recs[len(recs)-1]
			out = append(out, Interval{T0: open.T1, T1: max(last.T0, last.T1), Rec: *open})
		}
	}
	return out
}
