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
