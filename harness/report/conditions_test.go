package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/report"
)

func TestConditionMatches(t *testing.T) {
	pypy := map[string]string{"interpreter": "pypy", "interpreter_version": "3.9.16",
		"module": "multiprocessing", "start_method": "spawn"}
	for _, c := range []struct {
		cond report.Condition
		want bool
	}{
		{report.Condition{"interpreter": "pypy"}, true},
		{report.Condition{"interpreter": "cpython"}, false},
		{report.Condition{"interpreter_version": "3.9"}, true},
		{report.Condition{"interpreter_version": "3.9.1"}, false},
		{report.Condition{"interpreter_version": "3.1"}, false},
		{report.Condition{"interpreter_version": ">=3.8,<3.10"}, true},
		{report.Condition{"interpreter_version": ">=3.10"}, false},
		{report.Condition{"interpreter_version": "!=3.9"}, false},
		{report.Condition{"interpreter": "pypy", "start_method": "fork"}, false},
		{report.Condition{"module_version": "1"}, false}, // a fact hello does not give
	} {
		if got := c.cond.Matches(pypy); got != c.want {
			t.Errorf("%v matches %v: %v, want %v", c.cond, pypy, got, c.want)
		}
	}
}

func TestFor(t *testing.T) {
	exp := &report.Expectations{
		XFail: map[string]report.Expectation{"a.all": {Reason: "every one"}, "a.better": {Reason: "most"}},
		Flaky: map[string]report.Expectation{},
		Conditional: []report.Conditional{
			{Behaviour: "a.spawn", Status: "xfail", Reason: "spawn", When: []report.Condition{{"start_method": "spawn"}}},
			{Behaviour: "a.better", Status: "pass", Reason: "billiard does better", When: []report.Condition{{"module": "billiard"}}},
			{Behaviour: "a.old", Status: "flaky", Reason: "old", When: []report.Condition{{"interpreter_version": "<3.9"}, {"module": "billiard"}}},
		},
	}
	got := exp.For(map[string]string{"module": "billiard", "start_method": "fork", "interpreter_version": "3.11.2"})
	if _, ok := got.XFail["a.all"]; !ok {
		t.Errorf("an entry without conditions applies to all: %v", got.XFail)
	}
	if _, ok := got.XFail["a.spawn"]; ok {
		t.Errorf("a.spawn applies to spawn only: %v", got.XFail)
	}
	if _, ok := got.XFail["a.better"]; ok {
		t.Errorf("a pass entry removes the xfail for what it matches: %v", got.XFail)
	}
	if _, ok := got.Flaky["a.old"]; !ok {
		t.Errorf("a.old: one condition of when is enough: %v", got.Flaky)
	}
	if _, ok := exp.XFail["a.better"]; !ok {
		t.Errorf("For changed the file's own entries")
	}
}

func TestLoadRejectsBadConditions(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"conditional": [{"behaviour": "a.b", "status": "xfail", "reason": "r", "when": [{"interpeter": "pypy"}]}]}`, `unknown field "interpeter"`},
		{`{"conditional": [{"behaviour": "a.b", "status": "xfail", "reason": "r", "when": []}]}`, "no condition"},
		{`{"conditional": [{"behaviour": "a.b", "status": "skip", "reason": "r", "when": [{"module": "x"}]}]}`, "xfail, flaky or pass"},
		{`{"conditional": [{"behaviour": "a.b", "status": "xfail", "reason": "r", "when": [{"interpreter_version": "~3"}]}]}`, "not a version"},
		{`{"conditional": [{"behaviour": "a.b", "status": "xfail", "when": [{"module": "x"}]}]}`, `"reason" is required`},
	} {
		p := filepath.Join(t.TempDir(), "expectations.json")
		if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := report.LoadExpectations(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line with %q", c.body, err, c.want)
		}
	}
}

func TestUpdateWritesConditions(t *testing.T) {
	exp := &report.Expectations{XFail: map[string]report.Expectation{"a.all": {Reason: "every one"}},
		Flaky: map[string]report.Expectation{}}
	fork := map[string]string{"name": "billiard-fork", "interpreter": "cpython", "module": "billiard", "start_method": "fork"}
	spawn := map[string]string{"name": "billiard-spawn", "interpreter": "cpython", "module": "billiard", "start_method": "spawn"}
	failed := &report.Results{Behaviours: []report.Behaviour{{ID: "a.new", Status: "fail", Message: "boom on fork"}}}
	exp.Update(failed, fork)
	failed.Behaviours[0].Message = "boom on spawn"
	exp.Update(failed, spawn)
	exp.Update(failed, spawn)
	if len(exp.Conditional) != 1 || len(exp.Conditional[0].When) != 2 || exp.Conditional[0].When[1]["start_method"] != "spawn" {
		t.Fatalf("two failures of one behaviour, want one entry with two conditions: %+v", exp.Conditional)
	}
	if _, ok := exp.Conditional[0].When[0]["name"]; ok {
		t.Errorf("a condition says what runs the implementation, not its name: %v", exp.Conditional[0].When[0])
	}
	passed := &report.Results{Behaviours: []report.Behaviour{{ID: "a.new", Status: "pass", Unexpected: true},
		{ID: "a.all", Status: "pass", Unexpected: true}}}
	notes := exp.Update(passed, fork)
	if len(exp.Conditional) != 1 || len(exp.Conditional[0].When) != 1 {
		t.Errorf("a pass on fork drops fork's condition only: %+v", exp.Conditional)
	}
	if _, ok := exp.XFail["a.all"]; !ok || len(notes) != 1 || !strings.Contains(notes[0], "a.all") {
		t.Errorf("an entry for every implementation stays, with a note: %v %v", exp.XFail, notes)
	}
	exp.Update(passed, spawn)
	if len(exp.Conditional) != 0 {
		t.Errorf("an entry without conditions left is dropped: %+v", exp.Conditional)
	}
	plain := &report.Expectations{XFail: map[string]report.Expectation{}, Flaky: map[string]report.Expectation{}}
	plain.Update(failed, map[string]string{"name": "go-reference", "language": "go"})
	if _, ok := plain.XFail["a.new"]; !ok || len(plain.Conditional) != 0 {
		t.Errorf("a hello that says nothing of what runs it: the old format: %+v", plain)
	}
}
