package mp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

func TestMain(m *testing.M) {
	mp.Main() // children of the tests dispatch here
	os.Exit(m.Run())
}

// Targets run in children; they report back through files, since a child
// has nothing else in common with the test.

var noop = mp.Register("noop", func(struct{}) error { return nil })

var sleeper = mp.Register("sleeper", func(ms int) error {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return nil
})

type napArg struct {
	Ms   int
	Path string
}

// nap sleeps and writes when it began and ended (wall clock, shared by all
// processes).
var nap = mp.Register("nap", func(a napArg) error {
	begin := time.Now().UnixNano()
	time.Sleep(time.Duration(a.Ms) * time.Millisecond)
	return writeJSON(a.Path, [2]int64{begin, time.Now().UnixNano()})
})

// exitWith ends the child in the way its code asks for.
var exitWith = mp.Register("exitWith", func(how string) error {
	switch how {
	case "return":
		return nil
	case "error":
		return errors.New("deliberate")
	case "panic":
		panic("deliberate")
	default:
		code, _ := strconv.Atoi(how)
		mp.Exit(code)
		return nil
	}
})

type report struct {
	Path  string
	Spawn []string // prefixes of children to create ("" for the default)
}

// whoAmI writes what the child knows of itself, and the names of children
// it creates, to Path.
var whoAmI = mp.Register("whoAmI", func(r report) error {
	var names []string
	for _, prefix := range r.Spawn {
		var opts []mp.Option
		if prefix != "" {
			opts = append(opts, mp.Prefix(prefix))
		}
		p := mp.New(noop, struct{}{}, opts...)
		if err := p.Start(); err != nil {
			return err
		}
		names = append(names, p.Name())
	}
	return writeJSON(r.Path, map[string]any{"self": mp.Current(), "children": names})
})

// daemonSpawn exits 7 if starting a child fails with ErrNotAllowed.
var daemonSpawn = mp.Register("daemonSpawn", func(struct{}) error {
	err := mp.New(noop, struct{}{}).Start()
	if errors.Is(err, mp.ErrNotAllowed) {
		mp.Exit(7)
	}
	return fmt.Errorf("start in a daemon: %v", err)
})

// family starts a daemonic child that would sleep long and a non-daemonic
// one that writes Dir/done after a while, reports the daemon's pid, and
// returns: the bootstrap's Shutdown must stop one and wait for the other.
var family = mp.Register("family", func(dir string) error {
	d := mp.New(sleeper, 60_000, mp.Daemon(true))
	n := mp.New(touchLater, filepath.Join(dir, "done"))
	for _, p := range []*mp.Process{d, n} {
		if err := p.Start(); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "daemon"), d.Pid())
})

var touchLater = mp.Register("touchLater", func(path string) error {
	time.Sleep(200 * time.Millisecond)
	return os.WriteFile(path, nil, 0o644)
})

// orphanMaker starts a long sleeper, reports its pid and waits to be killed.
var orphanMaker = mp.Register("orphanMaker", func(path string) error {
	p := mp.New(sleeper, 60_000)
	if err := p.Start(); err != nil {
		return err
	}
	if err := writeJSON(path, p.Pid()); err != nil {
		return err
	}
	time.Sleep(time.Minute)
	return nil
})

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path) // so that a poller never reads half of it
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}

func join(t *testing.T, p *mp.Process) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Join(ctx); err != nil {
		p.Kill()
		t.Fatalf("join %s: %v", p.Name(), err)
	}
	code, exited := p.ExitCode()
	if !exited {
		t.Fatalf("%s joined but not exited", p.Name())
	}
	return code
}

func start(t *testing.T, p *mp.Process) *mp.Process {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Join(context.Background())
	})
	return p
}

// gone reports whether pid no longer runs (a zombie left to an init that
// does not reap counts as gone).
func gone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

func TestCurrentInMain(t *testing.T) {
	me := mp.Current()
	if me.Name != "MainProcess" || me.Pid != os.Getpid() || me.Ppid != os.Getppid() || me.Daemon {
		t.Errorf("Current() = %+v", me)
	}
}

func TestChildKnowsItself(t *testing.T) {
	for _, daemon := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "report")
		p := start(t, mp.New(whoAmI, report{Path: path}, mp.Daemon(daemon)))
		if code := join(t, p); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		var got struct{ Self mp.Info }
		readJSON(t, path, &got)
		want := mp.Info{Name: p.Name(), Pid: p.Pid(), Ppid: os.Getpid(), Daemon: daemon}
		if got.Self != want {
			t.Errorf("child reports %+v, want %+v", got.Self, want)
		}
		if got.Self.Pid == os.Getpid() {
			t.Error("child has its parent's pid")
		}
	}
}

func TestNames(t *testing.T) {
	first := mp.New(noop, struct{}{}, mp.Prefix("zx"))
	k, err := strconv.Atoi(strings.TrimPrefix(first.Name(), "zx-"))
	if err != nil {
		t.Fatalf("first name %q is not zx-<k>", first.Name())
	}
	got := []string{
		first.Name(),
		mp.New(noop, struct{}{}).Name(),
		mp.New(noop, struct{}{}, mp.Name("explicit")).Name(),
		mp.New(noop, struct{}{}, mp.Prefix("zx")).Name(),
	}
	want := []string{
		fmt.Sprintf("zx-%d", k),
		fmt.Sprintf("Process-%d", k+1),
		"explicit",
		fmt.Sprintf("zx-%d", k+3), // the explicit name was counted too
	}
	if !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}

	// A grandchild's identity extends its parent's, with a fresh counter.
	path := filepath.Join(t.TempDir(), "report")
	p := start(t, mp.New(whoAmI, report{Path: path, Spawn: []string{"", "zx", ""}}))
	join(t, p)
	var rep struct{ Children []string }
	readJSON(t, path, &rep)
	id := strings.TrimPrefix(p.Name(), "Process-")
	want = []string{"Process-" + id + ":1", "zx-" + id + ":2", "Process-" + id + ":3"}
	if !slices.Equal(rep.Children, want) {
		t.Errorf("grandchildren %q, want %q", rep.Children, want)
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		how  string
		kill func(*mp.Process) error
		want int
	}{
		{"return", nil, 0},
		{"error", nil, 1},
		{"panic", nil, 1},
		{"3", nil, 3},
		{"0", nil, 0},
	}
	for _, c := range cases {
		p := start(t, mp.New(exitWith, c.how))
		if got := join(t, p); got != c.want {
			t.Errorf("%s: exit code %d, want %d", c.how, got, c.want)
		}
	}
	for sig, stop := range map[int]func(*mp.Process) error{
		-int(syscall.SIGTERM): (*mp.Process).Terminate,
		-int(syscall.SIGKILL): (*mp.Process).Kill,
	} {
		p := start(t, mp.New(sleeper, 60_000))
		if err := stop(p); err != nil {
			t.Fatal(err)
		}
		if got := join(t, p); got != sig {
			t.Errorf("exit code %d, want %d", got, sig)
		}
		if err := stop(p); err != nil {
			t.Errorf("stopping an exited process: %v", err)
		}
	}
}

func TestJoinTimeoutLeavesChildRunning(t *testing.T) {
	p := mp.New(sleeper, 60_000)
	if p.IsAlive() || p.Pid() != 0 || p.Done() != nil {
		t.Error("alive, with a pid or a Done channel before Start")
	}
	if _, exited := p.ExitCode(); exited {
		t.Error("exited before Start")
	}
	start(t, p)
	if !p.IsAlive() || p.Pid() == 0 {
		t.Error("not alive after Start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join = %v, want DeadlineExceeded", err)
	}
	if _, exited := p.ExitCode(); exited || !p.IsAlive() || gone(p.Pid()) {
		t.Error("the child stopped when Join timed out")
	}
	p.Kill()
	join(t, p)
	if p.IsAlive() {
		t.Error("alive after Join")
	}
}

func TestNotAllowed(t *testing.T) {
	p := mp.New(noop, struct{}{})
	if err := p.Join(context.Background()); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("Join before Start: %v", err)
	}
	if err := p.Terminate(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("Terminate before Start: %v", err)
	}
	if err := p.SetDaemon(true); err != nil || !p.Daemon() {
		t.Errorf("SetDaemon before Start: %v", err)
	}
	start(t, p)
	if err := p.Start(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("second Start: %v", err)
	}
	if err := p.SetDaemon(false); !errors.Is(err, mp.ErrNotAllowed) || !p.Daemon() {
		t.Errorf("SetDaemon after Start: %v", err)
	}
	join(t, p)

	d := start(t, mp.New(daemonSpawn, struct{}{}, mp.Daemon(true)))
	if code := join(t, d); code != 7 {
		t.Errorf("a daemon starting a child: exit code %d, want 7 (ErrNotAllowed)", code)
	}
}

func TestParallel(t *testing.T) {
	dir := t.TempDir()
	var ps []*mp.Process
	for i := range 4 {
		ps = append(ps, start(t, mp.New(nap, napArg{Ms: 300, Path: filepath.Join(dir, strconv.Itoa(i))})))
	}
	var lastStart, firstEnd int64
	for i, p := range ps {
		join(t, p)
		var span [2]int64
		readJSON(t, filepath.Join(dir, strconv.Itoa(i)), &span)
		lastStart = max(lastStart, span[0])
		if i == 0 || span[1] < firstEnd {
			firstEnd = span[1]
		}
	}
	// Had they run one after the other, one would start after another ended.
	if lastStart >= firstEnd {
		t.Errorf("the children did not sleep at the same time: last start %d, first end %d", lastStart, firstEnd)
	}
}

func TestActiveChildren(t *testing.T) {
	a := start(t, mp.New(sleeper, 60_000))
	b := start(t, mp.New(sleeper, 60_000))
	if active := mp.ActiveChildren(); !slices.Contains(active, a) || !slices.Contains(active, b) {
		t.Errorf("ActiveChildren = %v, want both", active)
	}
	a.Kill()
	join(t, a)
	if active := mp.ActiveChildren(); slices.Contains(active, a) || !slices.Contains(active, b) {
		t.Errorf("ActiveChildren = %v, want only %v", active, b)
	}
}

func TestChildShutdown(t *testing.T) {
	dir := t.TempDir()
	begin := time.Now()
	p := start(t, mp.New(family, dir))
	if code := join(t, p); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if time.Since(begin) > 30*time.Second {
		t.Error("the child waited for its daemon")
	}
	if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
		t.Error("the non-daemonic grandchild did not run to completion")
	}
	var daemon int
	readJSON(t, filepath.Join(dir, "daemon"), &daemon)
	if !gone(daemon) {
		t.Errorf("the daemonic grandchild %d outlived its parent", daemon)
	}
}

func TestNoOrphanWhenParentKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	p := start(t, mp.New(orphanMaker, path))
	waitFile(t, path)
	var grandchild int
	readJSON(t, path, &grandchild)
	p.Kill()
	join(t, p)
	for deadline := time.Now().Add(10 * time.Second); !gone(grandchild); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(grandchild, syscall.SIGKILL)
			t.Fatalf("grandchild %d survived its killed parent", grandchild)
		}
	}
}

func TestRegisterAfterMainPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Register after Main did not panic")
		}
	}()
	mp.Register("late", func(struct{}) error { return nil })
}

func BenchmarkStartJoin(b *testing.B) {
	for b.Loop() {
		p := mp.New(noop, struct{}{})
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
		if err := p.Join(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
