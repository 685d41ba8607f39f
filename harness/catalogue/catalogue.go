// Package catalogue is the list of behaviours that mpconform checks: each one's ID,
// profile, one-line rule, source, and the driver features it needs.
//
// Suites register their behaviours here at init, next to the specs that check
// them, so the catalogue is always exactly what the specs cover; `conform list`
// prints it and docs/behaviours.md is generated from it (a test keeps the two
// equal).
package catalogue

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Profiles group behaviours: core (the tutorial), extended (the rest of
// CPython's documented API) and robust (guarantees beyond CPython).
const (
	Core     = "core"     // the tutorial's programs
	Extended = "extended" // the rest of CPython's documented API
	Robust   = "robust"   // guarantees beyond CPython
)

// Profiles in report order.
var Profiles = []string{Core, Extended, Robust}

// Behaviour is one checkable rule.
type Behaviour struct {
	ID       string   // area.name, e.g. process.pid-distinct
	Profile  string   // Core, Extended or Robust
	Rule     string   // one line: what must hold
	Source   string   // where the rule comes from
	Features []string // driver features (op families) the specs need

	// Guarantee, for a robust behaviour, states precisely what the reference
	// implementation promises beyond the rule (what survives, what is lost);
	// docs/behaviours.md prints it.
	Guarantee string

	// CPythonTests names the test methods of CPython 3.11's
	// Lib/test/_test_multiprocessing.py that this behaviour covers, as
	// "Class.method" (e.g. "_TestProcess.test_close"); docs/cpython-tests.md
	// is generated from them and from NotApplicable.
	CPythonTests []string

	// Versions, when set, is the range of CPython versions whose semantics
	// the rule is, where the docs say it changed between them: comparisons
	// joined by commas, each an operator (<, <=, >, >=, ==) and a
	// major.minor version, e.g. ">=3.13" or ">=3.8,<3.13". A driver whose
	// hello follows a version outside it, or names none, is unsupported for
	// the behaviour (docs/protocol.md §2).
	Versions string
}

// Area is the part of the ID before the first dot.
func (b *Behaviour) Area() string { return strings.SplitN(b.ID, ".", 2)[0] }

var (
	mu  sync.Mutex
	all = map[string]*Behaviour{}
)

// Add registers a behaviour and returns it; adding an ID twice panics (at init,
// so a duplicate cannot ship).
func Add(b Behaviour) *Behaviour {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := all[b.ID]; dup {
		panic(fmt.Sprintf("catalogue: behaviour %s registered twice", b.ID))
	}
	if b.Profile != Core && b.Profile != Extended && b.Profile != Robust {
		panic(fmt.Sprintf("catalogue: behaviour %s has unknown profile %q", b.ID, b.Profile))
	}
	if _, err := InVersions(b.Versions, "3.0"); err != nil {
		panic(fmt.Sprintf("catalogue: behaviour %s: %v", b.ID, err))
	}
	all[b.ID] = &b
	return &b
}

// Get returns the behaviour with id, or nil.
func Get(id string) *Behaviour {
	mu.Lock()
	defer mu.Unlock()
	return all[id]
}

// All returns every behaviour, by profile then ID.
func All() []*Behaviour {
	mu.Lock()
	defer mu.Unlock()
	out := make([]*Behaviour, 0, len(all))
	for _, b := range all {
		out = append(out, b)
	}
	rank := map[string]int{Core: 0, Extended: 1, Robust: 2}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Profile != out[j].Profile {
			return rank[out[i].Profile] < rank[out[j].Profile]
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Markdown renders the catalogue as docs/behaviours.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Behaviours\n\n")
	b.WriteString("Every behaviour that mpconform checks, by profile. Each has at least one spec in\n")
	b.WriteString("`suites/<area>/` and a mutant in `fixtures/impls/mutants/` on which that spec fails.\n\n")
	b.WriteString("This file is generated from the suites: `go run ./cmd/conform list --markdown > docs/behaviours.md`.\n")
	b.WriteString("A test fails when it is out of date.\n")
	for _, p := range Profiles {
		first := true
		for _, x := range All() {
			if x.Profile != p {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n## %s\n\n| ID | rule | source | needs |\n|---|---|---|---|\n", p)
				first = false
			}
			id := "`" + x.ID + "`"
			if x.Versions != "" {
				id += " (CPython " + x.Versions + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", id, cell(x.Rule), cell(x.Source), strings.Join(x.Features, ", "))
		}
	}
	first := true
	for _, x := range All() {
		if x.Guarantee == "" {
			continue
		}
		if first {
			b.WriteString("\n## What the reference implementation guarantees\n")
			first = false
		}
		fmt.Fprintf(&b, "\n### `%s`\n\n%s\n", x.ID, x.Guarantee)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
