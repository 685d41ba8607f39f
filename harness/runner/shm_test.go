package runner

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
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

// TestShmLeftKeepsSemOpenMapping: glibc's sem_open writes a temporary file,
// maps it, links it under the semaphore's name and unlinks the temporary
// name, so the mapping's path in /proc says "(deleted)". The named file is
// in use all the same and must stay.
func TestShmLeftKeepsSemOpenMapping(t *testing.T) {
	before := shm()
	tmp, err := os.CreateTemp(shmDir, "mpconform-runner-test-tmp-")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Truncate(32); err != nil {
		t.Fatal(err)
	}
	mem, err := syscall.Mmap(int(tmp.Fd()), 0, 32, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	tmp.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	name := filepath.Join(shmDir, "mpconform-runner-test-sem-"+filepath.Base(tmp.Name())[len("mpconform-runner-test-tmp-"):])
	if err := os.Link(tmp.Name(), name); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(name)
	os.Remove(tmp.Name())

	if left := shmLeft(before); !slices.Contains(left, name) {
		t.Errorf("shmLeft = %v, want it to report %s", left, name)
	}
	if _, err := os.Stat(name); err != nil {
		t.Errorf("the mapped semaphore was removed: %v", err)
	}
}
