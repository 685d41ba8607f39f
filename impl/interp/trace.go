package interp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	_ "unsafe" // for go:linkname

	"github.com/mpconform/mpconform/impl/mp"
)

// A tracer appends this process's records to DIR/<pid>.jsonl (protocol.md §7).
// Each record is one write(2) on an O_APPEND file, unbuffered, so a process
// killed at any point has lost nothing it recorded; but while it is held
// (hold), whole records gather for one write, for the pool tasks whose
// records nothing outside the worker can see before their job's results
// (heldProgram).
type tracer struct {
	mu   sync.Mutex
	f    *os.File
	head []byte // `{"pid":..,"ppid":..,"proc":`.., shared by every record
	seq  int64
	buf  []byte // records not written yet, while held
	held bool
	off  int64 // the file's size: this process alone writes it
}

// heldMax is how much a held tracer gathers before it writes anyway.
const heldMax = 32 << 10

func openTrace(dir string) (*tracer, error) {
	pid := os.Getpid()
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(pid)+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	head := fmt.Appendf(nil, `{"pid":%d,"ppid":%d,"proc":`, pid, driver.Getppid())
	head = append(appendString(head, mp.Current().Name), ',')
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &tracer{f: f, head: head, off: st.Size()}, nil
}

// nanotime is the runtime's CLOCK_MONOTONIC, read through the vDSO:
// unix.ClockGettime is a system call, which cost a pool task a tenth of
// its time for its four readings.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// now reads CLOCK_MONOTONIC, the clock every process of a run shares.
func now() int64 { return nanotime() }

// A record is one trace line. A pending record has no t1, ok, value or error.
type record struct {
	op, step string
	in       map[string]any
	t0, t1   int64
	pending  bool
	value    any
	err      error
}

func (t *tracer) write(r record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := append(t.buf, t.head...)
	b = append(b, `"seq":`...)
	b = strconv.AppendInt(b, t.seq, 10)
	b = append(b, `,"op":`...)
	b = appendString(b, r.op)
	b = append(b, `,"step":`...)
	b = appendString(b, r.step)
	b = append(b, `,"in":`...)
	if r.in == nil {
		b = append(b, "{}"...)
	} else {
		b = appendValue(b, r.in, true)
	}
	b = append(b, `,"t0":`...)
	b = strconv.AppendInt(b, r.t0, 10)
	switch {
	case r.pending:
		b = append(b, `,"pending":true`...)
	case r.err == nil:
		b = append(b, `,"t1":`...)
		b = strconv.AppendInt(b, r.t1, 10)
		b = append(b, `,"ok":true,"value":`...)
		b = appendValue(b, r.value, true)
	default:
		b = append(b, `,"t1":`...)
		b = strconv.AppendInt(b, r.t1, 10)
		b = append(b, `,"ok":false,"error":{"kind":`...)
		b = appendString(b, errorKind(r.err))
		b = append(b, `,"message":`...)
		b = append(appendString(b, r.err.Error()), '}')
	}
	b = append(b, "}\n"...)
	t.seq++
	if driver.TraceLine != nil {
		// The hook sees the new line alone, in memory of its own (it may
		// keep it: the buffer is reused).
		line := driver.TraceLine(bytes.Clone(b[len(t.buf):]))
		b = append(b[:len(t.buf)], line...)
	}
	t.buf = b
	if t.held && len(b) < heldMax {
		return nil
	}
	return t.flushLocked()
}

// hold(true) makes the records that follow gather (up to heldMax);
// hold(false) writes them, in one write(2), and those that follow as they
// come.
func (t *tracer) hold(on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.held = on
	if on {
		return nil
	}
	return t.flushLocked()
}

func (t *tracer) flushLocked() error {
	var err error
	for b := t.buf; len(b) > 0 && err == nil; {
		var n int
		n, err = t.f.Write(b[:nextWrite(b, t.off)])
		t.off += int64(n)
		b = b[n:]
	}
	if cap(t.buf) > 4*heldMax {
		t.buf = nil // a huge record (a long list's value) is not kept
	} else {
		t.buf = t.buf[:0]
	}
	return err
}

// traceChunk is the unit in which the kernel copies a write(2) into a
// file, a page or more, and between which a SIGKILL can cut it short.
const traceChunk = 4096

// nextWrite returns how much of b, whole records written at file offset
// off, to write in one write(2): up to the end of the record that crosses
// the next chunk boundary. A worker killed in the middle of writing held
// records then loses at worst the end of one record, as one written alone
// could, and never cuts a record that follows whole ones.
func nextWrite(b []byte, off int64) int {
	next := traceChunk - int(off%traceChunk)
	if len(b) <= next {
		return len(b)
	}
	if i := bytes.IndexByte(b[next:], '\n'); i >= 0 {
		return next + i + 1
	}
	return len(b)
}
