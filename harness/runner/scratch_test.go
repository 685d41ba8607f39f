package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestSweepScratchTakesOnlyTheDeadOwners(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("sleep", "60")
	if err := dead.Start(); err != nil {
		t.Fatal(err)
	}
	start, ok := startTime(dead.Process.Pid)
	dead.Process.Kill()
	dead.Wait()
	if !ok {
		t.Fatal("no start time for a live process")
	}
	me, _ := startTime(os.Getpid())
	names := map[string]bool{ // name -> swept
		fmt.Sprintf("mpconform-trace-%d.%d-1", dead.Process.Pid, start): true,
		fmt.Sprintf("mpconform-bin-%d.%d-2", os.Getpid(), me+1):         true, // this pid, but another process's
		fmt.Sprintf("mpconform-tmp-%d.%d-3", os.Getpid(), me):           false,
		"mpconform-trace-123456":                                        false, // no owner in the name: not ours to judge
		fmt.Sprintf("other-%d.%d-4", dead.Process.Pid, start):           false,
	}
	for name := range names {
		if err := os.Mkdir(filepath.Join(tmp, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	swept := SweepScratch()
	for name, want := range names {
		_, err := os.Stat(filepath.Join(tmp, name))
		if got := os.IsNotExist(err); got != want || got != slices.Contains(swept, filepath.Join(tmp, name)) {
			t.Errorf("%s: swept %v, want %v (SweepScratch says %v)", name, got, want, swept)
		}
	}
}
