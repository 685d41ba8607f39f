package cpytests

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mpconform/mpconform/harness/catalogue"
)

// Entry is one test method and what accounts for it.
type Entry struct {
	Method
	Covers []*catalogue.Behaviour // the behaviours whose CPythonTests name it
	NA     string                 // its NotApplicable reason, or ""
}

// Covered says that a behaviour covers the method.
func (e Entry) Covered() bool { return len(e.Covers) > 0 }

// GapPrefix starts a NotApplicable reason that is no reason: the method
// applies and no behaviour covers it yet; the reason says what it needs. The
// doc counts it as a gap, apart from n/a, so that it stays in sight.
const GapPrefix = "gap: "

// Gap says that the method applies and is a known gap.
func (e Entry) Gap() bool { return !e.Covered() && strings.HasPrefix(e.NA, GapPrefix) }

// Left says that nothing accounts for the method.
func (e Entry) Left() bool { return !e.Covered() && e.NA == "" }

// Table is CPython's test methods joined with the catalogue.
type Table struct {
	Source  string  // the test file read
	Entries []Entry // by class (see Classes), then in the file's order

	// Wrong lists the catalogue's mistakes, one line each: an entry naming a
	// method the file does not define, a method both covered and n/a, an
	// empty reason.
	Wrong []string
}

// Join accounts for each method with the behaviours and the NotApplicable
// reasons.
func Join(source string, methods []Method, behaviours []*catalogue.Behaviour, na map[string]string) *Table {
	t := &Table{Source: source}
	index := map[string]int{}
	for _, m := range methods {
		if _, dup := index[m.Key()]; dup {
			continue // a method redefined in its class: unittest runs the last one
		}
		index[m.Key()] = len(t.Entries)
		t.Entries = append(t.Entries, Entry{Method: m})
	}
	for _, b := range behaviours {
		for _, k := range b.CPythonTests {
			i, ok := index[k]
			switch {
			case !ok:
				t.Wrong = append(t.Wrong, fmt.Sprintf("%s: behaviour %s names it in CPythonTests, but %s defines no such test method", k, b.ID, File))
			case !slices.Contains(t.Entries[i].Covers, b):
				t.Entries[i].Covers = append(t.Entries[i].Covers, b)
			}
		}
	}
	keys := make([]string, 0, len(na))
	for k := range na {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		reason := strings.TrimSpace(na[k])
		i, ok := index[k]
		switch {
		case !ok:
			t.Wrong = append(t.Wrong, fmt.Sprintf("%s: NotApplicable explains it, but %s defines no such test method", k, File))
			continue
		case reason == "":
			t.Wrong = append(t.Wrong, fmt.Sprintf("%s: NotApplicable gives no reason", k))
			reason = "(no reason)"
		}
		t.Entries[i].NA = reason
		if c := t.Entries[i].Covers; len(c) > 0 {
			t.Wrong = append(t.Wrong, fmt.Sprintf("%s: both covered (by %s) and explained in NotApplicable: keep one", k, ids(c)))
		}
	}
	order := classOrder(t.Entries)
	sort.SliceStable(t.Entries, func(i, j int) bool { return order[t.Entries[i].Class] < order[t.Entries[j].Class] })
	return t
}

// Left returns the methods that nothing accounts for, by class.
func (t *Table) Left() []Method {
	var left []Method
	for _, e := range t.Entries {
		if e.Left() {
			left = append(left, e.Method)
		}
	}
	return left
}

// Classes returns the classes in the table's order: by name, the leading
// underscore of CPython's mixin bases (_TestLock) ignored, so that a class is
// where a reader looks for it.
func (t *Table) Classes() []string {
	var cs []string
	for _, e := range t.Entries {
		if len(cs) == 0 || cs[len(cs)-1] != e.Class {
			cs = append(cs, e.Class)
		}
	}
	return cs
}

func classOrder(es []Entry) map[string]int {
	var names []string
	seen := map[string]bool{}
	for _, e := range es {
		if !seen[e.Class] {
			seen[e.Class] = true
			names = append(names, e.Class)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.TrimLeft(names[i], "_"), strings.TrimLeft(names[j], "_")
		if !strings.EqualFold(a, b) {
			return strings.ToLower(a) < strings.ToLower(b)
		}
		return names[i] < names[j]
	})
	order := map[string]int{}
	for i, n := range names {
		order[n] = i
	}
	return order
}

func ids(bs []*catalogue.Behaviour) string {
	var s []string
	for _, b := range bs {
		s = append(s, b.ID)
	}
	return strings.Join(s, ", ")
}
