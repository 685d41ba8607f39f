package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// Local clients talk to the server through shared memory; these tests are
// about what shared memory does not say by itself: that the other side is
// gone, and messages longer than a ring.

// serverFds counts the descriptors the manager's server has open.
func serverFds(t *testing.T, m *mp.Manager) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", m.Process().Pid()))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// A client killed while it uses its connections does not leave them open
// in the server, and the others are served meanwhile.
func TestManagerKilledClientReleased(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	must[any](t)(nil, d.Set("parent", 0)) // the parent's connection is open
	before := serverFds(t, m)
	p := start(t, mp.New(pollUntilClosed, pollArg{d, filepath.Join(t.TempDir(), "unused")}))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := d.Contains("started"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never started setting keys")
		}
	}
	if n := serverFds(t, m); n <= before {
		t.Fatalf("the server has %d descriptors with a client connected, %d before", n, before)
	}
	p.Kill()
	join(t, p)
	for deadline := time.Now().Add(20 * time.Second); serverFds(t, m) > before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the killed client's connection is still open in the server: %d descriptors, %d before",
				serverFds(t, m), before)
		}
	}
	if err := d.Set("parent", 1); err != nil {
		t.Fatal(err)
	}
}

// A client waiting for a reply when the server dies gets ErrClosed.
func TestManagerKilledServer(t *testing.T) {
	m, err := mp.NewManager()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	lock := must[*mp.LockProxy](t)(m.Lock())
	if !lock.TryAcquire() {
		t.Fatal("a new lock could not be acquired")
	}
	blocked := make(chan error, 1)
	go func() { blocked <- lock.Acquire(context.Background()) }()
	time.Sleep(50 * time.Millisecond) // most often, the acquire is waiting by now
	m.Process().Kill()
	select {
	case err := <-blocked:
		if !errors.Is(err, mp.ErrClosed) {
			t.Errorf("the waiting acquire ended with %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("an acquire still waits for a server that was killed")
	}
	if err := lock.Release(); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("a release after the server died: %v, want ErrClosed", err)
	}
}

// Values longer than a connection's rings stream through in parts, both
// ways, while a child does the same on its own connection.
func TestManagerLongValues(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	l := must[*mp.ListProxy](t)(m.List(nil))
	p := start(t, mp.New(tutorial, tutorialArg{d, l, 1}))
	for _, n := range []int{64<<10 - 20, 64 << 10, 1 << 20, 9<<20 + 7} {
		v := strings.Repeat(string(rune('a'+n%26)), n)
		if err := d.Set(n, v); err != nil {
			t.Fatalf("set %d bytes: %v", n, err)
		}
		got, err := d.Get(n)
		if err != nil || got != v {
			t.Fatalf("get %d bytes: %d bytes, %v", n, len(fmt.Sprint(got)), err)
		}
	}
	if code := join(t, p); code != 0 {
		t.Fatalf("child exited %d", code)
	}
}
