package mp_test

import (
	"context"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// The workloads of these benchmarks are the same as those of
// cpython_bench_test.go, so that `go test -bench 'Lock|Semaphore' ./impl/mp`
// gives the reference and CPython side by side, in one run.

// An acquirer is a Lock or a Semaphore.
type acquirer interface {
	Acquire(ctx context.Context) error
	Release() error
}

type idleArg struct {
	L    *mp.Lock
	S    *mp.Semaphore
	Done *mp.Event
}

// idle holds a handle to the primitive and waits for the end of the benchmark.
var idle = mp.Register("bench.idle", func(a idleArg) error {
	a.Done.Wait(context.Background())
	return nil
})

// uncontended runs b.N acquire+release pairs in this process while another
// process shares the primitive.
func uncontended(b *testing.B, x acquirer, arg idleArg) {
	done, err := mp.NewEvent()
	if err != nil {
		b.Fatal(err)
	}
	defer done.Close()
	arg.Done = done
	p := mp.New(idle, arg)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		x.Acquire(ctx)
		x.Release()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	done.Set()
	p.Join(ctx)
}

func BenchmarkLockUncontended(b *testing.B) {
	l, err := mp.NewLock()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	uncontended(b, l, idleArg{L: l})
}

type pongArg struct {
	LA, LB *mp.Lock
	SA, SB *mp.Semaphore
	N      int
}

// pong releases B to say it is ready, then N times acquires A and releases B.
var pong = mp.Register("bench.pong", func(a pongArg) error {
	var x, y acquirer = a.LA, a.LB
	if a.SA != nil {
		x, y = a.SA, a.SB
	}
	ctx := context.Background()
	y.Release()
	for range a.N {
		x.Acquire(ctx)
		y.Release()
	}
	return nil
})

// handoff times b.N round trips with a pong process: this process releases
// A, which the other acquires, then the other releases B, which this one
// acquires; two handoffs between processes per op. Both start taken.
func handoff(b *testing.B, x, y acquirer, arg pongArg) {
	arg.N = b.N
	p := mp.New(pong, arg)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	y.Acquire(ctx) // the other is ready
	b.ResetTimer()
	for range b.N {
		x.Release()
		y.Acquire(ctx)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/handoff")
	p.Join(ctx)
}

func BenchmarkLockHandoff(b *testing.B) {
	la, err := mp.NewLock()
	if err != nil {
		b.Fatal(err)
	}
	defer la.Close()
	lb, err := mp.NewLock()
	if err != nil {
		b.Fatal(err)
	}
	defer lb.Close()
	la.Acquire(context.Background())
	lb.Acquire(context.Background())
	handoff(b, la, lb, pongArg{LA: la, LB: lb})
}

func BenchmarkSemaphore(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		s, err := mp.NewSemaphore(1)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		uncontended(b, s, idleArg{S: s})
	})
	b.Run("handoff", func(b *testing.B) {
		sa, err := mp.NewSemaphore(0)
		if err != nil {
			b.Fatal(err)
		}
		defer sa.Close()
		sb, err := mp.NewSemaphore(0)
		if err != nil {
			b.Fatal(err)
		}
		defer sb.Close()
		handoff(b, sa, sb, pongArg{SA: sa, SB: sb})
	})
}
