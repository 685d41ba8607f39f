package mp_test

import (
	"context"
	"encoding/binary"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// The workloads of these benchmarks are those of cpythonQueue and
// cpythonPipe below, so that `go test -bench 'Queue|Pipe' ./impl/mp` gives
// the reference and CPython side by side, in one run.

type queueBenchArg struct {
	Q    *mp.Queue
	Go   *mp.Event
	N    int
	Sink bool // get N instead of putting N
	Into bool // get with GetBytesInto, into one buffer
}

// queueWorker waits for Go, then puts N small ints (8 bytes each) on Q, or
// gets N.
var queueWorker = mp.Register("bench.queue", func(a queueBenchArg) error {
	ctx := context.Background()
	a.Go.Wait(ctx)
	var b [8]byte
	buf := make([]byte, 64)
	for k := range a.N {
		if a.Sink {
			var err error
			if a.Into {
				buf, err = a.Q.GetBytesInto(ctx, buf)
			} else {
				_, err = a.Q.GetBytes(ctx)
			}
			if err != nil {
				return err
			}
			continue
		}
		binary.LittleEndian.PutUint64(b[:], uint64(k))
		if err := a.Q.PutBytes(ctx, b[:]); err != nil {
			return err
		}
	}
	return nil
})

// benchQueue moves b.N small ints from producers to consumers through one
// queue, each in its own process; with one consumer, this process is it.
// With into, consumers get with GetBytesInto (no allocation) instead of
// GetBytes.
func benchQueue(b *testing.B, producers, consumers int, into bool) {
	q := newQueue(b, 0)
	ev, err := mp.NewEvent()
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	n := b.N / producers * producers
	n = n / consumers * consumers
	var ps []*mp.Process
	for range producers {
		ps = append(ps, mp.New(queueWorker, queueBenchArg{Q: q, Go: ev, N: n / producers}))
	}
	if consumers > 1 {
		for range consumers {
			ps = append(ps, mp.New(queueWorker, queueBenchArg{Q: q, Go: ev, N: n / consumers, Sink: true, Into: into}))
		}
	}
	for _, p := range ps {
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	ev.Set()
	if consumers == 1 {
		buf := make([]byte, 64)
		for range n {
			var err error
			if into {
				buf, err = q.GetBytesInto(ctx, buf)
			} else {
				_, err = q.GetBytes(ctx)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	} else {
		for _, p := range ps[producers:] {
			p.Join(ctx)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	for _, p := range ps {
		p.Join(ctx)
	}
}

func BenchmarkQueue(b *testing.B) {
	b.Run("1to1", func(b *testing.B) { benchQueue(b, 1, 1, false) })
	b.Run("2to2", func(b *testing.B) { benchQueue(b, 2, 2, false) })
	b.Run("1to1-into", func(b *testing.B) { benchQueue(b, 1, 1, true) })
}

// BenchmarkPipeRoundTrip sends a small message to a child that sends it
// back, b.N times.
func BenchmarkPipeRoundTrip(b *testing.B) {
	a, c := pipe(b, true)
	p := mp.New(echo, pipeArg{C: c})
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	c.Close()
	msg := []byte("ping")
	// One warm-up round trip: the child is running.
	a.SendBytes(context.Background(), msg)
	a.RecvBytes(context.Background())
	b.ResetTimer()
	for range b.N {
		if err := a.SendBytes(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
		if _, err := a.RecvBytes(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	a.Close()
	p.Join(context.Background())
}

// BenchmarkPipeStream sends 1 MiB messages to a child that receives them.
func BenchmarkPipeStream(b *testing.B) {
	r, w := pipe(b, false)
	p := mp.New(sinkConn, pipeArg{C: r})
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	r.Close()
	msg := make([]byte, 1<<20)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		if err := w.SendBytes(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	p.Join(context.Background())
}

// sinkConn receives until EOF.
var sinkConn = mp.Register("pipe.sink", func(a pipeArg) error {
	for {
		if _, err := a.C.RecvBytes(context.Background()); err != nil {
			return nil
		}
	}
})

// cpythonQueue moves n small ints through a multiprocessing.Queue from P
// producer processes to C consumers (with one consumer, the main process),
// and prints nanoseconds per message.
const cpythonQueue = `
import multiprocessing as mp, sys, time
def produce(q, go, n):
    go.wait()
    put = q.put
    for k in range(n): put(k)
def consume(q, go, n):
    go.wait()
    get = q.get
    for _ in range(n): get()
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    P, C, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    n = n // P * P; n = n // C * C
    q, go = ctx.Queue(), ctx.Event()
    ps = [ctx.Process(target=produce, args=(q, go, n // P)) for _ in range(P)]
    cs = [ctx.Process(target=consume, args=(q, go, n // C)) for _ in range(C)] if C > 1 else []
    for p in ps + cs: p.start()
    t0 = time.perf_counter_ns(); go.set()
    if C == 1:
        get = q.get
        for _ in range(n): get()
    else:
        for c in cs: c.join()
    t1 = time.perf_counter_ns()
    for p in ps: p.join()
    print((t1 - t0) / max(n, 1))
`

// cpythonPipe times n round trips of a small message with a child that
// echoes, over multiprocessing.Pipe, with send_bytes/recv_bytes.
const cpythonPipe = `
import multiprocessing as mp, sys, time
def echo(c, other):
    other.close()  # the parent's end, inherited by fork: EOF needs every copy closed
    recv, send = c.recv_bytes, c.send_bytes
    while True:
        try: send(recv())
        except EOFError: return
if __name__ == "__main__":
    ctx = mp.get_context("fork"); n = int(sys.argv[1])
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo, args=(b, a)); p.start(); b.close()
    send, recv = a.send_bytes, a.recv_bytes
    send(b"ping"); recv()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        send(b"ping"); recv()
    t1 = time.perf_counter_ns()
    a.close(); p.join()
    print((t1 - t0) / n)
`

// BenchmarkQueueCPython is BenchmarkQueue on CPython.
func BenchmarkQueueCPython(b *testing.B) {
	for _, c := range []struct{ name, p, c string }{{"1to1", "1", "1"}, {"2to2", "2", "2"}} {
		b.Run(c.name, func(b *testing.B) {
			ns := pythonAtLeast(b, 50000, cpythonQueue, c.p, c.c)
			b.ReportMetric(1e9/ns, "msgs/s")
		})
	}
}

// BenchmarkPipeRoundTripCPython is BenchmarkPipeRoundTrip on CPython.
func BenchmarkPipeRoundTripCPython(b *testing.B) { pythonAtLeast(b, 20000, cpythonPipe) }

// cpythonPipeStream times n 1 MiB messages sent with send_bytes to a child
// that receives them with recv_bytes, over a simplex multiprocessing.Pipe,
// until the child has received them all.
const cpythonPipeStream = `
import multiprocessing as mp, sys, time
def sink(r, w):
    w.close()
    recv = r.recv_bytes
    while True:
        try: recv()
        except EOFError: return
if __name__ == "__main__":
    ctx = mp.get_context("fork"); n = int(sys.argv[1])
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=sink, args=(r, w)); p.start(); r.close()
    msg = bytes(1 << 20); send = w.send_bytes
    t0 = time.perf_counter_ns()
    for _ in range(n): send(msg)
    w.close(); p.join()
    t1 = time.perf_counter_ns()
    print((t1 - t0) / n)
`

// BenchmarkPipeStreamCPython is BenchmarkPipeStream on CPython.
func BenchmarkPipeStreamCPython(b *testing.B) {
	ns := pythonAtLeast(b, 500, cpythonPipeStream)
	b.ReportMetric(float64(1<<20)/ns*1e3, "MB/s")
}

// pythonAtLeast is python for at least n ops, however small b.N: on a busy
// machine, starting python3 can take so long that b.N stays 1, and one op
// timed alone says little.
func pythonAtLeast(b *testing.B, n int, script string, args ...string) float64 {
	if _, err := exec.LookPath("python3"); err != nil {
		b.Skip("python3 not found")
	}
	args = append([]string{"-c", script}, append(args, strconv.Itoa(max(b.N, n)))...)
	out, err := exec.Command("python3", args...).Output()
	if err != nil {
		b.Fatalf("python3: %v", err)
	}
	ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("python3 printed %q", out)
	}
	b.ReportMetric(ns, "ns/op")
	return ns
}
