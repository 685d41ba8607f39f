package runner_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpconform/mpconform/harness/runner"
)

func open(t *testing.T, dir string) *runner.Impl {
	t.Helper()
	im, err := runner.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

func TestLeakIsReportedAndKilled(t *testing.T) {
	im := open(t, "testdata/leaky")
	res, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leaks) != 1 || !strings.Contains(res.Leaks[0].Cmdline, "sleep 300") {
		t.Fatalf("leaks = %v, want the sleep", res.Leaks)
	}
	if err := syscall.Kill(res.Leaks[0].Pid, 0); err == nil {
		t.Errorf("leaked pid %d still alive", res.Leaks[0].Pid)
	}
	if len(res.Trace.Records) != 1 {
		t.Errorf("trace has %d records, want 1", len(res.Trace.Records))
	}
}

func TestDeadlineKillsTheGroup(t *testing.T) {
	im := open(t, "testdata/hangs")
	start := time.Now()
	res, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Deadline: 300 * time.Millisecond, Grace: 100 * time.Millisecond})
	if !errors.Is(err, runner.ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the deadline did not stop the run")
	}
	if len(res.Leaks) != 0 {
		t.Errorf("processes survived the kill: %v", res.Leaks)
	}
}

func TestRefusalIsADriverError(t *testing.T) {
	im := open(t, "testdata/refuses")
	_, err := im.Run(context.Background(), []byte(`{}`), runner.Options{})
	var de *runner.DriverError
	if !errors.As(err, &de) || de.Exit != 2 {
		t.Fatalf("err = %v, want a DriverError with exit 2", err)
	}
	want := `driver error: refuses rejected the scenario (exit 2): driver.sh: scenario error: main/0: unknown op "frobnicate"`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestMissingManifest(t *testing.T) {
	_, err := runner.Open(context.Background(), "testdata")
	if err == nil || !strings.Contains(err.Error(), "no conform.json") {
		t.Fatalf("err = %v, want a clear message about conform.json", err)
	}
}

func TestLeftoversAreReported(t *testing.T) {
	im := open(t, "testdata/litters")
	res, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Grace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.TempLeft) != 1 || res.TempLeft[0] != "$TMPDIR/left" {
		t.Errorf("TempLeft = %v, want the driver's file", res.TempLeft)
	}
	i := slices.IndexFunc(res.ShmLeft, func(f string) bool { return strings.HasPrefix(f, "/dev/shm/mpconform-runner-test-") })
	if i < 0 {
		t.Fatalf("ShmLeft = %v, want the driver's file", res.ShmLeft)
	}
	if _, err := os.Stat(res.ShmLeft[i]); !errors.Is(err, os.ErrNotExist) {
		os.Remove(res.ShmLeft[i])
		t.Errorf("%s is still there after the run (%v), want it removed", res.ShmLeft[i], err)
	}
}

func TestCrashIsADriverError(t *testing.T) {
	im := open(t, "testdata/crashes")
	_, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Grace: 100 * time.Millisecond})
	var de *runner.DriverError
	if !errors.As(err, &de) || de.Exit != -int(syscall.SIGSEGV) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want a one-line driver error with exit -11", err)
	}
}

func TestGarbage(t *testing.T) {
	t.Setenv("GARBAGE_HELLO", "1")
	if _, err := runner.Open(context.Background(), "testdata/garbage"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("hello that is no JSON: err = %v, want one line", err)
	}
	t.Setenv("GARBAGE_HELLO", "")
	im := open(t, "testdata/garbage")
	_, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Grace: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), ".jsonl:1") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a trace line that is no JSON: err = %v, want one line naming the line", err)
	}
}

func TestEscapeeIsFound(t *testing.T) {
	im := open(t, "testdata/escapes")
	res, err := im.Run(context.Background(), []byte(`{}`), runner.Options{Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leaks) != 1 || !strings.Contains(res.Leaks[0].Cmdline, "sleep 300") {
		t.Fatalf("leaks = %v, want the sleep that left the process group", res.Leaks)
	}
	if err := syscall.Kill(res.Leaks[0].Pid, 0); err == nil {
		t.Errorf("escaped pid %d still alive", res.Leaks[0].Pid)
	}
}

func TestAbsent(t *testing.T) {
	for _, dir := range []string{"testdata/absent-program", "testdata/absent-module"} {
		_, err := runner.Open(context.Background(), dir)
		if !errors.Is(err, runner.ErrAbsent) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line wrapping ErrAbsent", dir, err)
		}
	}
	if _, err := runner.Open(context.Background(), "testdata/refuses"); errors.Is(err, runner.ErrAbsent) {
		t.Errorf("a driver that is there: err = %v", err)
	}
	t.Setenv("GARBAGE_HELLO", "1")
	if _, err := runner.Open(context.Background(), "testdata/garbage"); errors.Is(err, runner.ErrAbsent) {
		t.Errorf("a hello that fails is a failure, not absent: err = %v", err)
	}
}
