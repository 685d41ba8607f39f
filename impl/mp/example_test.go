package mp_test

import (
	"context"
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
