package cpytests

import (
	"fmt"
	"strings"
)

// Command regenerates docs/cpython-tests.md.
const Command = "go run ./cmd/conform list --cpython-tests > docs/cpython-tests.md"

// Counts are the header's numbers.
type Counts struct{ Methods, Classes, Covered, NA, Gaps, Left int }

// Count counts the table's methods by what accounts for them. A method both
// covered and n/a (a mistake that Wrong reports) counts as covered.
func (t *Table) Count() Counts {
	c := Counts{Methods: len(t.Entries), Classes: len(t.Classes())}
	for _, e := range t.Entries {
		switch {
		case e.Covered():
			c.Covered++
		case e.Gap():
			c.Gaps++
		case e.NA != "":
			c.NA++
		default:
			c.Left++
		}
	}
	return c
}

// Markdown renders the table as docs/cpython-tests.md: the counts, a summary
// line per class, then per class each method with the behaviours that cover
// it (linked to their profile's section of docs/behaviours.md), or n/a and
// the reason, or left.
func (t *Table) Markdown() string {
	var b strings.Builder
	c := t.Count()
	b.WriteString("# CPython's tests, traced to behaviours\n\n")
	b.WriteString("Every test method of CPython 3.11's [`Lib/test/_test_multiprocessing.py`](https://github.com/python/cpython/blob/3.11/Lib/test/_test_multiprocessing.py)\n")
	b.WriteString("(the suite that `test_multiprocessing_fork`, `_spawn` and `_forkserver` run), with the\n")
	b.WriteString("behaviours of [behaviours.md](behaviours.md) that cover it, or `n/a` and why it does not\n")
	b.WriteString("apply, or `gap`: it applies and no behaviour covers it yet. A method belongs to the class that defines it; one that CPython also runs with\n")
	b.WriteString("threads or a manager in place of processes counts as covered when a behaviour covers its\n")
	b.WriteString("process form.\n\n")
	b.WriteString("This file is generated from the catalogue (`CPythonTests` of each behaviour,\n")
	b.WriteString("`harness/catalogue/cpython_na.go`) and from CPython's test file itself: `" + Command + "`.\n")
	b.WriteString("A test fails when it is out of date, when a method is neither covered nor explained, and\n")
	b.WriteString("when an entry names a method that does not exist.\n\n")
	fmt.Fprintf(&b, "**%d test methods** in %d classes: **%d covered**, **%d n/a**, **%d gaps**, **%d left**.\n\n", c.Methods, c.Classes, c.Covered, c.NA, c.Gaps, c.Left)

	b.WriteString("| class | methods | covered | n/a | gaps | left |\n|---|---:|---:|---:|---:|---:|\n")
	for _, cls := range t.Classes() {
		cc := t.class(cls).Count()
		fmt.Fprintf(&b, "| [`%s`](#%s) | %d | %d | %d | %d | %d |\n", cls, strings.ToLower(cls), cc.Methods, cc.Covered, cc.NA, cc.Gaps, cc.Left)
	}
	for _, cls := range t.Classes() {
		fmt.Fprintf(&b, "\n## `%s`\n\n| method | covered by |\n|---|---|\n", cls)
		for _, e := range t.class(cls).Entries {
			fmt.Fprintf(&b, "| `%s` | %s |\n", e.Name, cell(e))
		}
	}
	return b.String()
}

func cell(e Entry) string {
	var parts []string
	for _, x := range e.Covers {
		parts = append(parts, fmt.Sprintf("[`%s`](behaviours.md#%s)", x.ID, x.Profile))
	}
	switch {
	case e.Gap():
		parts = append(parts, "**gap**: "+strings.ReplaceAll(strings.TrimPrefix(e.NA, GapPrefix), "|", `\|`))
	case e.NA != "":
		parts = append(parts, "n/a: "+strings.ReplaceAll(e.NA, "|", `\|`))
	}
	if len(parts) == 0 {
		return "**left**: neither covered nor explained"
	}
	return strings.Join(parts, ", ")
}

// class is the part of the table about one class.
func (t *Table) class(name string) *Table {
	s := &Table{Source: t.Source}
	for _, e := range t.Entries {
		if e.Class == name {
			s.Entries = append(s.Entries, e)
		}
	}
	return s
}

// LeftReport lists the methods nothing accounts for, grouped by class, one
// line each, or returns "" when there are none.
func (t *Table) LeftReport() string {
	left := t.Left()
	if len(left) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d test methods of %s are neither covered nor explained: name each in the CPythonTests of the behaviour that covers it, or explain it in harness/catalogue/cpython_na.go, then %s\n", len(left), File, Command)
	for i, m := range left {
		if i == 0 || left[i-1].Class != m.Class {
			fmt.Fprintf(&b, "%s:\n", m.Class)
		}
		fmt.Fprintf(&b, "  %s: no behaviour covers it and NotApplicable does not explain it\n", m.Key())
	}
	return b.String()
}
