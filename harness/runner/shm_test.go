package runner

import (
	"errors"
	"os"
	"slices"
	"testing"
)

// TestShmLeftRemovesOnlyUnused: of two new files in /dev/shm, both are
// reported; the one a live process (this one) holds open stays, the other
// is removed.
func TestShmLeftRemovesOnlyUnused(t *testing.T) {
	before := shm()
	held, err := os.CreateTemp(shmDir, "mpconform-runner-test-held-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.Remove(held.Name())
	defer held.Close()
	dropped, err := os.CreateTemp(shmDir, "mpconform-runner-test-dropped-")
	if err != nil {
		t.Fatal(err)
	}
	dropped.Close()
	defer os.Remove(dropped.Name())

	left := shmLeft(before)
	for _, f := range []string{held.Name(), dropped.Name()} {
		if !slices.Contains(left, f) {
			t.Errorf("shmLeft = %v, want it to report %s", left, f)
		}
	}
	if _, err := os.Stat(held.Name()); err != nil {
		t.Errorf("the file in use was removed: %v", err)
	}
	if _, err := os.Stat(dropped.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unused file is still there (%v)", err)
	}
}
