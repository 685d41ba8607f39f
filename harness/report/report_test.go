package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/report"
)

func TestJudge(t *testing.T) {
	exp := &report.Expectations{
		XFail: map[string]report.Expectation{"a.known": {Reason: "CPython hangs", Link: "gh-1"}, "a.fixed": {Reason: "was broken"}},
		Flaky: map[string]report.Expectation{"a.flaky": {Reason: "timing"}},
	}
	got := report.Judge([]report.Outcome{
		{Behaviour: "a.pass", Passed: true},
		{Behaviour: "a.pass", Passed: true},
		{Behaviour: "a.fail", Passed: true},
		{Behaviour: "a.fail", Failure: "boom"},
		{Behaviour: "a.known", Failure: "hang"},
		{Behaviour: "a.fixed", Passed: true},
		{Behaviour: "a.flaky", Failure: "late"},
		{Behaviour: "a.nofeature", Skipped: "unsupported: lock"},
		{Behaviour: "a.setup", Skipped: "Spec skipped because an earlier spec in an ordered container failed"},
	}, exp, "unsupported: ")
	want := map[string]string{"a.pass": "pass", "a.fail": "fail", "a.known": "xfail", "a.fixed": "pass",
		"a.flaky": "flaky", "a.nofeature": "unsupported", "a.setup": "fail"}
	r := &report.Results{Behaviours: got}
	for _, b := range got {
		if b.Status != want[b.ID] {
			t.Errorf("%s: status %s, want %s", b.ID, b.Status, want[b.ID])
		}
		if b.Unexpected != (b.ID == "a.fixed") {
			t.Errorf("%s: unexpected pass = %v", b.ID, b.Unexpected)
		}
	}
	if len(got) != len(want) || got[0].ID != "a.fail" || got[0].Specs != 2 {
		t.Errorf("want one result per behaviour, sorted, counting specs: %+v", got)
	}
	if !r.Failed() {
		t.Error("a failure and an unexpected pass must fail the run")
	}
}

// An unsupported behaviour says so once: its status is the word, its message
// why (junit.xml: "unsupported: the driver does not list feature pool").
func TestUnsupportedIsOneWord(t *testing.T) {
	const prefix = "unsupported: the driver does not list feature "
	bs := report.Judge([]report.Outcome{{Behaviour: "pool.all-once", Skipped: prefix + "pool"}}, &report.Expectations{}, prefix)
	if len(bs) != 1 || bs[0].Status != report.Unsupported || bs[0].Message != "the driver does not list feature pool" {
		t.Fatalf("Judge: %+v", bs)
	}
	r := &report.Results{Behaviours: bs}
	var j, md bytes.Buffer
	if err := r.JUnit(&j); err != nil {
		t.Fatal(err)
	}
	r.Markdown(&md)
	for name, out := range map[string]string{"junit": j.String(), "summary": md.String()} {
		if strings.Contains(out, "unsupported: unsupported") || strings.Contains(out, "skipped:") {
			t.Errorf("%s: %s", name, out)
		}
	}
}
