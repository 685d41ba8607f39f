package mp_test

import (
	"bytes"
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
	for k := 0; a.N == 0 || k < a.N; k++ {
		b, err := a.C.RecvBytes()
		if errors.Is(err, mp.ErrEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.C.SendBytes(b); err != nil {
			return err
		}
	}
	return nil
})

// greet sends the tutorial's greeting and closes its end.
var greet = mp.Register("pipe.greet", func(a pipeArg) error {
	if err := a.C.Send("爸爸你好!"); err != nil {
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
	parent, child := pipe(t, true)
	p := start(t, mp.New(greet, pipeArg{C: child}))
	child.Close() // the child holds the only other copy now
	var s string
	if err := parent.Recv(&s); err != nil || s != "爸爸你好!" {
		t.Fatalf("%q %v", s, err)
	}
	join(t, p)
	if _, err := parent.RecvBytes(); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("recv after every writer closed: %v", err)
	}
}

func TestPipeEOFNeedsEveryCopyClosed(t *testing.T) {
	a, b := pipe(t, true)
	// b is still open in this process: no EOF, nothing to poll.
	if ok, err := a.Poll(20 * time.Millisecond); ok || err != nil {
		t.Fatalf("poll with nothing sent: %v %v", ok, err)
	}
	b.SendBytes(nil) // an empty message is a message
	b.SendBytes([]byte("x"))
	b.Close()
	if ok, _ := a.Poll(0); !ok {
		t.Fatal("poll false with a message waiting")
	}
	for _, want := range []string{"", "x"} {
		got, err := a.RecvBytes()
		if err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := a.RecvBytes(); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if err := b.SendBytes(nil); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("send on a closed end: %v", err)
	}
}

func TestPipeSimplexDirection(t *testing.T) {
	r, w := pipe(t, false)
	if err := r.SendBytes([]byte("x")); !errors.Is(err, mp.ErrNotAllowed) {
		t.Fatalf("send on the receive end: %v", err)
	}
	if _, err := w.RecvBytes(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Fatalf("recv on the send end: %v", err)
	}
	if err := w.Send(map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := r.Recv(&m); err != nil || m["a"] != 1 {
		t.Fatalf("%v %v", m, err)
	}
	w.SendBytes(make([]byte, 100))
	if _, err := r.RecvBytesMax(10); !errors.Is(err, mp.ErrValue) {
		t.Fatalf("a message over maxlength: %v", err)
	}
}

func TestPipeLargeMessagesAcrossProcesses(t *testing.T) {
	sizes := []int{0, 1, 65536, 1 << 20, 256 << 20}
	if testing.Short() {
		sizes = sizes[:4]
	}
	a, b := pipe(t, true)
	p := start(t, mp.New(echo, pipeArg{C: b, N: len(sizes)}))
	for _, size := range sizes {
		msg := bytes.Repeat([]byte{1, 2, 3, 5, 7, 11, 13}, size/7+1)[:size]
		done := make(chan error, 1)
		go func() { done <- a.SendBytes(msg) }()
		got, err := a.RecvBytes()
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
	r, w := pipe(t, false)
	const n = 100000
	go func() {
		for k := range n {
			w.Send(k)
		}
		w.Close()
	}()
	for k := range n {
		var v int
		if err := r.Recv(&v); err != nil || v != k {
			t.Fatalf("message %d: %d %v", k, v, err)
		}
	}
	if _, err := r.RecvBytes(); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

// TestRecvBytesInto: a message that fits is received in the buffer's
// memory, one that does not in new memory; messages stay whole either way.
func TestRecvBytesInto(t *testing.T) {
	a, b := pipe(t, true)
	buf := make([]byte, 0, 8)
	for _, msg := range []string{"abc", "", "12345678", "longer than eight"} {
		if err := a.SendBytes([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got, err := b.RecvBytesInto(buf)
		if err != nil || string(got) != msg {
			t.Fatalf("RecvBytesInto = %q, %v, want %q", got, err, msg)
		}
		if inBuf := len(got) > 0 && &got[0] == &buf[:1][0]; inBuf != (len(msg) > 0 && len(msg) <= cap(buf)) {
			t.Errorf("%q received in the buffer: %v", msg, inBuf)
		}
	}
}
