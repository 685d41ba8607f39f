package report

import (
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	run := func(statuses ...string) *Results {
		r := &Results{Impl: Impl{Name: "x"}}
		for i, s := range statuses {
			b := Behaviour{ID: []string{"a.steady", "b.flips", "c.flaky-known", "d.fails"}[i], Status: s}
			if s == Fail {
				b.Message, b.Trace = "boom", "traces/"+b.ID+".txt"
			}
			r.Behaviours = append(r.Behaviours, b)
		}
		return r
	}
	exp := &Expectations{Flaky: map[string]Expectation{"c.flaky-known": {Reason: "timing on CPython"}}}
	m := Merge([]*Results{
		run(Pass, Pass, Pass, Fail),
		run(Pass, Fail, Fail, Fail),
		run(Pass, Pass, Pass, Fail),
	}, exp)
	if m.Runs != 3 {
		t.Errorf("Runs = %d, want 3", m.Runs)
	}
	got := map[string]Behaviour{}
	for _, b := range m.Behaviours {
		got[b.ID] = b
	}
	if b := got["a.steady"]; b.Status != Pass || b.Unrecorded {
		t.Errorf("a steady pass: %+v", b)
	}
	if b := got["d.fails"]; b.Status != Fail || b.Unrecorded || b.Trace == "" {
		t.Errorf("a steady failure keeps its status and trace: %+v", b)
	}
	b := got["b.flips"]
	if b.Status != Flaky || !b.Unrecorded || b.Trace != "traces/b.flips.txt" ||
		!strings.Contains(b.Message, "pass 2, fail 1") || !strings.Contains(b.Message, "boom") {
		t.Errorf("a changing verdict is an unrecorded flake with the failing run's explanation: %+v", b)
	}
	if b := got["c.flaky-known"]; b.Status != Flaky || b.Unrecorded || !strings.Contains(b.Message, "timing on CPython") {
		t.Errorf("a recorded flake: %+v", b)
	}
	if !m.Failed() {
		t.Error("an unrecorded flake must fail the run")
	}
	steady := Merge([]*Results{run(Pass, Pass, Pass, Pass), run(Pass, Pass, Pass, Pass)}, exp)
	if steady.Failed() {
		t.Errorf("steady passes failed the run: %+v", steady.Behaviours)
	}
}
