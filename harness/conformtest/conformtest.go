// Package conformtest runs the conform command from Go tests: each
// implementation directory's test (impl/, fixtures/impls/...) runs the suites
// against that implementation, so that `go test ./...` checks every one of
// them, each package within its own time limit.
//
// Main builds conform once per test binary; Run and Statuses run it from the
// module root, with CI set so that progress comes as plain lines.
package conformtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/catalogue"
)

var (
	conform string // the built command
	root    string // the module root, where conform runs
)

// Main builds conform, runs the tests and removes the build; call it from
// TestMain.
func Main(m *testing.M) {
	os.Exit(func() int {
		var err error
		if root, err = moduleRoot(); err != nil {
			fmt.Fprintln(os.Stderr, "conformtest:", err)
			return 1
		}
		dir, err := os.MkdirTemp("", "mpconform-conform-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformtest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		conform = filepath.Join(dir, "conform")
		build := exec.Command("go", "build", "-o", conform, "./cmd/conform")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "conformtest: building conform: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Root is the module root: paths given to Run are relative to it.
func Root() string { return root }

// Command is conform with args, to run from the module root, as Run runs it.
func Command(args ...string) *exec.Cmd {
	cmd := exec.Command(conform, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CI=true")
	return cmd
}

// Run runs conform with args from the module root and returns its exit code
// and output.
func Run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := Command(args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

// Results is what the tests read of a results.json.
type Results struct {
	Behaviours []struct {
		ID, Profile, Status, Message string
		Unexpected                   bool `json:"unexpected_pass"`
	} `json:"behaviours"`
}

// Load reads a results.json.
func Load(t *testing.T, path string) Results {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Statuses runs the suites on impl (a directory relative to the module root)
// with extra flags and returns conform's exit code, each behaviour's status
// ("unexpected-pass" for an xfail that passed) and conform's output.
func Statuses(t *testing.T, impl string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	code, got, out := Outcomes(t, impl, extra...)
	statuses := map[string]string{}
	for id, o := range got {
		statuses[id] = o.Status
	}
	return code, statuses, out
}

// An Outcome is one behaviour's status, as Statuses gives it, and message.
type Outcome struct{ Status, Message string }

// Outcomes is Statuses with each behaviour's message.
func Outcomes(t *testing.T, impl string, extra ...string) (int, map[string]Outcome, string) {
	t.Helper()
	out := t.TempDir()
	code, stdout, stderr := Run(t, append([]string{"run", "--impl", impl, "--out", out}, extra...)...)
	files, _ := filepath.Glob(filepath.Join(out, "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("conform run --impl %s wrote %d results (exit %d)\n%s\n%s", impl, len(files), code, stdout, stderr)
	}
	got := map[string]Outcome{}
	for _, b := range Load(t, files[0]).Behaviours {
		got[b.ID] = Outcome{b.Status, b.Message}
		if b.Unexpected {
			got[b.ID] = Outcome{"unexpected-pass", b.Message}
		}
	}
	return code, got, stdout + stderr
}

// IDs lists every behaviour of the catalogue, as conform list prints them.
func IDs(t *testing.T) []string {
	t.Helper()
	code, stdout, stderr := Run(t, "list")
	if code != 0 {
		t.Fatalf("conform list: exit %d: %s", code, stderr)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], ".") {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// Conforms runs every behaviour but skip on impl and requires each to pass,
// or, when xfail is allowed, to fail as its expectations.json records, or to
// be unsupported because it is the rule of other CPython versions than the
// driver follows; and conform to exit 0.
func Conforms(t *testing.T, impl string, xfail bool, skip ...string) {
	t.Helper()
	var extra []string
	if len(skip) > 0 {
		extra = []string{"--label-filter", "!" + strings.Join(skip, " && !")}
	}
	code, got, out := Outcomes(t, impl, extra...)
	for _, id := range IDs(t) {
		o, ok := got[id]
		switch s := o.Status; {
		case slices.Contains(skip, id):
		case !ok:
			t.Errorf("%s: not run", id)
		case s == "unsupported" && strings.HasPrefix(o.Message, catalogue.OutsideVersions):
			// The rule of other CPython versions than the driver follows.
		case s != "pass" && (!xfail || s != "xfail"):
			t.Errorf("%s: %s", id, s)
		}
	}
	if code != 0 {
		t.Errorf("exit %d\n%s", code, out)
	}
}
