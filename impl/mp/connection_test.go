package mp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

type pipeArg struct {
	C     *mp.Conn
	N     int
	Close bool // close C before returning
}

// echo receives messages on C and sends each back, until EOF; N > 0 stops
// after N.
var echo = mp.Register("pipe.echo", func(a pipeArg) error {
	ctx := context.Background()
	for k := 0; a.N == 0 || k < a.N; k++ {
		b, err := a.C.RecvBytes(ctx)
		if errors.Is(err, mp.ErrEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.C.SendBytes(ctx, b); err != nil {
			return err
		}
	}
	return nil
})

// greet sends the tutorial's greeting and closes its end.
var greet = mp.Register("pipe.greet", func(a pipeArg) error {
	if err := a.C.Send(context.Background(), "爸爸你好!"); err != nil {
		return err
	}
	return a.C.Close()
})

func pipe(t testing.TB, duplex bool) (*mp.Conn, *mp.Conn) {
	t.Helper()
	a, b, err := mp.Pipe(duplex)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestPipeDialogue(t *testing.T) {
	ctx := context.Background()
	parent, child := pipe(t, true)
	p := start(t, mp.New(greet, pipeArg{C: child}))
	child.Close() // the child holds the only other copy now
	var s string
	if err := parent.Recv(ctx, &s); err != nil || s != "爸爸你好!" {
		t.Fatalf("%q %v", s, err)
	}
	join(t, p)
	if _, err := parent.RecvBytes(ctx); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("recv after every writer closed: %v", err)
	}
}

func TestPipeEOFNeedsEveryCopyClosed(t *testing.T) {
	ctx := context.Background()
	a, b := pipe(t, true)
	// b is still open in this process: no EOF, nothing to poll.
	if err := a.Poll(ctxTimeout(20 * time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("poll with nothing sent: %v", err)
	}
	b.SendBytes(ctx, nil) // an empty message is a message
	b.SendBytes(ctx, []byte("x"))
	b.Close()
	if err := a.Poll(ended()); err != nil {
		t.Fatalf("poll with a message waiting: %v", err)
	}
	for _, want := range []string{"", "x"} {
		got, err := a.RecvBytes(ctx)
		if err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := a.RecvBytes(ctx); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if err := b.SendBytes(ctx, nil); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("send on a closed end: %v", err)
	}
}

// A send once every copy of the other end is closed fails with ErrClosed,
// as CPython's BrokenPipeError, whatever the message's size: the mailbox
// of a duplex pipe would otherwise take a small one, for nobody.
func TestSendToClosedEnd(t *testing.T) {
	ctx := context.Background()
	for _, duplex := range []bool{true, false} {
		r, w := pipe(t, duplex)
		r.Close()
		for _, n := range []int{1, 1 << 20} {
			if err := w.SendBytes(ctx, make([]byte, n)); !errors.Is(err, mp.ErrClosed) {
				t.Errorf("duplex %v: a send of %d bytes to a closed end: %v", duplex, n, err)
			}
		}
	}
}

func TestPipeSimplexDirection(t *testing.T) {
	ctx := context.Background()
	r, w := pipe(t, false)
	if err := r.SendBytes(ctx, []byte("x")); !errors.Is(err, mp.ErrNotAllowed) {
		t.Fatalf("send on the receive end: %v", err)
	}
	if _, err := w.RecvBytes(ctx); !errors.Is(err, mp.ErrNotAllowed) {
		t.Fatalf("recv on the send end: %v", err)
	}
	if err := w.Send(ctx, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := r.Recv(ctx, &m); err != nil || m["a"] != 1 {
		t.Fatalf("%v %v", m, err)
	}
	w.SendBytes(ctx, make([]byte, 100))
	if _, err := r.RecvBytesMax(ctx, 10); !errors.Is(err, mp.ErrValue) {
		t.Fatalf("a message over maxlength: %v", err)
	}
}

func TestPipeLargeMessagesAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	sizes := []int{0, 1, 65536, 1 << 20, 256 << 20}
	if testing.Short() {
		sizes = sizes[:4]
	}
	a, b := pipe(t, true)
	p := start(t, mp.New(echo, pipeArg{C: b, N: len(sizes)}))
	for _, size := range sizes {
		msg := bytes.Repeat([]byte{1, 2, 3, 5, 7, 11, 13}, size/7+1)[:size]
		done := make(chan error, 1)
		go func() { done <- a.SendBytes(ctx, msg) }()
		got, err := a.RecvBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != sha256.Sum256(msg) {
			t.Fatalf("%d bytes came back as %d different ones", size, len(got))
		}
	}
	join(t, p)
}

func TestPipeManySmallInOrder(t *testing.T) {
	ctx := context.Background()
	r, w := pipe(t, false)
	const n = 100000
	go func() {
		for k := range n {
			w.Send(ctx, k)
		}
		w.Close()
	}()
	for k := range n {
		var v int
		if err := r.Recv(ctx, &v); err != nil || v != k {
			t.Fatalf("message %d: %d %v", k, v, err)
		}
	}
	if _, err := r.RecvBytes(ctx); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

// TestRecvBytesInto: a message that fits is received in the buffer's
// memory, one that does not in new memory; messages stay whole either way.
func TestRecvBytesInto(t *testing.T) {
	ctx := context.Background()
	a, b := pipe(t, true)
	buf := make([]byte, 0, 8)
	for _, msg := range []string{"abc", "", "12345678", "longer than eight"} {
		if err := a.SendBytes(ctx, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		got, err := b.RecvBytesInto(ctx, buf)
		if err != nil || string(got) != msg {
			t.Fatalf("RecvBytesInto = %q, %v, want %q", got, err, msg)
		}
		if inBuf := len(got) > 0 && &got[0] == &buf[:1][0]; inBuf != (len(msg) > 0 && len(msg) <= cap(buf)) {
			t.Errorf("%q received in the buffer: %v", msg, inBuf)
		}
	}
}

// ended returns a context that is already canceled: a wait under it only
// looks.
func ended() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestConnContext: a receive, a send and a poll under a context wait until
// it ends, then fail with its error, for both kinds of pipe; a context
// already done makes them only look; a message sent after a receive gave up
// is received whole by the next one.
func TestConnContext(t *testing.T) {
	for _, duplex := range []bool{true, false} {
		r, w := pipe(t, duplex)
		if duplex {
			r, w = w, r // either end of a duplex pipe receives
		}
		if _, err := r.RecvBytes(ctxTimeout(20 * time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("duplex %v: recv with nothing sent: %v", duplex, err)
		}
		if _, err := r.RecvBytes(ended()); !errors.Is(err, context.Canceled) {
			t.Fatalf("duplex %v: recv under a done context: %v", duplex, err)
		}
		if err := r.Poll(ended()); !errors.Is(err, context.Canceled) {
			t.Fatalf("duplex %v: poll under a done context: %v", duplex, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		if err := r.Poll(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("duplex %v: poll canceled: %v", duplex, err)
		}
		msg := bytes.Repeat([]byte("m"), 100)
		if err := w.SendBytes(ended(), msg); err != nil {
			t.Fatalf("duplex %v: a send with room under a done context: %v", duplex, err)
		}
		if err := r.Poll(ended()); err != nil {
			t.Fatalf("duplex %v: poll with a message waiting: %v", duplex, err)
		}
		if got, err := r.RecvBytes(ended()); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("duplex %v: recv of a message waiting, under a done context: %d bytes, %v", duplex, len(got), err)
		}
		// Fill the pipe until a send finds no room.
		n := 0
		for ; ; n++ {
			err := w.SendBytes(ended(), msg)
			if errors.Is(err, context.Canceled) {
				break
			}
			if err != nil {
				t.Fatalf("duplex %v: send %d: %v", duplex, n, err)
			}
		}
		if err := w.SendBytes(ctxTimeout(20*time.Millisecond), msg); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("duplex %v: send on a full pipe: %v", duplex, err)
		}
		// A send that waits for room goes once a receive makes some.
		done := make(chan error, 1)
		go func() { done <- w.SendBytes(ctxTimeout(10*time.Second), []byte("last")) }()
		for k := range n {
			if got, err := r.RecvBytes(ctxTimeout(10 * time.Second)); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("duplex %v: message %d: %d bytes, %v", duplex, k, len(got), err)
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("duplex %v: send that waited for room: %v", duplex, err)
		}
		if got, err := r.RecvBytes(context.Background()); err != nil || string(got) != "last" {
			t.Fatalf("duplex %v: the last message: %q, %v", duplex, got, err)
		}
	}
}

// TestConnContextMessageBegun: a message longer than the pipe's buffer,
// whose send has begun, is sent whole even though its context ends before
// the receiver takes the rest.
func TestConnContextMessageBegun(t *testing.T) {
	for _, duplex := range []bool{true, false} {
		r, w := pipe(t, duplex)
		msg := bytes.Repeat([]byte{1, 2, 3}, 4<<20)
		done := make(chan error, 1)
		go func() { done <- w.SendBytes(ctxTimeout(20*time.Millisecond), msg) }()
		time.Sleep(100 * time.Millisecond)
		got, err := r.RecvBytes(context.Background())
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("duplex %v: %d bytes of %d, %v", duplex, len(got), len(msg), err)
		}
		if err := <-done; err != nil {
			t.Fatalf("duplex %v: the send: %v", duplex, err)
		}
	}
}
