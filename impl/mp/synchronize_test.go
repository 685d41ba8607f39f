package mp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
	"golang.org/x/sys/unix"
)

// Children of these tests report through files and exit codes. Times are
// CLOCK_MONOTONIC, which all processes share.

func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// appendLine appends one line to path with one write(2), as the trace does.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// ctxTimeout returns a context that ends after d, with
// context.DeadlineExceeded (a cancel at d would race with the deadline).
func ctxTimeout(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	context.AfterFunc(ctx, cancel)
	return ctx
}

type counterArg struct {
	L     *mp.Lock
	Path  string // a file holding a counter, incremented under L
	Log   string // "<pid>+" and "<pid>-" lines around each critical section
	Times int
}

// countUnderLock increments the counter in a file Times times, each time
// reading and rewriting it while holding the lock.
var countUnderLock = mp.Register("sync.countUnderLock", func(a counterArg) error {
	me := strconv.Itoa(os.Getpid())
	for range a.Times {
		if a.L.Acquire(context.Background()) != nil {
			return errors.New("acquire failed")
		}
		if err := appendLine(a.Log, me+"+"); err != nil {
			return err
		}
		data, _ := os.ReadFile(a.Path)
		n, _ := strconv.Atoi(string(data))
		if err := os.WriteFile(a.Path, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
			return err
		}
		if err := appendLine(a.Log, me+"-"); err != nil {
			return err
		}
		if err := a.L.Release(); err != nil {
			return err
		}
	}
	return nil
})

func TestLockMutualExclusion(t *testing.T) {
	l, err := mp.NewLock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	arg := counterArg{L: l, Path: filepath.Join(dir, "n"), Log: filepath.Join(dir, "log"), Times: 200}
	var ps []*mp.Process
	for range 3 {
		ps = append(ps, start(t, mp.New(countUnderLock, arg)))
	}
	// The parent takes part too: goroutines of one process are excluded as well.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range arg.Times {
				l.Acquire(context.Background())
				appendLine(arg.Log, "main+")
				data, _ := os.ReadFile(arg.Path)
				n, _ := strconv.Atoi(string(data))
				os.WriteFile(arg.Path, []byte(strconv.Itoa(n+1)), 0o644)
				appendLine(arg.Log, "main-")
				l.Release()
			}
		})
	}
	wg.Wait()
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
	data, _ := os.ReadFile(arg.Path)
	if got, want := string(data), strconv.Itoa(5*arg.Times); got != want {
		t.Errorf("counter %s, want %s: increments were lost", got, want)
	}
	lines := readLines(t, arg.Log)
	for i := 0; i+1 < len(lines); i += 2 {
		enter, leave := lines[i], lines[i+1]
		if !strings.HasSuffix(enter, "+") || leave != strings.TrimSuffix(enter, "+")+"-" {
			t.Fatalf("critical sections overlap at line %d: %q then %q", i, enter, leave)
		}
	}
	if !l.TryAcquire() {
		t.Error("the lock is still held after every process released it")
	}
}

type lockOp struct {
	L    *mp.Lock
	Op   string
	Path string
}

// onLock does one thing to a lock in a child, and exits 0 if it went as
// expected.
var onLock = mp.Register("sync.onLock", func(a lockOp) error {
	switch a.Op {
	case "release":
		return a.L.Release()
	case "try":
		if a.L.TryAcquire() {
			return errors.New("acquired a held lock")
		}
	case "timeout":
		t0 := monotonic()
		err := a.L.Acquire(ctxTimeout(50 * time.Millisecond))
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return writeJSON(a.Path, []any{err == nil, t0, monotonic()})
	case "block":
		t0 := monotonic()
		err := a.L.Acquire(context.Background())
		return writeJSON(a.Path, []any{err == nil, t0, monotonic()})
	}
	return nil
})

func TestLockHasNoOwner(t *testing.T) {
	l, err := mp.NewLock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Release(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("releasing an unlocked lock: %v, want ErrValue", err)
	}
	if l.Acquire(context.Background()) != nil {
		t.Fatal("acquire failed")
	}
	if code := join(t, start(t, mp.New(onLock, lockOp{L: l, Op: "try"}))); code != 0 {
		t.Error("a child acquired a lock its parent holds, without blocking")
	}
	if code := join(t, start(t, mp.New(onLock, lockOp{L: l, Op: "release"}))); code != 0 {
		t.Error("a child could not release its parent's lock")
	}
	if !l.TryAcquire() {
		t.Error("the lock a child released is still held")
	}
	if code := join(t, start(t, mp.New(onLock, lockOp{L: l, Op: "release"}))); code != 0 {
		t.Fatal("release in a child failed")
	}
	if code := join(t, start(t, mp.New(onLock, lockOp{L: l, Op: "release"}))); code != 1 {
		t.Error("a child released an unlocked lock without error")
	}
}

func TestLockAcquireTimeout(t *testing.T) {
	l, _ := mp.NewLock()
	defer l.Close()
	l.Acquire(context.Background())
	path := filepath.Join(t.TempDir(), "r")
	if code := join(t, start(t, mp.New(onLock, lockOp{L: l, Op: "timeout", Path: path}))); code != 0 {
		t.Fatal("child failed")
	}
	var r []any
	readJSON(t, path, &r)
	if r[0] != false {
		t.Error("acquire with a timeout of a held lock returned true")
	}
	if d := time.Duration(r[2].(float64) - r[1].(float64)); d < 50*time.Millisecond {
		t.Errorf("acquire gave up after %v, before its timeout of 50ms", d)
	}
	// In-process, with a canceled context: false, and at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a canceled context: %v", err)
	}
	// A cancellation wakes a waiter.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Acquire(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled acquire: %v", err)
	}
}

func TestLockWakesWaiter(t *testing.T) {
	l, _ := mp.NewLock()
	defer l.Close()
	l.Acquire(context.Background())
	path := filepath.Join(t.TempDir(), "r")
	p := start(t, mp.New(onLock, lockOp{L: l, Op: "block", Path: path}))
	// The child blocks until the release; once it has acquired, the parent
	// cannot.
	time.Sleep(20 * time.Millisecond) // let it sleep on the futex (not needed for correctness)
	released := monotonic()
	l.Release()
	if code := join(t, p); code != 0 {
		t.Fatal("child failed")
	}
	var r []any
	readJSON(t, path, &r)
	if r[0] != true || int64(r[2].(float64)) < released {
		t.Errorf("the waiter returned %v at %v, release at %d", r[0], r[2], released)
	}
	if l.TryAcquire() {
		t.Error("the lock is free although the child acquired it and exited")
	}
}

type rlockOp struct {
	R  *mp.RLock
	Op string
}

var onRLock = mp.Register("sync.onRLock", func(a rlockOp) error {
	switch a.Op {
	case "release":
		if err := a.R.Release(); !errors.Is(err, mp.ErrNotAllowed) {
			return fmt.Errorf("release of another process's rlock: %v", err)
		}
	case "try":
		if a.R.TryAcquire() {
			return errors.New("acquired an rlock held by another process")
		}
	case "acquire":
		if a.R.Acquire(context.Background()) != nil || a.R.Acquire(context.Background()) != nil {
			return errors.New("acquire failed")
		}
		a.R.Release()
		a.R.Release()
	}
	return nil
})

func TestRLock(t *testing.T) {
	r, err := mp.NewRLock()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Release(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("releasing an unheld rlock: %v, want ErrNotAllowed", err)
	}
	for range 3 {
		if r.Acquire(context.Background()) != nil {
			t.Fatal("recursive acquire failed")
		}
	}
	if !r.TryAcquire() {
		t.Fatal("recursive try-acquire failed")
	}
	// Another goroutine of this process is not the owner.
	other := make(chan error)
	go func() {
		if r.TryAcquire() {
			other <- errors.New("another goroutine acquired a held rlock")
			return
		}
		other <- r.Release()
	}()
	if err := <-other; !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("release by another goroutine: %v, want ErrNotAllowed", err)
	}
	for _, op := range []string{"release", "try"} {
		if code := join(t, start(t, mp.New(onRLock, rlockOp{R: r, Op: op}))); code != 0 {
			t.Errorf("child %s: exit %d", op, code)
		}
	}
	for range 3 {
		if err := r.Release(); err != nil {
			t.Fatal(err)
		}
	}
	// Held once: still the owner's.
	if code := join(t, start(t, mp.New(onRLock, rlockOp{R: r, Op: "try"}))); code != 0 {
		t.Error("a child acquired an rlock still held once")
	}
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("releasing once too many: %v, want ErrNotAllowed", err)
	}
	if code := join(t, start(t, mp.New(onRLock, rlockOp{R: r, Op: "acquire"}))); code != 0 {
		t.Error("a child could not acquire a free rlock")
	}
}

type semArg struct {
	S    *mp.Semaphore
	Log  string
	Hold time.Duration
}

// holdSemaphore logs "+" and "-" around holding the semaphore, five times.
var holdSemaphore = mp.Register("sync.holdSemaphore", func(a semArg) error {
	for range 5 {
		if a.S.Acquire(context.Background()) != nil {
			return errors.New("acquire failed")
		}
		appendLine(a.Log, "+")
		time.Sleep(a.Hold)
		appendLine(a.Log, "-")
		if err := a.S.Release(); err != nil {
			return err
		}
	}
	return nil
})

func TestSemaphoreBound(t *testing.T) {
	s, err := mp.NewSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := filepath.Join(t.TempDir(), "log")
	var ps []*mp.Process
	for range 4 {
		ps = append(ps, start(t, mp.New(holdSemaphore, semArg{S: s, Log: log, Hold: 2 * time.Millisecond})))
	}
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
	in, most := 0, 0
	for _, l := range readLines(t, log) {
		if l == "+" {
			in++
		} else {
			in--
		}
		most = max(most, in)
	}
	if most > 2 {
		t.Errorf("%d processes held a Semaphore(2) at once", most)
	}
	if v := s.Value(); v != 2 {
		t.Errorf("value %d after every release, want 2", v)
	}
}

func TestSemaphoreValues(t *testing.T) {
	if _, err := mp.NewSemaphore(-1); !errors.Is(err, mp.ErrValue) {
		t.Errorf("Semaphore(-1): %v", err)
	}
	s, _ := mp.NewSemaphore(0)
	defer s.Close()
	if s.TryAcquire() || !errors.Is(s.Acquire(ctxTimeout(time.Millisecond)), context.DeadlineExceeded) {
		t.Error("acquired a semaphore of value 0")
	}
	s.Release()
	s.Release()
	if v := s.Value(); v != 2 {
		t.Errorf("value %d after two releases", v)
	}
	b, _ := mp.NewBoundedSemaphore(1)
	defer b.Close()
	if err := b.Release(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("over-release of a BoundedSemaphore: %v, want ErrValue", err)
	}
	b.Acquire(context.Background())
	if err := b.Release(); err != nil {
		t.Error(err)
	}
	if v := b.Value(); v != 1 {
		t.Errorf("value %d", v)
	}
}

type eventArg struct {
	E       *mp.Event
	Timeout time.Duration
	Path    string
}

var waitEvent = mp.Register("sync.waitEvent", func(a eventArg) error {
	t0 := monotonic() // before the deadline is set, which the wait may not end before
	ctx := context.Background()
	if a.Timeout > 0 {
		ctx = ctxTimeout(a.Timeout)
	}
	err := a.E.Wait(ctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return writeJSON(a.Path, []any{err == nil, t0, monotonic()})
})

func TestEvent(t *testing.T) {
	e, err := mp.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dir := t.TempDir()
	// A timed wait on an event never set returns false, not before its timeout.
	if code := join(t, start(t, mp.New(waitEvent, eventArg{E: e, Timeout: 30 * time.Millisecond, Path: filepath.Join(dir, "t")}))); code != 0 {
		t.Fatal("child failed")
	}
	var r []any
	readJSON(t, filepath.Join(dir, "t"), &r)
	if r[0] != false || time.Duration(r[2].(float64)-r[1].(float64)) < 30*time.Millisecond {
		t.Errorf("timed wait: %v", r)
	}
	// Waiters in other processes wake when it is set.
	var ps []*mp.Process
	for i := range 3 {
		ps = append(ps, start(t, mp.New(waitEvent, eventArg{E: e, Path: filepath.Join(dir, strconv.Itoa(i))})))
	}
	set := monotonic()
	e.Set()
	if !e.IsSet() {
		t.Error("not set after Set")
	}
	for i, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatal("child failed")
		}
		readJSON(t, filepath.Join(dir, strconv.Itoa(i)), &r)
		if r[0] != true || int64(r[2].(float64)) < set {
			t.Errorf("waiter %d: %v (set at %d)", i, r, set)
		}
	}
	e.Clear()
	if e.IsSet() || !errors.Is(e.Wait(ctxTimeout(time.Millisecond)), context.DeadlineExceeded) {
		t.Error("set after Clear")
	}
	// A waiter learns of a set even if a clear follows at once.
	done := make(chan error)
	go func() { done <- e.Wait(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	e.Set()
	e.Clear()
	if err := <-done; err != nil {
		t.Errorf("a waiter missed a set followed by a clear: %v", err)
	}
}

func TestConditionNeedsLock(t *testing.T) {
	c, _ := mp.NewCondition(nil)
	defer c.Close()
	if err := c.Wait(context.Background()); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("wait without the lock: %v", err)
	}
	if err := c.Notify(1); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("notify without the lock: %v", err)
	}
	c.Acquire(context.Background())
	c.Acquire(context.Background()) // an RLock: twice
	t0 := time.Now()
	err := c.Wait(ctxTimeout(20 * time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) < 20*time.Millisecond {
		t.Errorf("timed wait: %v after %v", err, time.Since(t0))
	}
	// Wait gave the lock back held twice.
	c.Release()
	if err := c.Release(); err != nil {
		t.Errorf("the lock was not held twice again after wait: %v", err)
	}
	calls := 0
	c.Acquire(context.Background())
	err = c.WaitFor(ctxTimeout(20*time.Millisecond), func() bool { calls++; return false })
	if !errors.Is(err, context.DeadlineExceeded) || calls < 2 {
		t.Errorf("WaitFor: %v after %d calls", err, calls)
	}
	c.Release()
}

type barrierArg struct {
	B       *mp.Barrier
	Path    string
	Timeout time.Duration
	Rounds  int
}

// party waits on the barrier Rounds times, and writes
// [index, arrived, left, action-ran] per round; an error is written as -1.
var party = mp.Register("sync.party", func(a barrierArg) error {
	ran := false
	a.B.SetAction(func() error { ran = true; return nil })
	var out [][4]any
	for range max(a.Rounds, 1) {
		ctx := context.Background()
		if a.Timeout > 0 {
			ctx = ctxTimeout(a.Timeout)
		}
		ran = false
		t0 := monotonic()
		i, err := a.B.Wait(ctx)
		if err != nil {
			if !errors.Is(err, mp.ErrBroken) {
				return err
			}
			i = -1
		}
		out = append(out, [4]any{i, t0, monotonic(), ran})
	}
	return writeJSON(a.Path, out)
})

func readParties(t *testing.T, paths []string) [][][4]any {
	var all [][][4]any
	for _, p := range paths {
		var r [][4]any
		readJSON(t, p, &r)
		all = append(all, r)
	}
	return all
}

func TestBarrier(t *testing.T) {
	b, err := mp.NewBarrier(3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Parties() != 3 || b.NWaiting() != 0 || b.Broken() {
		t.Fatal("a new barrier's state")
	}
	dir := t.TempDir()
	var ps []*mp.Process
	var paths []string
	for i := range 3 {
		paths = append(paths, filepath.Join(dir, strconv.Itoa(i)))
		ps = append(ps, start(t, mp.New(party, barrierArg{B: b, Path: paths[i], Rounds: 3})))
	}
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
	all := readParties(t, paths)
	for round := range 3 {
		var idx []int
		var lastArrival, firstLeave int64
		actions := 0
		for _, r := range all {
			rec := r[round]
			i := int(rec[0].(float64))
			idx = append(idx, i)
			lastArrival = max(lastArrival, int64(rec[1].(float64)))
			if l := int64(rec[2].(float64)); firstLeave == 0 || l < firstLeave {
				firstLeave = l
			}
			if rec[3] == true {
				actions++
				if i != 2 {
					t.Errorf("round %d: the action ran in the party of index %d, not the last", round, i)
				}
			}
		}
		slices.Sort(idx)
		if !slices.Equal(idx, []int{0, 1, 2}) {
			t.Errorf("round %d: indices %v", round, idx)
		}
		if firstLeave < lastArrival {
			t.Errorf("round %d: a party left before the last arrived", round)
		}
		if actions != 1 {
			t.Errorf("round %d: the action ran %d times", round, actions)
		}
	}
}

func TestBarrierBreaks(t *testing.T) {
	b, _ := mp.NewBarrier(3, mp.BarrierTimeout(time.Hour))
	defer b.Close()
	dir := t.TempDir()
	// Two parties of three: one times out, and that breaks it for both.
	p0 := start(t, mp.New(party, barrierArg{B: b, Path: filepath.Join(dir, "0")}))
	p1 := start(t, mp.New(party, barrierArg{B: b, Path: filepath.Join(dir, "1"), Timeout: 100 * time.Millisecond}))
	for _, p := range []*mp.Process{p0, p1} {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
	for _, r := range readParties(t, []string{filepath.Join(dir, "0"), filepath.Join(dir, "1")}) {
		if r[0][0] != -1.0 {
			t.Errorf("a party of a broken barrier got index %v", r[0][0])
		}
	}
	if !b.Broken() {
		t.Fatal("not broken after a timeout")
	}
	if _, err := b.Wait(context.Background()); !errors.Is(err, mp.ErrBroken) {
		t.Errorf("wait on a broken barrier: %v", err)
	}
	b.Reset()
	if b.Broken() {
		t.Fatal("broken after Reset")
	}
	// Abort breaks the waiters.
	p2 := start(t, mp.New(party, barrierArg{B: b, Path: filepath.Join(dir, "2")}))
	for b.NWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	b.Abort()
	join(t, p2)
	var r [][4]any
	readJSON(t, filepath.Join(dir, "2"), &r)
	if r[0][0] != -1.0 {
		t.Errorf("an aborted wait got index %v", r[0][0])
	}
	// Reset makes it usable again, here by goroutines.
	b.Reset()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []int
	for range 3 {
		wg.Go(func() {
			i, err := b.Wait(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("after reset: indices %v", got)
	}
}

func TestBarrierActionFails(t *testing.T) {
	b, _ := mp.NewBarrier(2, mp.BarrierAction(func() error { return errors.New("no") }))
	defer b.Close()
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := b.Wait(context.Background()); errs <- err }()
	}
	e1, e2 := <-errs, <-errs
	if errors.Is(e1, mp.ErrBroken) {
		e1, e2 = e2, e1
	}
	if e1 == nil || errors.Is(e1, mp.ErrBroken) || !errors.Is(e2, mp.ErrBroken) {
		t.Errorf("errors %v and %v: want the action's and ErrBroken", e1, e2)
	}
}

func TestHandlesOnlyTravelToChildren(t *testing.T) {
	l, _ := mp.NewLock()
	defer l.Close()
	if _, err := json.Marshal(l); err == nil {
		t.Error("a lock was encoded outside of Start")
	}
	var l2 mp.Lock
	if err := json.Unmarshal([]byte(`{"type":"lock","fd":0}`), &l2); err == nil {
		t.Error("a lock was decoded in a process that inherited none")
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func mappings(t *testing.T) int {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if strings.Contains(sc.Text(), "memfd:mp-") {
			n++
		}
	}
	return n
}

func TestCloseUnmaps(t *testing.T) {
	fds, maps := openFDs(t), mappings(t)
	l, _ := mp.NewLock()
	r, _ := mp.NewRLock()
	s, _ := mp.NewBoundedSemaphore(3)
	e, _ := mp.NewEvent()
	c, _ := mp.NewCondition(nil)
	b, _ := mp.NewBarrier(2)
	if got := mappings(t); got != maps+7 {
		t.Errorf("%d mappings for 7 primitives", got-maps)
	}
	for _, x := range []interface{ Close() error }{l, r, s, e, c, b} {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
		if err := x.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	}
	if got := openFDs(t); got != fds {
		t.Errorf("%d descriptors left open", got-fds)
	}
	if got := mappings(t); got != maps {
		t.Errorf("%d mappings left", got-maps)
	}
}
