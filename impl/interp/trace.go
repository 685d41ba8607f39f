package interp

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/mpconform/mpconform/impl/mp"

	"golang.org/x/sys/unix"
)

// A tracer appends this process's records to DIR/<pid>.jsonl (protocol.md §7).
// Each record is one write(2) on an O_APPEND file, unbuffered, so a process
// killed at any point has lost nothing it recorded.
type tracer struct {
	mu   sync.Mutex
	f    *os.File
	head []byte // `{"pid":..,"ppid":..,"proc":..,` shared by every record
	seq  int64
}

func openTrace(dir string) (*tracer, error) {
	pid := os.Getpid()
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(pid)+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	head := fmt.Appendf(nil, `{"pid":%d,"ppid":%d,"proc":`, pid, driver.Getppid())
	head = append(appendString(head, mp.Current().Name), ',')
	return &tracer{f: f, head: head}, nil
}

// now reads CLOCK_MONOTONIC, the clock every process of a run shares.
func now() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

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
	b := append([]byte(nil), t.head...)
	b = fmt.Appendf(b, `"seq":%d,"op":`, t.seq)
	b = appendString(b, r.op)
	b = append(b, `,"step":`...)
	b = appendString(b, r.step)
	b = append(b, `,"in":`...)
	if r.in == nil {
		r.in = map[string]any{}
	}
	b = appendValue(b, r.in, true)
	b = fmt.Appendf(b, `,"t0":%d`, r.t0)
	switch {
	case r.pending:
		b = append(b, `,"pending":true`...)
	case r.err == nil:
		b = fmt.Appendf(b, `,"t1":%d,"ok":true,"value":`, r.t1)
		b = appendValue(b, r.value, true)
	default:
		b = fmt.Appendf(b, `,"t1":%d,"ok":false,"error":{"kind":`, r.t1)
		b = appendString(b, errorKind(r.err))
		b = append(b, `,"message":`...)
		b = append(appendString(b, r.err.Error()), '}')
	}
	b = append(b, "}\n"...)
	t.seq++
	if driver.TraceLine != nil {
		if b = driver.TraceLine(b); len(b) == 0 {
			return nil
		}
	}
	_, err := t.f.Write(b)
	return err
}
