package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/catalogue"
)

// conform is the command built once for these tests: each run of the suites needs a
// process of its own (Ginkgo runs specs once per process).
var conform string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mpconform-cmd-")
	if err != nil {
		panic(err)
	}
	conform = filepath.Join(dir, "conform")
	if out, err := exec.Command("go", "build", "-o", conform, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs conform from the module root and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(conform, args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CI=true")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

type results struct {
	Behaviours []struct {
		ID, Profile, Status, Message string
		Unexpected                   bool `json:"unexpected_pass"`
	} `json:"behaviours"`
}

func load(t *testing.T, path string) results {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// statuses runs the suites on impl (optionally filtered) and returns each
// behaviour's status.
func statuses(t *testing.T, impl string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	out := t.TempDir()
	code, stdout, stderr := run(t, append([]string{"run", "--impl", impl, "--out", out}, extra...)...)
	files, _ := filepath.Glob(filepath.Join(out, "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("conform run --impl %s wrote %d results (exit %d)\n%s\n%s", impl, len(files), code, stdout, stderr)
	}
	got := map[string]string{}
	for _, b := range load(t, files[0]).Behaviours {
		got[b.ID] = b.Status
		if b.Unexpected {
			got[b.ID] = "unexpected-pass"
		}
	}
	return code, got, stdout + stderr
}

// TestImplementations is the acceptance run: the reference passes everything and
// CPython, under each start method, passes or records a reasoned xfail.
func TestImplementations(t *testing.T) {
	// Behaviours too slow to check on every test run, by implementation.
	slow := map[string][]string{
		"./fixtures/impls/cpython/spawn": {"process.many"}, // 1 200 spawned interpreters: minutes
	}
	for _, impl := range []string{"./impl", "./fixtures/impls/cpython", "./fixtures/impls/cpython/spawn", "./fixtures/impls/cpython/forkserver"} {
		t.Run(impl, func(t *testing.T) {
			var extra []string
			if ids := slow[impl]; len(ids) > 0 {
				extra = []string{"--label-filter", "!" + strings.Join(ids, " && !")}
			}
			code, got, out := statuses(t, impl, extra...)
			for _, b := range catalogue.All() {
				s, ok := got[b.ID]
				switch {
				case slices.Contains(slow[impl], b.ID):
				case !ok:
					t.Errorf("%s: not run", b.ID)
				case s != "pass" && (impl == "./impl" || s != "xfail"):
					t.Errorf("%s: %s", b.ID, s)
				}
			}
			if code != 0 {
				t.Errorf("exit %d\n%s", code, out)
			}
		})
	}
}

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

// TestMutants proves that specs can fail: each mutant breaks one behaviour, and
// that behaviour's specs must fail on it (they pass on the reference, as
// TestImplementations shows). Every behaviour must have a mutant.
func TestMutants(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/impls/mutants/mutants.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Mutants map[string]struct{ Breaks []string } `json:"mutants"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for name, mu := range m.Mutants {
		for _, id := range mu.Breaks {
			covered[id] = true
			if catalogue.Get(id) == nil {
				t.Errorf("mutants.json: %s breaks %s, which is not in the catalogue", name, id)
			}
		}
		t.Run(name, func(t *testing.T) {
			code, got, out := statuses(t, "./fixtures/impls/mutants/"+name, "--label-filter", strings.Join(mu.Breaks, " || "))
			for _, id := range mu.Breaks {
				if got[id] != "fail" {
					t.Errorf("%s on mutant %s: %q, want fail", id, name, got[id])
				}
			}
			if code == 0 {
				t.Errorf("conform exited 0 on a failing mutant\n%s", out)
			}
		})
	}
	for _, b := range catalogue.All() {
		if !covered[b.ID] {
			t.Errorf("%s has no mutant in fixtures/impls/mutants/mutants.json", b.ID)
		}
	}
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
