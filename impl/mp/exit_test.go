package mp_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// appendPid appends this process's pid to path, one line each.
func appendPid(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return err
}

func readPids(t *testing.T, path string) []int {
	t.Helper()
	data, _ := os.ReadFile(path)
	var pids []int
	for _, line := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(line)
		if err != nil {
			t.Fatalf("%s: %q", path, line)
		}
		pids = append(pids, pid)
	}
	return pids
}

var initAppendPid = mp.Register("test.initAppendPid", appendPid)

// holdTask appends its worker's pid to path, then sleeps for five minutes.
var holdTask = mp.RegisterTask("test.hold", func(path string) (struct{}, error) {
	if err := appendPid(path); err != nil {
		return struct{}{}, err
	}
	time.Sleep(5 * time.Minute)
	return struct{}{}, nil
})

type atExitArg struct{ Inits, Holds string }

// poolAtExit leaves a pool of 2 running two held tasks when it returns, so
// that Shutdown meets them.
var poolAtExit = mp.Register("test.poolAtExit", func(a atExitArg) error {
	p, err := mp.NewPool(mp.Processes(2), mp.Initializer(initAppendPid, a.Inits))
	if err != nil {
		return err
	}
	for range 2 {
		if _, err := mp.ApplyAsync(p, holdTask, a.Holds); err != nil {
			return err
		}
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, _ := os.ReadFile(a.Holds); strings.Count(string(data), "\n") == 2 {
			return nil
		}
	}
	return os.ErrDeadlineExceeded
})

// TestShutdownTerminatesPools: a program that ends with a pool still busy
// ends at once (its held tasks are not waited for), without a replacement
// worker started on its way out, and with every worker gone.
func TestShutdownTerminatesPools(t *testing.T) {
	dir := t.TempDir()
	arg := atExitArg{filepath.Join(dir, "inits"), filepath.Join(dir, "holds")}
	p := start(t, mp.New(poolAtExit, arg))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Join(ctx); err != nil {
		t.Fatalf("the program did not end with its pool busy: %v", err)
	}
	if code, _ := p.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	inits := readPids(t, arg.Inits)
	if len(inits) != 2 {
		t.Errorf("%d workers started (pids %v), want the pool's 2 and no replacement", len(inits), inits)
	}
	for _, pid := range inits {
		if !gone(pid) {
			t.Errorf("worker %d outlived its program", pid)
		}
	}
}
