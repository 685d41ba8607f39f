package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/conformtest"
	"github.com/mpconform/mpconform/harness/cpytests"
)

// The end-to-end tests of each implementation live beside it (impl/,
// fixtures/impls/...); these test the command itself.

func TestMain(m *testing.M) { conformtest.Main(m) }

var (
	run  = conformtest.Run
	load = conformtest.Load
)

// TestMalformedScenario: each driver refuses an unknown op, a field of the
// wrong type and a value too large to be one with exit 2 and one line that
// names the culprit; conform reports a driver error, with no panic trace and
// no hang.
func TestMalformedScenario(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ doc, culprit string }{
		"unknown-op": {`{"protocol":1,"name":"bad","main":[{"op":"frobnicate","x":1}]}`, "frobnicate"},
		"wrong-type": {`{"protocol":1,"name":"bad","main":[{"op":"sleep","ms":"soon"}]}`, "ms"},
		"huge-value": {`{"protocol":1,"name":"bad","main":[{"op":"repeat","times":1e400,"body":[]}]}`, "times"},
		"huge-blob":  {`{"protocol":1,"name":"bad","main":[{"op":"emit","value":{"blob":99999999999999}}]}`, "blob"},
	} {
		bad := filepath.Join(dir, name+".json")
		os.WriteFile(bad, []byte(c.doc), 0o644)
		for _, impl := range []string{"./impl", "./fixtures/impls/cpython"} {
			code, stdout, stderr := run(t, "scenario", "run", bad, "--impl", impl, "--no-validate")
			if code != 1 || !strings.Contains(stderr, "rejected the scenario (exit 2)") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "Traceback") {
				t.Errorf("%s on %s: exit %d\nstdout: %s\nstderr: %s", name, impl, code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, c.culprit) {
				t.Errorf("%s on %s: the reason does not name %q: %q", name, impl, c.culprit, last)
			}
		}
		code, _, stderr := run(t, "scenario", "run", bad, "--impl", "./impl")
		if code == 0 || !strings.Contains(stderr, "invalid scenario: at /main/0") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s, validated by conform: exit %d, stderr %q", name, code, stderr)
		}
	}
}

func TestTutorialScenarios(t *testing.T) {
	files, _ := filepath.Glob("../../fixtures/scenarios/tutorial/*.json")
	if len(files) == 0 {
		t.Fatal("no tutorial scenarios")
	}
	for _, f := range files {
		for _, impl := range []string{"./impl", "./fixtures/impls/cpython"} {
			rel, _ := filepath.Rel("../..", f)
			code, stdout, stderr := run(t, "scenario", "run", rel, "--impl", impl)
			if code != 0 || !strings.Contains(stdout, "processes:") || !strings.Contains(stdout, "MainProcess") {
				t.Errorf("%s on %s: exit %d\n%s%s", rel, impl, code, stdout, stderr)
			}
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{}, {"frob"}, {"run"}, {"run", "--impl", "./impl", "--profile", "nope"},
		{"run", "--impl", "./nowhere"}, {"--impl", "./impl", "--label-filter", "(("},
		{"list", "--markdown", "--cpython-tests"},
	} {
		code, _, stderr := run(t, args...)
		first := strings.SplitN(stderr, "\n", 2)[0]
		if code == 0 || !strings.HasPrefix(first, "conform: ") || strings.Contains(stderr, "goroutine") {
			t.Errorf("conform %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestBehavioursDoc keeps docs/behaviours.md equal to the catalogue.
func TestBehavioursDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/behaviours.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != catalogue.Markdown() {
		t.Error("docs/behaviours.md is out of date: go run ./cmd/conform list --markdown > docs/behaviours.md")
	}
}

// TestCPythonTestsDoc keeps docs/cpython-tests.md equal to CPython's test
// methods joined with the catalogue.
func TestCPythonTestsDoc(t *testing.T) {
	tb := cpythonTable(t)
	doc, err := os.ReadFile("../../docs/cpython-tests.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != tb.Markdown() {
		t.Errorf("docs/cpython-tests.md is out of date: %s", cpytests.Command)
	}
}

// TestCPythonTestsNamed: every CPythonTests and NotApplicable entry names a
// test method of CPython's file, no method is both covered and n/a, and every
// reason says something.
func TestCPythonTestsNamed(t *testing.T) {
	if wrong := cpythonTable(t).Wrong; len(wrong) > 0 {
		t.Errorf("%d wrong entries:\n%s", len(wrong), strings.Join(wrong, "\n"))
	}
}

// TestCPythonTestsCovered: every test method of CPython's file is covered by
// a behaviour or explained in NotApplicable; the failure lists the others by
// class, one line each.
func TestCPythonTestsCovered(t *testing.T) {
	if left := cpythonTable(t).LeftReport(); left != "" {
		t.Error(left)
	}
}

// cpythonTable reads CPython's test file; without it the test fails with
// the line that says how to install it (CI must).
func cpythonTable(t *testing.T) *cpytests.Table {
	t.Helper()
	tb, err := cpytests.Load(catalogue.All(), catalogue.NotApplicable)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestRepeatFindsFlakes runs a driver that breaks process.names on every other
// run: --repeat 2 must report the behaviour as a flake that is not recorded,
// and fail; a steady behaviour on the same driver passes.
func TestRepeatFindsFlakes(t *testing.T) {
	t.Setenv("MPCONFORM_FLIP_FILE", filepath.Join(t.TempDir(), "runs"))
	out := t.TempDir()
	code, stdout, stderr := run(t, "run", "--impl", "./cmd/conform/testdata/flip-flop", "--out", out, "--repeat", "2",
		"--label-filter", "process.names || process.pid-distinct")
	r := load(t, filepath.Join(out, "flip-flop", "results.json"))
	got := map[string]string{}
	for _, b := range r.Behaviours {
		got[b.ID] = b.Status + ": " + b.Message
	}
	if !strings.HasPrefix(got["process.names"], "flaky: verdict changed between 2 runs (fail 1, pass 1)") {
		t.Errorf("process.names: %q", got["process.names"])
	}
	if got["process.pid-distinct"] != "pass: " {
		t.Errorf("process.pid-distinct: %q", got["process.pid-distinct"])
	}
	if code != 1 || !strings.Contains(stdout, "flaky (not recorded)") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestFailureKeepsItsRun runs a driver that writes no pending records: the
// failure names the rule in plain words, keeps the run's scenario, trace
// files and stderr beside its trace, and its replay command, run as printed,
// fails again with the rule named.
func TestFailureKeepsItsRun(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "run", "--impl", "./cmd/conform/testdata/rule-pending", "--out", out, "--label-filter", "process.parallel")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "rule-pending", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Behaviours []struct{ ID, Status, Message, Files, Replay string }
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Behaviours) != 1 {
		t.Fatalf("results.json: %v: %s", err, data)
	}
	b := r.Behaviours[0]
	if b.Status != "fail" || !strings.Contains(b.Message, "§7.2 pending: op `join`") {
		t.Errorf("message: %s", b.Message)
	}
	for _, bad := range []string{" | 0x", conformtest.Root()} {
		if strings.Contains(b.Message, bad) {
			t.Errorf("the message holds %q: %s", bad, b.Message)
		}
	}
	run1 := filepath.Join(out, "rule-pending", b.Files, "run-1")
	jsonl, _ := filepath.Glob(filepath.Join(run1, "*.jsonl"))
	for _, f := range []string{"scenario.json", "stderr.txt"} {
		if _, err := os.Stat(filepath.Join(run1, f)); err != nil {
			t.Error(err)
		}
	}
	if len(jsonl) < 2 {
		t.Errorf("%s holds %d trace files", run1, len(jsonl))
	}
	for _, f := range []string{"summary.md", "traces/process.parallel.txt"} {
		if data, _ := os.ReadFile(filepath.Join(out, "rule-pending", f)); !strings.Contains(string(data), b.Replay) {
			t.Errorf("%s does not print the replay command %q", f, b.Replay)
		}
	}
	if index, _ := os.ReadFile(filepath.Join(out, "index.html")); !strings.Contains(string(index), "conform scenario run") {
		t.Error("index.html does not print the replay command")
	}
	args, ok := strings.CutPrefix(b.Replay, "conform ")
	if !ok {
		t.Fatalf("replay: %q", b.Replay)
	}
	code, _, stderr = run(t, strings.Fields(args)...)
	if code != 1 || !strings.Contains(stderr, "§7.2 pending: op `join`") {
		t.Errorf("%s: exit %d\n%s", b.Replay, code, stderr)
	}
}

// TestLeftoversAreWarnings runs a driver whose main leaves a file in $TMPDIR
// and one in /dev/shm: the spec about leftovers fails on them, another spec
// passes with a warning that names them, and nothing stays behind.
func TestLeftoversAreWarnings(t *testing.T) {
	out := t.TempDir()
	before, _ := filepath.Glob("/dev/shm/mpconform-litter-*")
	code, stdout, stderr := run(t, "run", "--impl", "./cmd/conform/testdata/litter", "--out", out,
		"--label-filter", "process.names || process.killed-main-leaves-nothing")
	data, err := os.ReadFile(filepath.Join(out, "litter", "results.json"))
	if err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, stdout, stderr)
	}
	var r struct {
		Behaviours []struct {
			ID, Status string
			Warnings   []string
		}
	}
	json.Unmarshal(data, &r)
	got := map[string]string{}
	for _, b := range r.Behaviours {
		got[b.ID] = b.Status + " " + strings.Join(b.Warnings, "; ")
	}
	if names := got["process.names"]; !strings.HasPrefix(names, "pass ") || !strings.Contains(names, "$TMPDIR/mpconform-litter-") || !strings.Contains(names, "/dev/shm/mpconform-litter-") {
		t.Errorf("process.names: %q, want a pass that warns of both files", names)
	}
	if !strings.HasPrefix(got["process.killed-main-leaves-nothing"], "fail") {
		t.Errorf("process.killed-main-leaves-nothing: %q, want fail", got["process.killed-main-leaves-nothing"])
	}
	if summary, _ := os.ReadFile(filepath.Join(out, "litter", "summary.md")); !strings.Contains(string(summary), "warning: the run left") {
		t.Error("summary.md does not warn of the leftovers")
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (a spec failed)", code)
	}
	if after, _ := filepath.Glob("/dev/shm/mpconform-litter-*"); len(after) > len(before) {
		t.Errorf("/dev/shm keeps %v", after)
	}
}

// TestAbsent: an implementation that is not on this machine is one line and
// exit 0, with --repeat too, and no reports.
func TestAbsent(t *testing.T) {
	for _, extra := range [][]string{nil, {"--repeat", "2"}} {
		out := t.TempDir()
		args := append([]string{"run", "--impl", "./harness/runner/testdata/absent-program", "--out", out}, extra...)
		code, stdout, stderr := run(t, args...)
		if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, "absent-program: absent: ") {
			t.Errorf("conform %v: exit %d\n%s\n%s", extra, code, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "absent-program", "results.json")); err == nil {
			t.Errorf("conform %v wrote results for an absent implementation", extra)
		}
	}
}
