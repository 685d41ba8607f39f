package mp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

type queueArg struct {
	Q     *mp.Queue
	J     *mp.JoinableQueue
	From  int
	N     int
	Size  int // > 0: put Size-byte messages beginning with the index
	Reply *mp.Queue
}

// item is message k of a producer: 8 bytes of k, then filler up to size.
func item(k, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.LittleEndian.PutUint64(b, uint64(k))
	for i := 8; i < len(b); i++ {
		b[i] = byte(i % 251)
	}
	return b
}

// producer puts From..From+N-1 on Q (or J).
var producer = mp.Register("queue.producer", func(a queueArg) error {
	q := a.Q
	if a.J != nil {
		q = &a.J.Queue
	}
	ctx := context.Background()
	for k := a.From; k < a.From+a.N; k++ {
		if err := q.PutBytes(ctx, item(k, a.Size)); err != nil {
			return err
		}
	}
	return nil
})

// consumer gets N messages from Q and puts their indexes on Reply; with J,
// it gets from J and calls TaskDone after each.
var consumer = mp.Register("queue.consumer", func(a queueArg) error {
	ctx := context.Background()
	for range a.N {
		var b []byte
		var err error
		if a.J != nil {
			b, err = a.J.GetBytes(ctx)
			if err == nil {
				time.Sleep(time.Millisecond)
				err = a.J.TaskDone()
			}
		} else {
			b, err = a.Q.GetBytes(ctx)
		}
		if err != nil {
			return err
		}
		if a.Reply != nil {
			if err := a.Reply.Put(ctx, binary.LittleEndian.Uint64(b)); err != nil {
				return err
			}
		}
	}
	return nil
})

func newQueue(t testing.TB, maxsize int) *mp.Queue {
	t.Helper()
	q, err := mp.NewQueue(maxsize)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQueueFIFOAcrossProcesses(t *testing.T) {
	q := newQueue(t, 0)
	p := start(t, mp.New(producer, queueArg{Q: q, N: 10000}))
	ctx := context.Background()
	for k := range 10000 {
		b, err := q.GetBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint64(b); got != uint64(k) {
			t.Fatalf("item %d: got %d", k, got)
		}
	}
	if code := join(t, p); code != 0 {
		t.Fatalf("producer exited %d", code)
	}
	if !q.Empty() || q.Qsize() != 0 {
		t.Fatalf("not empty after draining: qsize %d", q.Qsize())
	}
}

func TestQueueBoundedNowait(t *testing.T) {
	q := newQueue(t, 3)
	for k := range 3 {
		if err := q.PutNowait(k); err != nil {
			t.Fatal(err)
		}
	}
	if !q.Full() || q.Qsize() != 3 {
		t.Fatalf("full %v qsize %d", q.Full(), q.Qsize())
	}
	if err := q.PutNowait(3); !errors.Is(err, mp.ErrFull) {
		t.Fatalf("put_nowait on a full queue: %v", err)
	}
	// t0 before the context: its deadline counts from its creation.
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Put(ctx, 3); !errors.Is(err, mp.ErrFull) {
		t.Fatalf("timed put on a full queue: %v", err)
	}
	if time.Since(t0) < 50*time.Millisecond {
		t.Fatal("timed put failed before its timeout")
	}
	for k := range 3 {
		var v int
		if err := q.GetNowait(&v); err != nil || v != k {
			t.Fatalf("get %d: %v %v", k, v, err)
		}
	}
	var v int
	if err := q.GetNowait(&v); !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("get_nowait on an empty queue: %v", err)
	}
	q.Close()
	if err := q.Put(context.Background(), 1); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
}

// TestQueuePutBlocksWhileFull: a put on a full queue returns only after a
// child has got an item.
func TestQueuePutBlocksWhileFull(t *testing.T) {
	q := newQueue(t, 2)
	reply := newQueue(t, 0)
	ctx := context.Background()
	q.PutBytes(ctx, item(0, 8))
	q.PutBytes(ctx, item(1, 8))
	p := mp.New(consumer, queueArg{Q: q, N: 3, Reply: reply})
	if err := q.PutBytesNowait(item(2, 8)); !errors.Is(err, mp.ErrFull) {
		t.Fatal(err)
	}
	start(t, p)
	if err := q.PutBytes(ctx, item(2, 8)); err != nil {
		t.Fatal(err)
	}
	var first uint64
	if err := reply.Get(ctx, &first); err != nil || first != 0 {
		t.Fatalf("first got: %d %v", first, err)
	}
	join(t, p)
}

func TestQueueManyProducersConsumers(t *testing.T) {
	const producers, consumers, per = 4, 4, 5000
	q := newQueue(t, 100)
	reply := newQueue(t, 0)
	var ps []*mp.Process
	for i := range producers {
		ps = append(ps, start(t, mp.New(producer, queueArg{Q: q, From: i * per, N: per, Size: 8 + 40*i})))
	}
	for range consumers {
		ps = append(ps, start(t, mp.New(consumer, queueArg{Q: q, N: producers * per / consumers, Reply: reply})))
	}
	seen := make([]bool, producers*per)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range producers * per {
		var k int
		if err := reply.Get(ctx, &k); err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Fatalf("item %d got twice", k)
		}
		seen[k] = true
	}
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
}

func TestQueueLargeMessages(t *testing.T) {
	q := newQueue(t, 0)
	for _, size := range []int{0, 1, 7, 4<<20 - 8, 4 << 20, 9<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			msg := bytes.Repeat([]byte{1, 2, 3, 5, 7, 11, 13}, size/7+1)[:size]
			done := make(chan error, 1)
			go func() { done <- q.PutBytes(context.Background(), msg) }()
			got, err := q.GetBytes(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sha256.Sum256(msg) {
				t.Fatalf("message of %d bytes came back as %d different bytes", size, len(got))
			}
		})
	}
}

func TestQueueLargeAcrossProcesses(t *testing.T) {
	q := newQueue(t, 0)
	const n, size = 8, 3<<20 + 5
	p := start(t, mp.New(producer, queueArg{Q: q, N: n, Size: size}))
	for k := range n {
		b, err := q.GetBytes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, item(k, size)) {
			t.Fatalf("message %d corrupted", k)
		}
	}
	join(t, p)
}

func TestJoinableQueue(t *testing.T) {
	q, err := mp.NewJoinableQueue(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, mp.ErrValue) {
		t.Fatalf("task_done on a fresh queue: %v", err)
	}
	ctx := context.Background()
	for k := range 20 {
		q.PutBytes(ctx, item(k, 8))
	}
	p := start(t, mp.New(consumer, queueArg{J: q, N: 20}))
	if q.Join(ctx) != nil {
		t.Fatal("join failed")
	}
	// Every task_done is done: the consumer has nothing left to do.
	if q.Qsize() != 0 {
		t.Fatalf("join returned with %d items left", q.Qsize())
	}
	join(t, p)
	if err := q.TaskDone(); !errors.Is(err, mp.ErrValue) {
		t.Fatalf("task_done too often: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	q.PutBytes(ctx, item(0, 8))
	if err := q.Join(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("join with a task not done: %v", err)
	}
}

func TestSimpleQueue(t *testing.T) {
	q, err := mp.NewSimpleQueue()
	if err != nil {
		t.Fatal(err)
	}
	if !q.Empty() {
		t.Fatal("new queue not empty")
	}
	ctx := context.Background()
	if err := q.Put(ctx, "爸爸你好!"); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := q.Get(ctx, &s); err != nil || s != "爸爸你好!" {
		t.Fatalf("%q %v", s, err)
	}
}

// TestQueueKilledWaiter: a getter and a putter killed while they wait
// leave the queue working for the others.
func TestQueueKilledWaiter(t *testing.T) {
	q := newQueue(t, 1)
	ctx := context.Background()
	g := start(t, mp.New(consumer, queueArg{Q: q, N: 1}))
	time.Sleep(50 * time.Millisecond) // let it wait (the test holds either way)
	g.Kill()
	join(t, g)
	q.PutBytes(ctx, item(1, 8))
	p := start(t, mp.New(producer, queueArg{Q: q, From: 2, N: 1}))
	time.Sleep(50 * time.Millisecond)
	p.Kill()
	join(t, p)
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := q.GetBytes(short)
	if err != nil || binary.LittleEndian.Uint64(b) != 1 {
		t.Fatalf("after the kills: %v %v", b, err)
	}
	if err := q.PutBytes(short, item(3, 8)); err != nil {
		t.Fatal(err)
	}
}
