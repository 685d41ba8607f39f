package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMatrix runs conform matrix on the reference, a mutant that breaks
// process.pid-distinct and an implementation whose interpreter is not
// installed: one report shows the three, the mutant's failure linked to its
// trace, the absent one absent, and the rows where they differ marked.
func TestMatrix(t *testing.T) {
	out := t.TempDir()
	list := filepath.Join(t.TempDir(), "impls.txt")
	os.WriteFile(list, []byte("# the mutant and the absent one\n./cmd/conform/testdata/pid-of-parent\n\n./cmd/conform/testdata/absent  # no interpreter\n"), 0o644)
	code, stdout, stderr := run(t, "matrix", "--out", out, "./impl", "--label-filter", "process.pid-distinct || process.names", "--impls", list)
	if code != 1 {
		t.Errorf("exit %d, want 1 (the mutant fails)\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"conform matrix: go-reference: started (./impl)",
		"conform matrix: go-reference: done in ",
		"conform matrix: pid-of-parent: 2 of 2 specs run",
		"conform matrix: pid-of-parent: fail process.pid-distinct: ",
		"conform matrix: pid-of-parent: done in ",
		"conform matrix: absent: absent (mpconform-no-such-interpreter not found in $PATH)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the progress lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "matrix: 2 behaviours × 3 implementations") {
		t.Errorf("stdout: %s", stdout)
	}
	data, err := os.ReadFile(filepath.Join(out, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Impls []struct {
			Name, Version, Absent, Report string
			Totals                        map[string]int
		}
		Behaviours []struct {
			ID      string
			Differs bool
			Cells   []struct{ Status, Trace string }
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range m.Impls {
		names = append(names, im.Name)
	}
	if strings.Join(names, " ") != "go-reference pid-of-parent absent" || m.Impls[0].Version == "" || m.Impls[2].Absent == "" {
		t.Errorf("impls: %+v", m.Impls)
	}
	if m.Impls[1].Totals["fail"] != 1 || m.Impls[1].Totals["pass"] != 1 || m.Impls[2].Totals["absent"] != 2 {
		t.Errorf("totals: %+v", m.Impls)
	}
	got := map[string]string{}
	for _, b := range m.Behaviours {
		var s []string
		for _, c := range b.Cells {
			s = append(s, c.Status)
		}
		got[b.ID] = strings.Join(s, " ")
		if b.Differs {
			got[b.ID] += " (differs)"
		}
		if b.ID == "process.pid-distinct" {
			if _, err := os.Stat(filepath.Join(out, b.Cells[1].Trace)); b.Cells[1].Trace == "" || err != nil {
				t.Errorf("the mutant's failure links to %q: %v", b.Cells[1].Trace, err)
			}
		}
	}
	if got["process.pid-distinct"] != "pass fail absent (differs)" || got["process.names"] != "pass pass absent" {
		t.Errorf("behaviours: %v", got)
	}
	page, _ := os.ReadFile(filepath.Join(out, "matrix.html"))
	for _, want := range []string{
		`<tr data-behaviour="process.pid-distinct" class="differs">`,
		`<tr data-behaviour="process.names" class="same">`,
		`<td class="st fail"`, `<a class="trace" href="pid-of-parent/traces/process.pid-distinct.txt">fail</a>`,
		`absent: mpconform-no-such-interpreter not found`,
		`id="only-differ"`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("matrix.html lacks %s", want)
		}
	}
	for _, f := range []string{"go-reference/results.json", "pid-of-parent/results.json", "pid-of-parent/conform.log", "index.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestNewCommandLines: each mistake on the command line of matrix, diff,
// merge, --shard and --rerun-failed is one line, with no panic.
func TestNewCommandLines(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	list := filepath.Join(dir, "empty.txt")
	os.WriteFile(list, []byte("# nothing\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"matrix"}, "matrix needs implementation directories"},
		{[]string{"matrix", "--jobs", "0", "./impl"}, "--jobs must be at least 1"},
		{[]string{"matrix", "./nowhere"}, "no conform.json"},
		{[]string{"matrix", "./impl", "./impl"}, "are both named go-reference"},
		{[]string{"matrix", "--impls", list}, "lists no implementation"},
		{[]string{"matrix", "--impls", filepath.Join(dir, "none.txt")}, "--impls: open"},
		{[]string{"matrix", "--label-filter", "((", "./impl"}, "--label-filter"},
		{[]string{"diff", bad}, "diff needs two result sets"},
		{[]string{"diff", bad, bad}, "not a results.json"},
		{[]string{"diff", filepath.Join(dir, "none.json"), bad}, "no results"},
		{[]string{"merge", dir}, "merge needs OUT and the shards"},
		{[]string{"merge", dir, bad}, "not a results.json"},
		{[]string{"run", "--impl", "./impl", "--shard", "3/2"}, `shard "3/2" is not i/n`},
		{[]string{"run", "--impl", "./impl", "--shard", "x"}, `shard "x" is not i/n`},
		{[]string{"run", "--impl", "./impl", "--rerun-failed", bad}, "not a results.json"},
	} {
		code, _, stderr := run(t, c.args...)
		first := strings.SplitN(stderr, "\n", 2)[0]
		if code == 0 || !strings.HasPrefix(first, "conform: ") || !strings.Contains(first, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("conform %v: exit %d, stderr %q, want one line with %q", c.args, code, stderr, c.want)
		}
	}
}
