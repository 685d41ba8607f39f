package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Conditional is a known divergence of some of the implementations that share
// an expectations file (every Python implementation shares one), in the manner
// of web-platform-tests' metadata: it applies to an implementation that one of
// its When conditions matches. Its status pass says that those implementations
// pass where an entry without conditions says all fail: how a library that
// does better than the rest is recorded.
type Conditional struct {
	Behaviour string      `json:"behaviour"`
	Status    string      `json:"status"` // xfail, flaky or pass
	When      []Condition `json:"when"`
	Reason    string      `json:"reason"`
	Link      string      `json:"link,omitempty"`
}

// A Condition matches an implementation whose hello has every one of its
// fields with its value: a string compared exactly, except for the version
// fields, whose value is a version ("3.12" is every 3.12.x) or comparisons
// joined by commas (">=3.8,<3.10").
type Condition map[string]string

// ConditionFields are the hello fields a condition may name.
var ConditionFields = []string{"name", "version", "language", "start_method",
	"interpreter", "interpreter_version", "module", "module_version"}

func isVersionField(f string) bool { return f == "version" || strings.HasSuffix(f, "_version") }

// Facts are an implementation's values of ConditionFields, from its hello.
func (im Impl) Facts() map[string]string {
	facts := map[string]string{}
	for f, v := range map[string]string{"name": im.Name, "version": im.Version,
		"language": im.Language, "start_method": im.StartMethod, "interpreter": im.Interpreter,
		"interpreter_version": im.InterpreterVersion, "module": im.Module,
		"module_version": im.ModuleVersion} {
		if v != "" {
			facts[f] = v
		}
	}
	return facts
}

// Matches reports whether the implementation with these facts meets c.
func (c Condition) Matches(facts map[string]string) bool {
	for f, want := range c {
		got, ok := facts[f]
		if !ok {
			return false
		}
		if !isVersionField(f) {
			if got != want {
				return false
			}
			continue
		}
		if ok, _ := versionMatches(got, want); !ok {
			return false
		}
	}
	return true
}

func (c Condition) check() error {
	if len(c) == 0 {
		return fmt.Errorf("an empty condition: leave the entry in xfail or flaky to apply it to all")
	}
	for f, want := range c {
		if !slices.Contains(ConditionFields, f) {
			return fmt.Errorf("unknown field %q (conditions name %s)", f, strings.Join(ConditionFields, ", "))
		}
		if isVersionField(f) {
			if _, err := versionMatches("0", want); err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
		}
	}
	return nil
}

// versionMatches compares version got with want: a version (got has its
// components: "3.12" matches 3.12.1) or comparisons (">=3.8,<3.10").
func versionMatches(got, want string) (bool, error) {
	g := parseVersion(got)
	for _, term := range strings.Split(want, ",") {
		term = strings.TrimSpace(term)
		op := strings.TrimRight(term[:len(term)-len(strings.TrimLeft(term, "<>=!"))], " ")
		v := strings.TrimSpace(term[len(op):])
		w := parseVersion(v)
		if w == nil {
			return false, fmt.Errorf("%q is not a version or a comparison with one (>=3.8,<3.10)", want)
		}
		c := compareVersions(g, w)
		var ok bool
		switch op {
		case "", "==":
			ok = len(g) >= len(w) && compareVersions(g[:len(w)], w) == 0
		case "!=":
			ok = !(len(g) >= len(w) && compareVersions(g[:len(w)], w) == 0)
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		default:
			return false, fmt.Errorf("%q: unknown comparison %q", want, op)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// parseVersion reads the leading numeric components of v ("3.11.7",
// "0.70.12.2", "7.3.11+dfsg" gives 7 3 11); nil when there is none.
func parseVersion(v string) []int {
	var out []int
	for _, part := range strings.Split(v, ".") {
		digits := part[:len(part)-len(strings.TrimLeft(part, "0123456789"))]
		n, err := strconv.Atoi(digits)
		if err != nil {
			break
		}
		out = append(out, n)
		if len(digits) < len(part) {
			break
		}
	}
	return out
}

func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// For is the expectations of the implementation with these facts: the
// entries without conditions, and each conditional one that matches, which
// wins over an unconditional entry for the same behaviour (the last that
// matches, when several do).
func (e *Expectations) For(facts map[string]string) *Expectations {
	out := &Expectations{XFail: maps.Clone(e.XFail), Flaky: maps.Clone(e.Flaky)}
	for _, c := range e.Conditional {
		if !slices.ContainsFunc(c.When, func(w Condition) bool { return w.Matches(facts) }) {
			continue
		}
		x := Expectation{Reason: c.Reason, Link: c.Link}
		switch c.Status {
		case Pass:
			delete(out.XFail, c.Behaviour)
			delete(out.Flaky, c.Behaviour)
		case Flaky:
			out.Flaky[c.Behaviour] = x
		default:
			out.XFail[c.Behaviour] = x
		}
	}
	return out
}

func (e *Expectations) checkConditional() error {
	for i, c := range e.Conditional {
		where := fmt.Sprintf("conditional[%d] (%s)", i, c.Behaviour)
		switch {
		case c.Behaviour == "":
			return fmt.Errorf("conditional[%d]: \"behaviour\" is required", i)
		case c.Status != XFail && c.Status != Flaky && c.Status != Pass:
			return fmt.Errorf("%s: \"status\" must be xfail, flaky or pass, not %q", where, c.Status)
		case c.Reason == "":
			return fmt.Errorf("%s: \"reason\" is required", where)
		case len(c.When) == 0:
			return fmt.Errorf("%s: \"when\" lists no condition", where)
		}
		for k, w := range c.When {
			if err := w.check(); err != nil {
				return fmt.Errorf("%s: when[%d]: %v", where, k, err)
			}
		}
	}
	return nil
}
