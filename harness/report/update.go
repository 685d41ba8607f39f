package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Placeholder begins the reason that Update gives a failure it records: a
// person is to replace it with the real reason and a link.
const Placeholder = "recorded by conform --update-expectations: "

// runtimeFields are the hello fields that Update writes into the condition of
// a failure it records: what says which interpreter, library and start method
// ran, not the implementation's name.
var runtimeFields = []string{"interpreter", "interpreter_version", "module", "module_version", "start_method"}

// Update applies a run's results to the expectations file of the
// implementation with these facts (conform run --update-expectations). A
// failure is recorded as an xfail with a placeholder reason; an xfail that
// passed is dropped. When the implementation's hello says what runs it
// (interpreter, module...), the file may be shared with others: a failure is
// recorded as a Conditional whose condition is this implementation's
// (merged into an entry of the behaviour with the same reason, or with a
// placeholder reason too, so that recording one behaviour on five
// implementations gives one entry with five conditions); a pass drops only the
// condition that says exactly this implementation. Update returns what it
// could not do alone, for a person to do.
func (e *Expectations) Update(res *Results, facts map[string]string) (notes []string) {
	cond := Condition{}
	for _, f := range runtimeFields {
		if v, ok := facts[f]; ok {
			cond[f] = v
		}
	}
	for _, b := range res.Behaviours {
		switch {
		case b.Unexpected && len(cond) == 0:
			delete(e.XFail, b.ID)
		case b.Unexpected:
			notes = append(notes, e.dropCondition(b.ID, cond, facts)...)
		case b.Status == Fail && len(cond) == 0:
			e.XFail[b.ID] = Expectation{Reason: Placeholder + firstLine(b.Message) + " (explain why, or fix it)"}
		case b.Status == Fail:
			e.addCondition(b.ID, cond, Placeholder+firstLine(b.Message)+" (explain why, or fix it)")
		}
	}
	slices.SortStableFunc(e.Conditional, func(a, b Conditional) int { return strings.Compare(a.Behaviour, b.Behaviour) })
	return notes
}

func (e *Expectations) addCondition(id string, cond Condition, reason string) {
	for i, c := range e.Conditional {
		same := c.Reason == reason || strings.HasPrefix(c.Reason, Placeholder) && strings.HasPrefix(reason, Placeholder)
		if c.Behaviour != id || c.Status != XFail || !same {
			continue
		}
		if !slices.ContainsFunc(c.When, func(w Condition) bool { return maps.Equal(w, cond) }) {
			e.Conditional[i].When = append(c.When, cond)
		}
		return
	}
	e.Conditional = append(e.Conditional, Conditional{Behaviour: id, Status: XFail, When: []Condition{cond}, Reason: reason})
}

// dropCondition removes, from the xfails of behaviour id, the conditions that
// are exactly cond; one that also covers other implementations (a version
// range, fewer fields), or an entry without conditions, is left with a note.
func (e *Expectations) dropCondition(id string, cond Condition, facts map[string]string) (notes []string) {
	if _, ok := e.XFail[id]; ok {
		notes = append(notes, fmt.Sprintf("%s passes here, but its xfail has no conditions and applies to every implementation of this file: give it a \"when\" by hand", id))
	}
	kept := e.Conditional[:0]
	for _, c := range e.Conditional {
		if c.Behaviour == id && c.Status == XFail {
			c.When = slices.DeleteFunc(c.When, func(w Condition) bool { return maps.Equal(w, cond) })
			for _, w := range c.When {
				if w.Matches(facts) {
					notes = append(notes, fmt.Sprintf("%s passes here, but is xfail when %s, which covers other implementations too: narrow it by hand", id, w))
				}
			}
			if len(c.When) == 0 {
				continue
			}
		}
		kept = append(kept, c)
	}
	e.Conditional = kept
	return notes
}

// String is the condition as the JSON of the file has it, fields sorted.
func (c Condition) String() string {
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%q: %q", f, c[f]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
