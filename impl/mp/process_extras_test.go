package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

func ExampleProcess_Close() {
	defer mp.Shutdown() // as main does
	p := mp.New(square, job{N: 3}, mp.Name("squarer"))
	p.Start()
	p.Join(context.Background())
	if err := p.Close(); err != nil {
		log.Fatal(err) // ErrValue while it still runs
	}
	err := p.Join(context.Background())
	fmt.Println(errors.Is(err, mp.ErrClosed))
	// Output:
	// squarer 9
	// true
}

func ExampleProcess_Sentinel() {
	defer mp.Shutdown()
	p := mp.New(sleeper, 50)
	p.Start()
	ended, err := p.Sentinel()
	if err != nil {
		log.Fatal(err)
	}
	select { // as connection.wait([p.sentinel], 10)
	case <-ended:
		fmt.Println("ended")
	case <-time.After(10 * time.Second):
		fmt.Println("still running")
	}
	// Output: ended
}

var slowCube = mp.RegisterTask("example.slowCube", func(n int) (int, error) {
	time.Sleep(time.Duration(n) * time.Second)
	return n * n * n, nil
})

func ExampleUsePool() {
	ctx := context.Background()
	var late *mp.AsyncResult[int]
	err := mp.UsePool(func(pool *mp.Pool) error {
		cubes, err := mp.Map(ctx, pool, cube, []int{1, 2, 3})
		fmt.Println(cubes)
		late, _ = mp.ApplyAsync(pool, slowCube, 60)
		return err
	}, mp.Processes(2))
	// Leaving UsePool terminated the pool: the 60 s task was stopped.
	_, lateErr := late.Get(ctx)
	fmt.Println(err, errors.Is(lateErr, mp.ErrClosed))
	// Output:
	// [1 8 27]
	// <nil> true
}

func TestCloseRunning(t *testing.T) {
	p := mp.New(sleeper, 60_000)
	if _, err := p.Sentinel(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("Sentinel before Start: %v, want ErrValue", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("Close of a running process: %v, want ErrValue", err)
	}
	if p.Closed() || !p.IsAlive() {
		t.Fatal("a refused Close changed the process")
	}
	p.Kill()
	p.Join(context.Background())
	for range 2 { // closing again does nothing
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for name, err := range map[string]error{
		"Start": p.Start(), "Join": p.Join(context.Background()), "Terminate": p.Terminate(), "Kill": p.Kill(),
	} {
		if !errors.Is(err, mp.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := p.Sentinel(); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Sentinel after Close: %v, want ErrClosed", err)
	}
	if unstarted := mp.New(noop, struct{}{}); unstarted.Close() != nil || !errors.Is(unstarted.Start(), mp.ErrClosed) {
		t.Error("a process closed before Start can still start")
	}
}

// reportParent starts a grandchild that reports its parent to path + ".g",
// then reports its own to path.
var reportParent = mp.Register("reportParent", func(path string) error {
	g := mp.New(reportParentLeaf, path+".g", mp.Name("grandchild"))
	if err := g.Start(); err != nil {
		return err
	}
	g.Join(context.Background())
	return writeParent(path)
})

var reportParentLeaf = mp.Register("reportParentLeaf", writeParent)

func writeParent(path string) error {
	info, ok := mp.ParentProcess()
	return writeJSON(path, []any{ok, info.Name, info.Pid, os.Getppid(), mp.CPUCount()})
}

func TestParentProcess(t *testing.T) {
	if _, ok := mp.ParentProcess(); ok {
		t.Error("main has a parent process")
	}
	path := filepath.Join(t.TempDir(), "parent")
	p := mp.New(reportParent, path, mp.Name("child"))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	p.Join(context.Background())
	var child, grandchild []any
	readJSON(t, path, &child)
	readJSON(t, path+".g", &grandchild)
	want := fmt.Sprint([]any{true, "MainProcess", os.Getpid(), os.Getpid(), mp.CPUCount()})
	if fmt.Sprint(child) != want {
		t.Errorf("child: %v, want %v", child, want)
	}
	if fmt.Sprint(grandchild[:2]) != fmt.Sprint([]any{true, "child"}) || grandchild[2] != grandchild[3] {
		t.Errorf("grandchild: %v, want its parent to be child", grandchild)
	}
}

func TestCPUCount(t *testing.T) {
	if n := mp.CPUCount(); n < 1 || n < runtime.NumCPU() {
		t.Errorf("CPUCount() = %d, below 1 or below the CPUs this process may use (%d)", n, runtime.NumCPU())
	}
}

func TestUseClosedPool(t *testing.T) {
	pool, err := mp.NewPool(mp.Processes(1))
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	ran := false
	if err := pool.Use(func(*mp.Pool) error { ran = true; return nil }); !errors.Is(err, mp.ErrNotAllowed) || ran {
		t.Errorf("Use of a closed pool: %v (ran: %v), want ErrNotAllowed", err, ran)
	}
	pool.Join(context.Background())
	if err := mp.UsePool(func(*mp.Pool) error { return nil }, mp.Processes(0)); !errors.Is(err, mp.ErrValue) {
		t.Errorf("UsePool(Processes(0)): %v, want ErrValue", err)
	}
}
