package mp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// mixedSizes cycles through sizes that take the mailbox (when it is free)
// and the socket (when it is not, or the message is larger than it).
// Several senders at once send only small messages: long ones may
// interleave on the socket, as in CPython.
var mixedSizes = [][]int{
	{0, 8, 100, 1000, 16 << 10, 16<<10 + 1, 70000, 8, 8, 8},
	{0, 8, 100, 1000, 8, 8},
}

type sendSeqArg struct {
	C     *mp.Conn
	ID    uint64
	N     int
	Seed  uint64
	Sizes []int
}

// sendSeq sends N messages of mixed sizes, each starting with its sender's
// ID and number, now and then pausing so that the receiver goes to sleep.
var sendSeq = mp.Register("pipe.sendseq", func(a sendSeqArg) error {
	rng := rand.New(rand.NewPCG(a.Seed, a.ID))
	for k := range a.N {
		msg := make([]byte, max(16, a.Sizes[k%len(a.Sizes)]))
		binary.LittleEndian.PutUint64(msg, a.ID)
		binary.LittleEndian.PutUint64(msg[8:], uint64(k))
		if err := a.C.SendBytes(context.Background(), msg); err != nil {
			return err
		}
		if rng.IntN(50) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
	}
	return a.C.Close()
})

// TestPipeOrderAcrossMailboxAndSocket: however its messages travel, each
// sender's arrive whole and in the order it sent them, with several senders
// at once on copies of one end, and a receiver that now spins, now sleeps,
// now polls; then the end of file, after every message.
func TestPipeOrderAcrossMailboxAndSocket(t *testing.T) {
	for senders, sizes := range mixedSizes {
		pipeOrder(t, senders+1, sizes)
	}
}

func pipeOrder(t *testing.T, senders int, sizes []int) {
	ctx := context.Background()
	r, w := pipe(t, true)
	const n = 3000
	var ps []*mp.Process
	for id := range senders {
		ps = append(ps, start(t, mp.New(sendSeq, sendSeqArg{C: w, ID: uint64(id), N: n, Seed: 1, Sizes: sizes})))
	}
	w.Close()
	next := make([]uint64, senders)
	rng := rand.New(rand.NewPCG(2, 2))
	for got := 0; got < senders*n; got++ {
		switch rng.IntN(20) {
		case 0:
			time.Sleep(200 * time.Microsecond)
		case 1:
			if err := r.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		msg, err := r.RecvBytes(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", got, err)
		}
		if len(msg) < 16 {
			t.Fatalf("message %d: %d bytes %q", got, len(msg), msg)
		}
		id, k := binary.LittleEndian.Uint64(msg), binary.LittleEndian.Uint64(msg[8:])
		if id >= uint64(senders) || k != next[id] {
			t.Fatalf("message %d of sender %d arrived when %v were next", k, id, next)
		}
		if want := max(16, sizes[k%uint64(len(sizes))]); len(msg) != want {
			t.Fatalf("message %d of sender %d: %d bytes, want %d", k, id, len(msg), want)
		}
		next[id]++
	}
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("a sender exited %d", code)
		}
	}
	if _, err := r.RecvBytes(ctx); !errors.Is(err, mp.ErrEOF) {
		t.Fatalf("after every message: %v, want EOF", err)
	}
}

// TestPipeLastMessageBeforeEOF: a small message sent just before the other
// end is closed is received, then the end of file, even by a receiver that
// only looks later; Poll says it is there.
func TestPipeLastMessageBeforeEOF(t *testing.T) {
	ctx := context.Background()
	for range 20 {
		a, b := pipe(t, true)
		if err := a.SendBytes(ctx, []byte("last")); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if err := b.Poll(ended()); err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if got, err := b.RecvBytes(ctx); err != nil || string(got) != "last" {
			t.Fatalf("RecvBytes = %q, %v", got, err)
		}
		if _, err := b.RecvBytes(ctx); !errors.Is(err, mp.ErrEOF) {
			t.Fatalf("then %v, want EOF", err)
		}
	}
}
