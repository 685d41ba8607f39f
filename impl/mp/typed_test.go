package mp_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

type point struct{ X, Y int }

type typedArgs struct {
	Ints, Doubled mp.QueueOf[int]
	Points        mp.QueueOf[point]
	Conn          mp.ConnOf[string]
}

// typedEcho doubles the ints it gets, passes the points on, and answers the
// pipe, in a child: the typed handles travel in its argument.
var typedEcho = mp.Register("test.typedEcho", func(a typedArgs) error {
	ctx := context.Background()
	for range 3 {
		n, err := a.Ints.Get(ctx)
		if err != nil {
			return err
		}
		if err := a.Doubled.Put(ctx, -2*n); err != nil {
			return err
		}
	}
	p, err := a.Points.Get(ctx)
	if err != nil {
		return err
	}
	if err := a.Points.Put(ctx, point{p.Y, p.X}); err != nil {
		return err
	}
	s, err := a.Conn.Recv(ctx)
	if err != nil {
		return err
	}
	return a.Conn.Send(ctx, s+"!")
})

func TestTypedQueueAndPipe(t *testing.T) {
	ctx := context.Background()
	ints, err := mp.NewQueueOf[int](1)
	if err != nil {
		t.Fatal(err)
	}
	defer ints.Close()
	doubled, _ := mp.NewQueueOf[int](0)
	defer doubled.Close()
	points, _ := mp.NewQueueOf[point](0)
	defer points.Close()
	here, there, err := mp.PipeOf[string](true)
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	p := mp.New(typedEcho, typedArgs{ints, doubled, points, there})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	there.Close()
	for _, n := range []int{1, 2, 3} {
		ints.Put(ctx, n)
		if got, err := doubled.Get(ctx); err != nil || got != -2*n {
			t.Fatalf("for %d got %d, %v", n, got, err)
		}
	}
	points.Put(ctx, point{1, 2})
	here.Send(ctx, "你好")
	if got, err := here.Recv(ctx); err != nil || got != "你好!" {
		t.Errorf("pipe: %q, %v", got, err)
	}
	if got, err := points.Get(ctx); err != nil || got != (point{2, 1}) {
		t.Errorf("points: %v, %v", got, err)
	}
	p.Join(ctx)
	if _, err := ints.GetNowait(); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("GetNowait on an empty queue: %v", err)
	}
	if code, _ := p.ExitCode(); code != 0 {
		t.Errorf("child exit %d", code)
	}
}
