package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/report"
)

// TestDiff: conform diff prints each behaviour whose status changed and a
// summary, and exits 1 only on a regression; a report directory stands for
// its results.json.
func TestDiff(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, statuses ...string) string {
		r := &report.Results{Impl: report.Impl{Name: "x", Version: name}}
		for k := 0; k+1 < len(statuses); k += 2 {
			r.Behaviours = append(r.Behaviours, report.Behaviour{ID: statuses[k], Status: statuses[k+1]})
		}
		d := filepath.Join(dir, name)
		if err := r.Write(d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	old := write("old", "a.same", "pass", "b.fixed", "fail", "c.lost", "pass", "d.broke", "xfail", "e.flaky", "pass")
	fixed := write("fixed", "a.same", "pass", "b.fixed", "pass", "c.lost", "pass", "d.broke", "xfail", "e.flaky", "pass", "f.new", "fail")
	worse := write("worse", "a.same", "pass", "b.fixed", "fail", "d.broke", "fail", "e.flaky", "flaky")

	code, stdout, stderr := run(t, "diff", old, fixed)
	if code != 0 || !strings.Contains(stdout, "b.fixed    fail         pass") || !strings.Contains(stdout, "f.new      missing      fail") ||
		strings.Contains(stdout, "a.same") || !strings.HasSuffix(stdout, "x old -> x fixed: 2 behaviours changed, 0 regressed\n") {
		t.Errorf("diff old fixed: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "diff", filepath.Join(old, "results.json"), worse)
	for _, want := range []string{
		"c.lost     pass         missing      REGRESSION",
		"d.broke    xfail        fail         REGRESSION",
		"e.flaky    pass         flaky        REGRESSION",
		"3 behaviours changed, 3 regressed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff old worse lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("diff old worse: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "diff", old, old); code != 0 || stdout != "x old -> x old: 0 behaviours changed, 0 regressed\n" {
		t.Errorf("diff old old: exit %d: %q", code, stdout)
	}
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"behaviours": []}`), 0o644)
	if code, _, stderr := run(t, "diff", old, filepath.Join(dir, "other.json")); code != 1 || !strings.Contains(stderr, "names no implementation") {
		t.Errorf("diff of a JSON that is no results: exit %d, %q", code, stderr)
	}
}
