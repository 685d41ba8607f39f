package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

type job struct{ N int }

// Targets are registered at package level, so that the child, which runs
// this binary again, has them before mp.Main dispatches it.
var square = mp.Register("example.square", func(j job) error {
	fmt.Println(mp.Current().Name, j.N*j.N)
	return nil
})

func Example() {
	// In a real main: mp.Main() first, then defer mp.Shutdown().
	p := mp.New(square, job{N: 7}, mp.Prefix("Square"))
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Join(ctx); err != nil {
		p.Kill() // still running: give up on it
		p.Join(context.Background())
	}
	code, _ := p.ExitCode()
	fmt.Println(code)
}

// Tasks, like targets, are registered at package level.
var cube = mp.RegisterTask("example.cube", func(n int) (int, error) { return n * n * n, nil })

func ExampleMap() {
	pool, err := mp.NewPool(mp.Processes(2))
	if err != nil {
		log.Fatal(err)
	}
	cubes, err := mp.Map(context.Background(), pool, cube, []int{1, 2, 3, 4})
	if err != nil {
		log.Fatal(err) // a *TaskError, or ErrWorkerLost if a worker died mid-task
	}
	fmt.Println(cubes)
	pool.Close()
	pool.Join(context.Background())
	// Output: [1 8 27 64]
}

var record = mp.Register("example.record", func(d *mp.DictProxy) error {
	return d.Set(mp.Current().Name, 1) // a request to the manager's server
})

func ExampleManager() {
	m, err := mp.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	d, _ := m.Dict(nil)
	p := mp.New(record, d, mp.Name("child")) // a proxy travels to the child
	p.Start()
	p.Join(context.Background())
	n, _ := d.Get("child")
	fmt.Println(n)
	// Output: 1
}

// Every call that can wait takes a context: its deadline is CPython's
// timeout, and a wait it ends wraps its error.
func ExampleQueue_Get() {
	q, err := mp.NewQueue(0)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	var v int
	err = q.Get(ctx, &v) // nothing comes
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, mp.ErrEmpty))
	// Output: true true
}
