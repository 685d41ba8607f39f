package interp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNowIsClockMonotonic(t *testing.T) {
	var a, b unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &a)
	n := now()
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &b)
	if n < a.Nano() || n > b.Nano() {
		t.Errorf("now() = %d, not within the CLOCK_MONOTONIC readings %d..%d", n, a.Nano(), b.Nano())
	}
}

func TestTracerHold(t *testing.T) {
	dir := t.TempDir()
	tr, err := openTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.f.Close()
	lines := func() []string {
		data, err := os.ReadFile(filepath.Join(dir, filepath.Base(tr.f.Name())))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	}
	tr.write(record{op: "a", step: "main/0"})
	tr.hold(true)
	tr.write(record{op: "b", step: "main/1", in: map[string]any{"x": int64(1)}, err: errors.New("boom")})
	tr.write(record{op: "c", step: "main/2", pending: true})
	if got := lines(); len(got) != 1 {
		t.Fatalf("held records written: %q", got)
	}
	if err := tr.hold(false); err != nil {
		t.Fatal(err)
	}
	got := lines()
	want := []string{`"seq":0,"op":"a","step":"main/0","in":{},"t0":0,"t1":0,"ok":true,"value":null}`,
		`"seq":1,"op":"b","step":"main/1","in":{"x":1},"t0":0,"t1":0,"ok":false,"error":{"kind":"Error","message":"boom"}}`,
		`"seq":2,"op":"c","step":"main/2","in":{},"t0":0,"pending":true}`}
	if len(got) != len(want) {
		t.Fatalf("records %q, want %d", got, len(want))
	}
	for i, line := range got {
		if !strings.HasPrefix(line, string(tr.head)) || !strings.HasSuffix(line, want[i]) {
			t.Errorf("record %d: %s, want %s...%s", i, line, tr.head, want[i])
		}
	}
	// Held records are written once they fill heldMax.
	tr.hold(true)
	for len(lines()) == len(want) {
		tr.write(record{op: "d", step: strings.Repeat("s", 1000)})
		if tr.seq > heldMax/1000+10 {
			t.Fatalf("%d held records, none written", tr.seq)
		}
	}
}

func TestNextWriteCrossesOneChunkInItsLastRecord(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n" // 100 bytes
	held := []byte(strings.Repeat(line, 100))
	for _, off := range []int64{0, 1, 50, 96, 4000, 4095, 4096, 8191, 12345} {
		written := off
		for b := held; len(b) > 0; {
			n := nextWrite(b, written)
			if n <= 0 || n > len(b) || b[n-1] != '\n' {
				t.Fatalf("off %d: a write of %d bytes of %d that ends no record", off, n, len(b))
			}
			// Where the chunk boundaries inside the write fall: only the
			// first may, and only inside the write's last record (or at its start).
			first := (written/traceChunk + 1) * traceChunk
			if end := written + int64(n); first < end && (first+traceChunk < end || first < end-int64(len(line))) {
				t.Fatalf("off %d: the write %d..%d crosses a chunk boundary before its last record", off, written, end)
			}
			written += int64(n)
			b = b[n:]
		}
	}
	if n := nextWrite([]byte("short\n"), 4094); n != 6 {
		t.Errorf("one record crossing a boundary: a write of %d bytes, want all 6", n)
	}
}
