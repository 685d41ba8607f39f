package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// Tasks and initializers of the pool tests. They run in the workers, which
// are this test binary executed again, so they are registered at package
// level.

var sq = mp.RegisterTask("test.sq", func(x int) (int, error) { return x * x, nil })

var failIfNegative = mp.RegisterTask("test.failIfNegative", func(x int) (int, error) {
	if x < 0 {
		return 0, fmt.Errorf("negative: %d", x)
	}
	return x, nil
})

var panicky = mp.RegisterTask("test.panicky", func(msg string) (struct{}, error) { panic(msg) })

// workerPid returns the pid of the worker that runs it.
var workerPid = mp.RegisterTask("test.workerPid", func(struct{}) (int, error) { return os.Getpid(), nil })

// die ends its worker from inside the task: "kill" with SIGKILL, "exit"
// with os.Exit(3).
var die = mp.RegisterTask("test.die", func(how string) (int, error) {
	if how == "kill" {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
	os.Exit(3)
	return 0, nil
})

// poolGate is the Event that the initializer poolInitGate hands to a
// worker; gated tasks wait for it.
var poolGate *mp.Event

var poolInitGate = mp.Register("test.poolInitGate", func(e *mp.Event) error {
	poolGate = e
	return nil
})

// gated returns x at once if x is 0, and otherwise once the gate is set
// (or -1 after a minute).
var gated = mp.RegisterTask("test.gated", gatedRun)

func gatedRun(x int) (int, error) {
	if x == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if poolGate.Wait(ctx) != nil {
		return -1, nil
	}
	return x, nil
}

// gatedUnlessPositive waits for the gate for x == 0 only.
var gatedZero = mp.RegisterTask("test.gatedZero", func(x int) (int, error) {
	if x == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		poolGate.Wait(ctx)
	}
	return x, nil
})

// announceThenWait writes its worker's pid to path, then waits for the
// gate.
var announceThenWait = mp.RegisterTask("test.announceThenWait", func(path string) (int, error) {
	if err := writeJSON(path, os.Getpid()); err != nil {
		return 0, err
	}
	return gatedRun(1)
})

// initRuns counts the initializer's runs in a worker.
var initRuns int

var poolInitCount = mp.Register("test.poolInitCount", func(struct{}) error {
	initRuns++
	return nil
})

type runInfo struct{ Pid, InitRuns int }

var whoRuns = mp.RegisterTask("test.whoRuns", func(struct{}) (runInfo, error) {
	return runInfo{os.Getpid(), initRuns}, nil
})

// newPool starts a pool that the test terminates at its end, whatever
// happened, and checks that every worker it ever saw has been reaped.
func newPool(t *testing.T, opts ...mp.PoolOption) *mp.Pool {
	t.Helper()
	p, err := mp.NewPool(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Terminate()
		for _, w := range p.Workers() {
			t.Errorf("worker %s still listed after Terminate", w.Name())
		}
	})
	return p
}

func gate(t *testing.T) *mp.Event {
	t.Helper()
	e, err := mp.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Set) // let gated tasks end whatever happens
	return e
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// closeJoin closes and joins the pool and checks that no worker is left.
func closeJoin(t *testing.T, p *mp.Pool) {
	t.Helper()
	workers := p.Workers()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(ctxFor(t)); err != nil {
		t.Fatalf("join: %v", err)
	}
	for _, w := range workers {
		if _, exited := w.ExitCode(); !exited {
			t.Errorf("worker %s (pid %d) not reaped after Join", w.Name(), w.Pid())
		}
	}
	if len(p.Workers()) != 0 {
		t.Errorf("workers left after Join: %v", p.Workers())
	}
}

func TestPoolApply(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	ctx := ctxFor(t)
	if got, err := mp.Apply(ctx, p, sq, 7); err != nil || got != 49 {
		t.Fatalf("Apply(sq, 7) = %d, %v", got, err)
	}
	var results []*mp.AsyncResult[int]
	for i := range 200 {
		r, err := mp.ApplyAsync(p, sq, i)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	for i, r := range results {
		if got, err := r.Get(ctx); err != nil || got != i*i {
			t.Fatalf("result %d = %d, %v", i, got, err)
		}
		if ok, err := r.Successful(); !ok || err != nil {
			t.Errorf("Successful() = %v, %v", ok, err)
		}
	}
	closeJoin(t, p)
}

func TestPoolDefaultSize(t *testing.T) {
	p := newPool(t)
	if p.Processes() != runtime.NumCPU() || len(p.Workers()) != p.Processes() {
		t.Errorf("default pool has %d processes and %d workers, want the CPU count %d",
			p.Processes(), len(p.Workers()), runtime.NumCPU())
	}
	for _, w := range p.Workers() {
		if !w.Daemon() {
			t.Errorf("worker %s is not daemonic", w.Name())
		}
	}
	closeJoin(t, p)
}

func TestPoolMapOrder(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	ctx := ctxFor(t)
	items := make([]int, 1000)
	for i := range items {
		items[i] = i
	}
	for _, opts := range [][]mp.MapOption{nil, {mp.Chunksize(1)}, {mp.Chunksize(7)}, {mp.Chunksize(5000)}} {
		got, err := mp.Map(ctx, p, sq, items, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(items) {
			t.Fatalf("%d results for %d items", len(got), len(items))
		}
		for i, v := range got {
			if v != i*i {
				t.Fatalf("result %d = %d, want %d", i, v, i*i)
			}
		}
	}
	if got, err := mp.Map(ctx, p, sq, nil); err != nil || len(got) != 0 {
		t.Errorf("Map of nothing = %v, %v", got, err)
	}
	if _, err := mp.Map(ctx, p, sq, items, mp.Chunksize(0)); !errors.Is(err, mp.ErrValue) {
		t.Errorf("chunksize 0: %v, want ErrValue", err)
	}
	closeJoin(t, p)
}

// TestPoolMapDefaultChunksize counts the jobs of a Map with one worker per
// job (MaxTasksPerChild 1): CPython's rule makes 100 items on 2 processes
// chunks of ceil(100/8) = 13, so 8 jobs.
func TestPoolMapDefaultChunksize(t *testing.T) {
	p := newPool(t, mp.Processes(2), mp.MaxTasksPerChild(1))
	items := make([]struct{}, 100)
	pids, err := mp.Map(ctxFor(t), p, workerPid, items)
	if err != nil {
		t.Fatal(err)
	}
	var distinct []int
	for i, pid := range pids {
		if i%13 != 0 && pid != pids[i-1] {
			t.Errorf("items %d and %d of one chunk ran in different workers", i-1, i)
		}
		if !slices.Contains(distinct, pid) {
			distinct = append(distinct, pid)
		}
	}
	if len(distinct) != 8 {
		t.Errorf("%d jobs, want 8", len(distinct))
	}
	closeJoin(t, p)
}

func TestPoolImapIsLazyAndOrdered(t *testing.T) {
	e := gate(t)
	p := newPool(t, mp.Processes(2), mp.Initializer(poolInitGate, e))
	items := []int{0, 1, 2, 3, 4, 5, 6, 7}
	seq, err := mp.Imap(ctxFor(t), p, gated, items)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			// Item 0 came while the others wait for the gate: Imap
			// yields before the whole map is done.
			if v != 0 {
				t.Fatalf("first item %d", v)
			}
			e.Set()
		}
		got = append(got, v)
	}
	if !slices.Equal(got, items) {
		t.Errorf("Imap yielded %v, want %v", got, items)
	}
	closeJoin(t, p)
}

func TestPoolImapUnordered(t *testing.T) {
	e := gate(t)
	p := newPool(t, mp.Processes(2), mp.Initializer(poolInitGate, e))
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	seq, err := mp.ImapUnordered(ctxFor(t), p, gatedZero, items)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		if len(got) == len(items)-1 {
			e.Set() // item 0 waits for it: it must come last
		}
	}
	if len(got) != len(items) || got[len(got)-1] != 0 {
		t.Errorf("ImapUnordered yielded %v, want item 0 last", got)
	}
	slices.Sort(got)
	if !slices.Equal(got, items) {
		t.Errorf("ImapUnordered yielded %v, want each of %v once", got, items)
	}
	closeJoin(t, p)
}

func TestPoolTaskErrors(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	ctx := ctxFor(t)
	_, err := mp.Apply(ctx, p, failIfNegative, -5)
	var te *mp.TaskError
	if !errors.Is(err, mp.ErrTaskError) || !errors.As(err, &te) || te.Message != "negative: -5" {
		t.Fatalf("Apply of a failing task: %v", err)
	}
	_, err = mp.Apply(ctx, p, panicky, "deliberate")
	if !errors.As(err, &te) || te.Message != "panic: deliberate" {
		t.Errorf("Apply of a panicking task: %v", err)
	}
	r, err := mp.ApplyAsync(p, failIfNegative, -1)
	if err != nil {
		t.Fatal(err)
	}
	r.Wait(ctx)
	if ok, err := r.Successful(); ok || err != nil {
		t.Errorf("Successful() of a failed task = %v, %v", ok, err)
	}
	// Map waits for every item and returns the first error in input order.
	items := []int{1, -2, 3, -4, 5}
	_, err = mp.Map(ctx, p, failIfNegative, items, mp.Chunksize(1))
	if !errors.As(err, &te) || te.Message != "negative: -2" {
		t.Errorf("Map with failing items: %v", err)
	}
	// The pool goes on after failures.
	if got, err := mp.Apply(ctx, p, sq, 3); got != 9 || err != nil {
		t.Errorf("Apply after failures = %d, %v", got, err)
	}
	closeJoin(t, p)
}

func TestPoolCallbacks(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	ctx := ctxFor(t)
	var gotValue int
	var gotErr error
	r, err := mp.ApplyAsync(p, sq, 6, mp.Callbacks[int]{OnResult: func(v int) { gotValue = v }})
	if err != nil {
		t.Fatal(err)
	}
	r.Get(ctx)
	if gotValue != 36 { // the callback ran before Get returned
		t.Errorf("callback got %d, want 36", gotValue)
	}
	r2, err := mp.ApplyAsync(p, failIfNegative, -1, mp.Callbacks[int]{
		OnResult: func(int) { t.Error("OnResult called for a failed task") },
		OnError:  func(err error) { gotErr = err }})
	if err != nil {
		t.Fatal(err)
	}
	r2.Wait(ctx)
	if !errors.Is(gotErr, mp.ErrTaskError) {
		t.Errorf("error callback got %v", gotErr)
	}
	var mapped []int
	m, err := mp.MapAsync(p, sq, []int{1, 2, 3}, nil, mp.Callbacks[[]int]{OnResult: func(v []int) { mapped = v }})
	if err != nil {
		t.Fatal(err)
	}
	m.Wait(ctx)
	if !slices.Equal(mapped, []int{1, 4, 9}) {
		t.Errorf("map callback got %v", mapped)
	}
	closeJoin(t, p)
}

func TestPoolGetTimeout(t *testing.T) {
	e := gate(t)
	p := newPool(t, mp.Processes(1), mp.Initializer(poolInitGate, e))
	r, err := mp.ApplyAsync(p, gated, 5)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get before the task ends: %v, want DeadlineExceeded", err)
	}
	if r.Ready() {
		t.Error("Ready() before the task ends")
	}
	if _, err := r.Successful(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("Successful() before ready: %v, want ErrValue", err)
	}
	e.Set()
	if got, err := r.Get(ctxFor(t)); got != 5 || err != nil {
		t.Errorf("Get = %d, %v", got, err)
	}
	if !r.Ready() {
		t.Error("not Ready() after Get")
	}
	closeJoin(t, p)
}

func TestPoolMisuse(t *testing.T) {
	for _, opts := range [][]mp.PoolOption{{mp.Processes(0)}, {mp.Processes(-1)}, {mp.MaxTasksPerChild(0)}} {
		if p, err := mp.NewPool(opts...); !errors.Is(err, mp.ErrValue) {
			t.Errorf("NewPool with a bad option: %v, want ErrValue", err)
			if p != nil {
				p.Terminate()
			}
		}
	}
	p := newPool(t, mp.Processes(1))
	if err := p.Join(ctxFor(t)); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("Join before Close: %v, want ErrNotAllowed", err)
	}
	closeJoin(t, p)
	if _, err := mp.ApplyAsync(p, sq, 1); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("ApplyAsync after Close: %v, want ErrNotAllowed", err)
	}
	if _, err := mp.Map(ctxFor(t), p, sq, []int{1}); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("Map after Close: %v, want ErrNotAllowed", err)
	}
	if err := p.Join(ctxFor(t)); err != nil {
		t.Errorf("second Join: %v", err)
	}
}

func TestPoolCloseLetsTasksFinish(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	var results []*mp.AsyncResult[int]
	for i := range 40 {
		r, err := mp.ApplyAsync(p, sq, i)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	closeJoin(t, p)
	for i, r := range results {
		if !r.Ready() {
			t.Fatalf("result %d not ready after Join", i)
		}
		if v, err := r.Get(ctxFor(t)); v != i*i || err != nil {
			t.Errorf("result %d = %d, %v", i, v, err)
		}
	}
}

func TestPoolTerminate(t *testing.T) {
	e := gate(t)
	p := newPool(t, mp.Processes(2), mp.Initializer(poolInitGate, e))
	workers := p.Workers()
	var results []*mp.AsyncResult[int]
	for i := 1; i <= 6; i++ {
		r, err := mp.ApplyAsync(p, gated, i)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	if err := p.Terminate(); err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if _, err := r.Get(ctxFor(t)); !errors.Is(err, mp.ErrClosed) {
			t.Errorf("result %d after Terminate: %v, want ErrClosed", i, err)
		}
	}
	for _, w := range workers {
		if _, exited := w.ExitCode(); !exited {
			t.Errorf("worker %s not reaped after Terminate", w.Name())
		}
	}
	if err := p.Join(ctxFor(t)); err != nil {
		t.Errorf("Join after Terminate: %v", err)
	}
	if _, err := mp.ApplyAsync(p, sq, 1); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("ApplyAsync after Terminate: %v, want ErrNotAllowed", err)
	}
}

// TestPoolWorkerLost kills workers in the middle of a task, with SIGKILL
// and with os.Exit: exactly that task fails with ErrWorkerLost, the others
// (queued behind it included) complete, and Join returns.
func TestPoolWorkerLost(t *testing.T) {
	for _, how := range []string{"kill", "exit"} {
		t.Run(how, func(t *testing.T) {
			p := newPool(t, mp.Processes(2))
			ctx := ctxFor(t)
			var before, after []*mp.AsyncResult[int]
			for i := range 20 {
				r, _ := mp.ApplyAsync(p, sq, i)
				before = append(before, r)
			}
			lost, err := mp.ApplyAsync(p, die, how)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				r, _ := mp.ApplyAsync(p, sq, i)
				after = append(after, r)
			}
			if _, err := lost.Get(ctx); !errors.Is(err, mp.ErrWorkerLost) {
				t.Errorf("the task that killed its worker: %v, want ErrWorkerLost", err)
			}
			for i, r := range append(before, after...) {
				if v, err := r.Get(ctx); err != nil || v != (i%20)*(i%20) {
					t.Errorf("task %d = %d, %v", i, v, err)
				}
			}
			// The pool still has its size and works.
			if v, err := mp.Apply(ctx, p, sq, 9); v != 81 || err != nil {
				t.Errorf("Apply after the loss = %d, %v", v, err)
			}
			// A replacement starts in the background.
			for deadline := time.Now().Add(20 * time.Second); len(p.Workers()) != 2 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			if n := len(p.Workers()); n != 2 {
				t.Errorf("%d workers after the loss, want 2", n)
			}
			closeJoin(t, p)
		})
	}
}

// TestLostTasksHangTerminates: under the LostTasksHang mutant knob a lost
// task's result never comes, as in CPython, but Terminate still ends the
// pool (CPython's terminate does not wait for results either).
func TestLostTasksHangTerminates(t *testing.T) {
	p := newPool(t, mp.Processes(1), mp.LostTasksHang())
	lost, err := mp.ApplyAsync(p, die, "kill")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := lost.Wait(short); err == nil {
		t.Fatalf("the lost task's result came: %v", lost)
	}
	done := make(chan struct{})
	go func() { p.Terminate(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Terminate did not return")
	}
	if _, err := lost.Get(ctxFor(t)); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("the lost task after Terminate: %v, want ErrClosed", err)
	}
}

// TestPoolWorkerKilledFromOutside kills a worker that runs a task blocked
// on the gate; a task queued behind it runs elsewhere.
func TestPoolWorkerKilledFromOutside(t *testing.T) {
	e := gate(t)
	p := newPool(t, mp.Processes(2), mp.Initializer(poolInitGate, e))
	ctx := ctxFor(t)
	path := filepath.Join(t.TempDir(), "pid")
	blocked, _ := mp.ApplyAsync(p, announceThenWait, path)
	waitFile(t, path)
	var pid int
	readJSON(t, path, &pid)
	syscall.Kill(pid, syscall.SIGKILL)
	if _, err := blocked.Get(ctx); !errors.Is(err, mp.ErrWorkerLost) {
		t.Errorf("the task of the killed worker: %v, want ErrWorkerLost", err)
	}
	results, err := mp.Map(ctx, p, sq, []int{1, 2, 3, 4}, mp.Chunksize(1))
	if err != nil || !slices.Equal(results, []int{1, 4, 9, 16}) {
		t.Errorf("Map after the kill = %v, %v", results, err)
	}
	closeJoin(t, p)
}

func TestPoolMaxTasksPerChild(t *testing.T) {
	p := newPool(t, mp.Processes(2), mp.MaxTasksPerChild(2), mp.Initializer(poolInitCount, struct{}{}))
	ctx := ctxFor(t)
	var results []*mp.AsyncResult[runInfo]
	for range 12 {
		r, err := mp.ApplyAsync(p, whoRuns, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	perPid := map[int]int{}
	for _, r := range results {
		info, err := r.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.InitRuns != 1 {
			t.Errorf("worker %d ran its initializer %d times", info.Pid, info.InitRuns)
		}
		perPid[info.Pid]++
	}
	if len(perPid) < 6 {
		t.Errorf("12 tasks ran in %d workers, want at least 6 with 2 tasks per child", len(perPid))
	}
	for pid, n := range perPid {
		if n > 2 {
			t.Errorf("worker %d ran %d tasks, more than MaxTasksPerChild", pid, n)
		}
	}
	closeJoin(t, p)
}

func TestPoolInitializerOncePerWorker(t *testing.T) {
	p := newPool(t, mp.Processes(2), mp.Initializer(poolInitCount, struct{}{}))
	infos, err := mp.Map(ctxFor(t), p, whoRuns, make([]struct{}, 40), mp.Chunksize(1))
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]bool{}
	for _, info := range infos {
		pids[info.Pid] = true
		if info.InitRuns != 1 {
			t.Errorf("worker %d ran its initializer %d times", info.Pid, info.InitRuns)
		}
	}
	if len(pids) > 2 {
		t.Errorf("%d workers in a pool of 2", len(pids))
	}
	closeJoin(t, p)
}

// TestPoolLargeItems sends arguments and results larger than a link's ring.
func TestPoolLargeItems(t *testing.T) {
	p := newPool(t, mp.Processes(2))
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i % 251)
	}
	got, err := mp.Map(ctxFor(t), p, echoBytes, [][]byte{big, big[:10], big}, mp.Chunksize(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !slices.Equal(got[0], big) || !slices.Equal(got[1], big[:10]) || !slices.Equal(got[2], big) {
		t.Errorf("large items came back wrong")
	}
	closeJoin(t, p)
}

var echoBytes = mp.RegisterTask("test.echoBytes", func(b []byte) ([]byte, error) { return b, nil })

// poolLeftOpen starts a pool, runs a task and returns without closing it:
// the child's Shutdown must end the workers and the child exit.
var poolLeftOpen = mp.Register("test.poolLeftOpen", func(struct{}) error {
	p, err := mp.NewPool(mp.Processes(2))
	if err != nil {
		return err
	}
	_, err = mp.Apply(context.Background(), p, sq, 3)
	return err
})

func TestPoolLeftOpenAtExit(t *testing.T) {
	for range 3 {
		p := start(t, mp.New(poolLeftOpen, struct{}{}))
		if code := join(t, p); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	}
}

// TestMillionTasksBoundedMemory queues a million tasks with Imap and takes the
// results as they come: the pool hands tasks out as workers take them, in
// chunks, instead of encoding a message per task up front, so the heap stays
// within 128 bytes a task, items and result slots included (a message per
// task would cost several times that).
func TestMillionTasksBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million tasks")
	}
	p, err := mp.NewPool(mp.Processes(2))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Terminate(); p.Join(context.Background()) }()
	// The live heap, collected before each reading, counted from what it
	// was before the items (earlier tests of the package may leave some).
	live := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base, peak := live(), uint64(0)
	items := make([]int, 1_000_000)
	for i := range items {
		items[i] = i
	}
	results, err := mp.Imap(context.Background(), p, sq, items, mp.Chunksize(1000))
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for r, err := range results {
		if err != nil || r != k*k {
			t.Fatalf("result %d: %d, %v", k, r, err)
		}
		if k%100_000 == 50_000 {
			if h := live(); h > base {
				peak = max(peak, h-base)
			}
		}
		k++
	}
	if k != len(items) {
		t.Fatalf("%d results for %d items", k, len(items))
	}
	t.Logf("peak live heap %d MB for %d tasks", peak>>20, k)
	if peak > 128*uint64(len(items)) {
		t.Errorf("the heap reached %d MB with a million tasks queued", peak>>20)
	}
}
