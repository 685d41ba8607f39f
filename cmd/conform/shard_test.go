package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShards runs three behaviours on the mutant that breaks
// process.pid-distinct in two shards: each behaviour runs in exactly one,
// conform merge joins them into the report of the whole, with the failure's
// trace and files, and it refuses a missing or a repeated shard.
func TestShards(t *testing.T) {
	base := t.TempDir()
	filter := "process.pid-distinct || process.names || process.ppid-is-creator"
	var dirs []string
	seen := map[string]int{}
	for _, s := range []string{"1/2", "2/2"} {
		out := filepath.Join(base, "shard"+s[:1])
		code, stdout, stderr := run(t, "run", "--impl", "./cmd/conform/testdata/pid-of-parent", "--out", out, "--label-filter", filter, "--shard", s)
		dir := filepath.Join(out, "pid-of-parent")
		r := load(t, filepath.Join(dir, "results.json"))
		failed := false
		for _, b := range r.Behaviours {
			seen[b.ID]++
			failed = failed || b.Status == "fail"
		}
		if failed != (code == 1) {
			t.Errorf("shard %s: exit %d\n%s\n%s", s, code, stdout, stderr)
		}
		dirs = append(dirs, dir)
	}
	if len(seen) != 3 || seen["process.pid-distinct"] != 1 || seen["process.names"] != 1 || seen["process.ppid-is-creator"] != 1 {
		t.Fatalf("the shards ran %v, want each of three behaviours once", seen)
	}

	merged := filepath.Join(base, "merged")
	code, stdout, stderr := run(t, "merge", merged, dirs[1], dirs[0])
	if code != 1 || !strings.Contains(stdout, "merged from 2 shards") {
		t.Errorf("merge: exit %d, want 1 (pid-distinct fails)\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(merged, "pid-of-parent")
	r := load(t, filepath.Join(dir, "results.json"))
	var got []string
	for _, b := range r.Behaviours {
		got = append(got, b.ID+" "+b.Status)
	}
	if strings.Join(got, ", ") != "process.names pass, process.pid-distinct fail, process.ppid-is-creator pass" {
		t.Errorf("merged: %v", got)
	}
	res, err := readResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range res.Behaviours {
		if b.Status != "fail" {
			continue
		}
		for _, f := range []string{b.Trace, filepath.Join(b.Files, "run-1", "scenario.json")} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("the merged report lacks the failure's %s: %v", f, err)
			}
		}
		if res.Shard != "" || !strings.Contains(b.Replay, filepath.Join(dir, b.Files)) {
			t.Errorf("shard %q, replay %q: want the merged report's files", res.Shard, b.Replay)
		}
	}

	for _, c := range []struct {
		dirs []string
		want string
	}{
		{dirs[:1], "missing shards: 2/2"},
		{[]string{dirs[0], dirs[0], dirs[1]}, "overlapping shards: "},
		{[]string{dir}, "is not a shard"},
	} {
		code, _, stderr := run(t, append([]string{"merge", filepath.Join(base, "bad")}, c.dirs...)...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("merge %v: exit %d, stderr %q, want one line with %q", c.dirs, code, stderr, c.want)
		}
	}
}

// TestShardOf: the shards of any selection partition it, and differ in size
// by one at most.
func TestShardOf(t *testing.T) {
	ids := []string{"a.1", "a.2", "b.1", "b.2", "b.3", "c.1", "c.2"}
	for n := 1; n <= 9; n++ {
		count := map[string]int{}
		lo, hi := len(ids), 0
		for i := 1; i <= n; i++ {
			s := shardOf(ids, i, n)
			lo, hi = min(lo, len(s)), max(hi, len(s))
			for _, id := range s {
				count[id]++
			}
		}
		if len(count) != len(ids) || hi-lo > 1 {
			t.Errorf("%d shards: %v, sizes %d..%d", n, count, lo, hi)
		}
		for id, c := range count {
			if c != 1 {
				t.Errorf("%d shards: %s in %d", n, id, c)
			}
		}
	}
}

// TestRerunFailed: --rerun-failed runs only what failed in the results it is
// given, and nothing when nothing failed.
func TestRerunFailed(t *testing.T) {
	out := t.TempDir()
	filter := "process.pid-distinct || process.names"
	run(t, "run", "--impl", "./cmd/conform/testdata/pid-of-parent", "--out", out, "--label-filter", filter)
	first := filepath.Join(out, "pid-of-parent", "results.json")
	if r := load(t, first); len(r.Behaviours) != 2 {
		t.Fatalf("the first run: %+v", r)
	}
	again := t.TempDir()
	code, stdout, stderr := run(t, "run", "--impl", "./cmd/conform/testdata/pid-of-parent", "--out", again, "--rerun-failed", first)
	r := load(t, filepath.Join(again, "pid-of-parent", "results.json"))
	if code != 1 || len(r.Behaviours) != 1 || r.Behaviours[0].ID != "process.pid-distinct" {
		t.Errorf("rerun: exit %d, %+v\n%s\n%s", code, r.Behaviours, stdout, stderr)
	}

	run(t, "run", "--impl", "./impl", "--out", out, "--label-filter", filter)
	code, stdout, stderr = run(t, "run", "--impl", "./impl", "--out", again, "--rerun-failed", filepath.Join(out, "go-reference"))
	if code != 0 || !strings.Contains(stderr, "nothing to run again: no selected behaviour failed in") {
		t.Errorf("rerun of a run that passed: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(again, "go-reference")); err == nil {
		t.Error("a rerun of nothing wrote a report")
	}
}
