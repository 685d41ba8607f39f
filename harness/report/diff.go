package report

import "sort"

// Missing is the status of a behaviour that one of two result sets lacks.
const Missing = "missing"

// Change is one behaviour whose status differs between two result sets.
type Change struct {
	ID, Old, New string
	Regression   bool
}

// Diff lists, by behaviour ID, every behaviour whose status changed from old
// to new, Missing standing for a behaviour that a set does not hold.
func Diff(old, new *Results) []Change {
	status := func(r *Results) map[string]string {
		m := map[string]string{}
		for _, b := range r.Behaviours {
			m[b.ID] = b.Status
		}
		return m
	}
	o, n := status(old), status(new)
	var out []Change
	for id, s := range o {
		if t, ok := n[id]; !ok {
			out = append(out, Change{ID: id, Old: s, New: Missing, Regression: Regressed(s, Missing)})
		} else if t != s {
			out = append(out, Change{ID: id, Old: s, New: t, Regression: Regressed(s, t)})
		}
	}
	for id, t := range n {
		if _, ok := o[id]; !ok {
			out = append(out, Change{ID: id, Old: Missing, New: t, Regression: Regressed(Missing, t)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Regressed says whether going from status old to status new loses ground: a
// pass that now fails, is flaky or is no longer checked, or a known failure
// (xfail) that became an unexpected one. Other changes (a fix, a behaviour
// added, a driver that gained or lost a feature) are not regressions.
func Regressed(old, new string) bool {
	switch old {
	case Pass:
		return new == Fail || new == Flaky || new == Missing
	case XFail:
		return new == Fail
	}
	return false
}
