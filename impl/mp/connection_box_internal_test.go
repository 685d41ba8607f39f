package mp

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"
)

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) uint32 {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
}

// TestBoxOfDeadProcess: a mailbox left half written or half read by a
// process that died is emptied by the next receive, which then waits on
// the socket as usual; the pipe carries messages through the mailbox again.
func TestBoxOfDeadProcess(t *testing.T) {
	for _, phase := range []uint32{boxWriting, boxReading} {
		a, b, err := Pipe(true)
		if err != nil {
			t.Fatal(err)
		}
		b.inBox.word.Store(phase | deadPid(t)<<boxPidBit)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = b.RecvBytes(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("phase %d: receive = %v, want the deadline", phase, err)
		}
		if w := b.inBox.word.Load(); w != boxEmpty {
			t.Fatalf("phase %d: the box is %#x, want empty", phase, w)
		}
		if err := a.SendBytes(context.Background(), []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if b.inBox.word.Load() != boxFull {
			t.Errorf("phase %d: the message did not take the mailbox", phase)
		}
		if got, err := b.RecvBytes(context.Background()); err != nil || string(got) != "hi" {
			t.Fatalf("phase %d: %q, %v", phase, got, err)
		}
		a.Close()
		b.Close()
	}
}
