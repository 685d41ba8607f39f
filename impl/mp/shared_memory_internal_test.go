package mp

import (
	"context"
	"os"
	"testing"
	"time"
)

// shmCreator creates a segment with a tracker of its own (it forgets the
// test's), then waits to be killed.
var shmCreator = Register("shm.creator", func(name string) error {
	os.Unsetenv(envShmTracker)
	if _, err := CreateSharedMemory(name, 64); err != nil {
		return err
	}
	time.Sleep(time.Minute)
	return nil
})

// TestTrackerUnlinksAfterSIGKILL: a process killed before it unlinks its
// segment leaves nothing in /dev/shm once it is gone.
func TestTrackerUnlinksAfterSIGKILL(t *testing.T) {
	name := "mp_test_killed_" + randomShmName()
	p := New(shmCreator, name)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	exists := func() bool { _, err := os.Stat(shmDir + name); return err == nil }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				p.Kill()
				os.Remove(shmDir + name)
				t.Fatal(what)
			}
		}
	}
	waitFor("the child did not create its segment", exists)
	p.Kill()
	p.Join(context.Background())
	waitFor("the killed child's segment is still in /dev/shm", func() bool { return !exists() })
}
