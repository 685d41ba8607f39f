package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpconform/mpconform/harness/conformtest"
)

// TestKilledConformIsSwept SIGKILLs a conform in the middle of a run: its
// scratch directories (build, trace, TMPDIR) stay behind, and the next
// conform sweeps them, while it leaves alone those of a live owner.
func TestKilledConformIsSwept(t *testing.T) {
	tmp := t.TempDir()
	scenario := filepath.Join(t.TempDir(), "sleep.json")
	os.WriteFile(scenario, []byte(`{"protocol":1,"name":"sleep","main":[{"op":"sleep","ms":60000}]}`), 0o644)
	// The killed conform's driver is orphaned: this process adopts and reaps it.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

	cmd := conformtest.Command("scenario", "run", scenario, "--impl", "./impl")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scratch := func() []string {
		dirs, _ := filepath.Glob(filepath.Join(tmp, "mpconform-*-"+strconv.Itoa(cmd.Process.Pid)+".*"))
		return dirs
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if traces, _ := filepath.Glob(filepath.Join(tmp, "mpconform-trace-*", "*.jsonl")); len(traces) > 0 && len(scratch()) == 3 {
			break // the driver runs
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("conform made no trace within a minute: %v", scratch())
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := killOrphans("MPCONFORM_RUN=" + strconv.Itoa(cmd.Process.Pid) + "."); n == 0 {
		t.Error("found no driver of the killed conform to kill")
	}
	left := scratch()
	if len(left) != 3 {
		t.Fatalf("the killed conform left %v, want its bin, trace and tmp", left)
	}
	// A directory whose owner lives (this test) stays.
	stat, _ := os.ReadFile("/proc/self/stat")
	fields := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
	live := filepath.Join(tmp, "mpconform-trace-"+strconv.Itoa(os.Getpid())+"."+string(fields[19])+"-live")
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}

	next := conformtest.Command("scenario", "run", "fixtures/scenarios/tutorial/1-pid.json", "--impl", "./impl")
	next.Env = append(next.Env, "TMPDIR="+tmp)
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next conform: %v\n%s", err, out)
	}
	if left := scratch(); len(left) > 0 {
		t.Errorf("the next conform left the killed one's %v", left)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the next conform swept the directory of a live owner: %v", err)
	}
}

// killOrphans SIGKILLs the processes whose environment holds mark (a run's
// driver, orphaned when its conform was killed), reaps them and counts them.
func killOrphans(mark string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(env, []byte(mark)) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		syscall.Kill(pid, syscall.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil) // ours since its parent died: this is its subreaper
		n++
	}
	return n
}
