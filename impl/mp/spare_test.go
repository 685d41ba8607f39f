package mp_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

type getenvArg struct{ Path, Name string }

var getenv = mp.Register("getenv", func(a getenvArg) error {
	return writeJSON(a.Path, os.Getenv(a.Name))
})

// myChildren lists the live processes whose parent is this one, from /proc.
func myChildren(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || gone(pid) {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitChildren waits until this process has exactly n live children.
func waitChildren(t *testing.T, n int) []int {
	t.Helper()
	var pids []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if pids = myChildren(t); len(pids) == n {
			return pids
		}
	}
	t.Fatalf("children %v, want %d of them", pids, n)
	return nil
}

func TestSpare(t *testing.T) {
	mp.Shutdown() // whatever earlier tests left
	waitChildren(t, 0)

	// A plain Start leaves a spare behind, which is no child of the program.
	join(t, start(t, mp.New(noop, struct{}{})))
	spare := waitChildren(t, 1)
	if active := mp.ActiveChildren(); len(active) != 0 {
		t.Errorf("ActiveChildren = %v, want none (the spare is invisible)", active)
	}

	// The next plain Start uses it.
	dir := t.TempDir()
	path := filepath.Join(dir, "1")
	p := start(t, mp.New(getenv, getenvArg{path, "MP_SPARE_TEST"}))
	if p.Pid() != spare[0] {
		t.Errorf("the child is %d, not the spare %d", p.Pid(), spare[0])
	}
	if code := join(t, p); code != 0 {
		t.Fatalf("exit code %d", code)
	}

	// A changed environment makes the spare stale: the child sees the
	// new variable all the same.
	t.Setenv("MP_SPARE_TEST", "fresh")
	path = filepath.Join(dir, "2")
	p = start(t, mp.New(getenv, getenvArg{path, "MP_SPARE_TEST"}))
	if code := join(t, p); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var got string
	readJSON(t, path, &got)
	if got != "fresh" {
		t.Errorf("the child saw MP_SPARE_TEST=%q, want %q", got, "fresh")
	}
	if slices.Contains(mp.ActiveChildren(), p) {
		t.Error("a joined child is still active")
	}

	// Shutdown leaves no process behind, spare included.
	mp.Shutdown()
	if pids := myChildren(t); len(pids) != 0 {
		t.Errorf("children left after Shutdown: %v", pids)
	}
}
