package mp_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"runtime"
	"strings"
	"testing"
)

type noTimer struct{}

func (noTimer) ResetTimer() {}
func (noTimer) StopTimer()  {}

// TestFloors runs each floor of floor_bench_test.go for a few ops: a broken
// floor fails here, not only under -bench.
func TestFloors(t *testing.T) {
	for _, c := range []struct {
		name string
		f    floor
		n    int
	}{
		{"StartJoin/elf", startJoinFloor(t.TempDir()), 3},
		{"StartJoin/self", selfStartJoinFloor, 2},
		{"LockUncontended", lockFloor, 1000},
		{"LockHandoff/futex", tokenFloor(true), 100},
		{"LockHandoff/spin", tokenFloor(false), 100},
		{"Semaphore/uncontended", semaphoreFloor, 1000},
		// Semaphore/handoff is LockHandoff, PipeRoundTrip/cacheline LockHandoff/spin.
		{"Queue/1to1", queueFloor, 3 * ringCap}, // the ring wraps
		{"PipeRoundTrip/socketpair", socketRoundTripFloor, 100},
		{"PipeStream/memcpy", memcpyFloor, 3},
		{"PipeStream/socketpair", socketStreamFloor, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.f(c.n, noTimer{}); errors.Is(err, errNoExitELF) {
				t.Skip(err)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFloorPeerGone: a floor whose child exits too soon fails, spinning
// or sleeping, instead of waiting forever.
func TestFloorPeerGone(t *testing.T) {
	for _, sleep := range []bool{false, true} {
		err := withMemPeer("exit", 4096, 0, func(mem []byte, p *peer) error {
			return token{w: word32(mem, 0), sleep: sleep, alive: p.alive}.await(0)
		})
		if !errors.Is(err, errPeerGone) {
			t.Errorf("sleep %v: waiting for a child that exited: %v, want errPeerGone", sleep, err)
		}
	}
}

// TestFloorFailureEndsChild: when a floor's ops fail, its child, still
// waiting for them, is killed and reaped, not waited for.
func TestFloorFailureEndsChild(t *testing.T) {
	broken := errors.New("broken")
	err := withMemPeer("spin", 4096, 1, func([]byte, *peer) error { return broken })
	if !errors.Is(err, broken) {
		t.Errorf("a floor whose ops fail: %v, want its error", err)
	}
}

// TestFloorChildBadArgs: a child started wrong says so in one line.
func TestFloorChildBadArgs(t *testing.T) {
	for _, c := range []struct {
		role string
		args []string
	}{{"no-such-role", []string{"1"}}, {"spin", []string{"x"}}, {"spin", nil}} {
		var stderr strings.Builder
		if code := runFloorChild(c.role, c.args, &stderr); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("role %q, args %q: exit code %d, stderr %q; want 2 and one line", c.role, c.args, code, stderr.String())
		}
	}
}

func TestExitELF(t *testing.T) {
	exe, err := exitELF()
	if errors.Is(err, errNoExitELF) {
		t.Skip(err)
	}
	f, err := elf.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_EXEC || len(f.Progs) != 1 || f.Entry != f.Progs[0].Vaddr+uint64(len(exe)-len(exitCode[runtime.GOARCH].code)) {
		t.Errorf("exitELF: type %v, %d segments, entry %#x: want one executable segment, entry at the code", f.Type, len(f.Progs), f.Entry)
	}
	if len(exe) > 200 {
		t.Errorf("exitELF is %d bytes, want a header, a segment and the code", len(exe))
	}
}
