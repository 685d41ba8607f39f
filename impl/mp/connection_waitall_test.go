package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

func TestWaitReturnsTheReadyOnes(t *testing.T) {
	a0, a1 := pipe(t, true)
	b0, b1 := pipe(t, true)
	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if got, err := mp.Wait(short, a0, b0); !errors.Is(err, context.DeadlineExceeded) || len(got) != 0 {
		t.Fatalf("nothing sent: %v, %v", got, err)
	}
	if err := b1.SendBytes(ctx, []byte("x")); err != nil { // fits the mailbox
		t.Fatal(err)
	}
	got, err := mp.Wait(ctx, a0, b0)
	if err != nil || len(got) != 1 || got[0] != b0 {
		t.Fatalf("after a send on b: %v, %v", got, err)
	}
	if err := a1.SendBytes(ctx, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if got, err := mp.Wait(ctx, a0, b0); err != nil || len(got) != 2 || got[0] != a0 {
		t.Fatalf("both sent: %v, %v", got, err)
	}
	if m, err := b0.RecvBytes(ctx); err != nil || string(m) != "x" {
		t.Fatalf("Wait took the message: %q, %v", m, err)
	}
}

// waitThenSend sleeps, then sends one small message.
var waitThenSend = mp.Register("wait.thenSend", func(a pipeArg) error {
	time.Sleep(time.Duration(a.N) * time.Millisecond)
	return a.C.SendBytes(context.Background(), []byte("late"))
})

func TestWaitWakesOnASendAndAnExit(t *testing.T) {
	parent, child := pipe(t, true)
	p := start(t, mp.New(waitThenSend, pipeArg{C: child, N: 50}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The child sends while Wait sleeps: the message must wake it, mailbox
	// or not.
	got, err := mp.Wait(ctx, parent)
	if err != nil || len(got) != 1 {
		t.Fatalf("Wait for the child's message: %v, %v", got, err)
	}
	if m, err := parent.RecvBytes(ctx); err != nil || string(m) != "late" {
		t.Fatalf("recv: %q, %v", m, err)
	}
	got, err = mp.Wait(ctx, p, parent)
	if err != nil || len(got) == 0 {
		t.Fatalf("Wait for the child's exit: %v, %v", got, err)
	}
	if got[0] != mp.Waitable(p) && got[0] != mp.Waitable(parent) {
		t.Fatalf("Wait returned %v", got)
	}
	join(t, p)
	if got, err := mp.Wait(ctx, p); err != nil || len(got) != 1 {
		t.Fatalf("an exited process: %v, %v", got, err)
	}
}

func TestWaitRefusesWhatCannotBeWaitedOn(t *testing.T) {
	r, w := pipe(t, false)
	ctx := context.Background()
	if _, err := mp.Wait(ctx, w); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("a write-only end: %v", err)
	}
	r.Close()
	if _, err := mp.Wait(ctx, r); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("a closed end: %v", err)
	}
	if _, err := mp.Wait(ctx, mp.New(noop, struct{}{})); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("a process not started: %v", err)
	}
}
