package mp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A pool talks to each of its workers through a link: one anonymous memfd
// segment holding two single-producer single-consumer byte rings, one for
// tasks (parent to worker) and one for results (worker to parent). A ring
// carries messages as a stream: each is its length (8 bytes, little-endian)
// then its bytes, with no padding, and a message larger than the free space
// (or than the whole ring) streams through in parts. Each side spins a
// little before it sleeps on a futex word that the other side bumps, and
// the other side makes a wake system call only when someone sleeps: a round
// trip between a parent and a worker that both keep polling costs no system
// call at all, which is what makes an apply round trip take microseconds
// where a pipe would take tens.
//
// The link owns its futex helpers and spinner rather than sharing the
// queue's, so that the pool does not depend on the queue's tuning.

// linkRingSize is the size of each of a link's rings. Pages never touched
// take no memory, so a link costs little while its messages are small.
const linkRingSize = 1 << 20

// ringState is a ring's shared state; the writer's and the reader's words
// are on separate cache lines.
type ringState struct {
	tail atomic.Uint64 // bytes written and published; written by the writer only
	_    [56]byte
	head atomic.Uint64 // bytes read and freed; written by the reader only
	_    [56]byte
	// dataSeq is bumped when tail advances while the reader sleeps (or when
	// the parent learns that the worker died), spaceSeq when head advances
	// while the writer sleeps.
	dataSeq      atomic.Uint32
	dataWaiters  atomic.Uint32
	_            [56]byte
	spaceSeq     atomic.Uint32
	spaceWaiters atomic.Uint32
	_            [56]byte
}

// linkState is the first page of a link's segment.
type linkState struct {
	tasks   ringState // parent to worker
	results ringState // worker to parent
	// running is the id of the job whose items the worker is running, 0
	// between jobs: when a worker dies, the parent fails that job, and
	// hands the other jobs sent to it to another worker.
	running atomic.Uint64
}

// A link is one process's handle on a link segment.
type link struct {
	seg *segment
	st  *linkState
}

func newLink() (*link, error) { return newLinkSize("pool", linkRingSize) }

// newLinkSize makes a link whose rings hold ringSize bytes each (a
// multiple of the page size).
func newLinkSize(kind string, ringSize int) (*link, error) {
	seg, err := newSegmentSize(kind, segmentSize+2*ringSize)
	if err != nil {
		return nil, err
	}
	l := &link{}
	l.attach(seg)
	return l, nil
}

func (l *link) attach(seg *segment) {
	l.seg = seg
	l.st = at[linkState](seg)
}

// tasks and results return the two rings, which share the memory after
// the state page.
func (l *link) tasks() ring {
	n := l.ringSize()
	return ring{s: &l.st.tasks, buf: l.seg.mem[segmentSize : segmentSize+n]}
}

func (l *link) results() ring {
	n := l.ringSize()
	return ring{s: &l.st.results, buf: l.seg.mem[segmentSize+n : segmentSize+2*n]}
}

func (l *link) ringSize() int { return (len(l.seg.mem) - segmentSize) / 2 }

func (l *link) close() error { return l.seg.close() }

// MarshalJSON passes the link to the worker being started.
func (l *link) MarshalJSON() ([]byte, error) { return marshalSegment("pool", l.seg, nil) }

// UnmarshalJSON maps, in a worker, the link its pool passed.
func (l *link) UnmarshalJSON(data []byte) error {
	s, _, err := unmarshalSegment("pool", data)
	if err != nil {
		return err
	}
	l.attach(s)
	return nil
}

// A ring is a view of one ring of a link.
type ring struct {
	s   *ringState
	buf []byte
}

// free returns how many bytes may be written now.
func (r ring) free() int { return len(r.buf) - int(r.s.tail.Load()-r.s.head.Load()) }

// avail returns how many bytes may be read now.
func (r ring) avail() int { return int(r.s.tail.Load() - r.s.head.Load()) }

// put copies b at the tail and publishes it; b must fit (free).
func (r ring) put(b []byte) {
	tail := r.s.tail.Load()
	i := int(tail % uint64(len(r.buf)))
	n := copy(r.buf[i:], b)
	copy(r.buf, b[n:])
	r.s.tail.Store(tail + uint64(len(b)))
	linkWake(&r.s.dataSeq, &r.s.dataWaiters)
}

// take copies up to len(b) readable bytes into b, frees them, and returns
// how many it copied.
func (r ring) take(b []byte) int {
	head := r.s.head.Load()
	n := min(int(r.s.tail.Load()-head), len(b))
	if n == 0 {
		return 0
	}
	i := int(head % uint64(len(r.buf)))
	m := copy(b[:n], r.buf[i:])
	copy(b[m:n], r.buf)
	r.s.head.Store(head + uint64(n))
	linkWake(&r.s.spaceSeq, &r.s.spaceWaiters)
	return n
}

// errPeerGone is what a link operation returns once the other side is gone.
var errPeerGone = errors.New("mp: pool link: the other side is gone")

// write writes msg, a message whose first 8 bytes are left for its length,
// waiting for room as long as it must, unless stop reports that the reader
// is gone.
func (r ring) write(msg []byte, stop func() bool) error {
	binary.LittleEndian.PutUint64(msg, uint64(len(msg)-headerSize))
	for len(msg) > 0 {
		n := min(r.free(), len(msg))
		if n == 0 {
			ok := linkWait(&r.s.spaceSeq, &r.s.spaceWaiters, true,
				func() bool { return r.free() > 0 }, stop, -1)
			if !ok {
				return errPeerGone
			}
			continue
		}
		r.put(msg[:n])
		msg = msg[n:]
	}
	return nil
}

// maxKeptMessage is the largest message buffer a reader keeps.
const maxKeptMessage = 64 << 20

// A reader assembles the messages of a ring, without ever waiting: a message
// that has only partly arrived stays in the reader until the rest does.
type reader struct {
	r     ring
	limit uint64 // the largest message accepted, if not 0
	err   error  // set, for good, by a message over the limit
	hdr   [headerSize]byte
	nhdr  int
	msg   []byte // the message being assembled, once its header is read
	nmsg  int
	buf   []byte // reused for messages that fit
}

// next returns the next whole message, or false if none has arrived yet.
// The message is valid until the following call.
func (rd *reader) next() ([]byte, bool) {
	if rd.err != nil {
		return nil, false
	}
	if rd.nhdr < headerSize {
		rd.nhdr += rd.r.take(rd.hdr[rd.nhdr:])
		if rd.nhdr < headerSize {
			return nil, false
		}
		n := binary.LittleEndian.Uint64(rd.hdr[:])
		if rd.limit != 0 && n > rd.limit {
			rd.err = errFrameTooLarge
			return nil, false
		}
		if n <= uint64(cap(rd.buf)) {
			rd.msg = rd.buf[:n]
		} else {
			// Kept for the next messages, up to a size: a Map's chunks
			// are large and alike.
			rd.msg = make([]byte, n, max(n, uint64(2*cap(rd.buf))))
			if n <= maxKeptMessage {
				rd.buf = rd.msg
			}
		}
		rd.nmsg = 0
	}
	rd.nmsg += rd.r.take(rd.msg[rd.nmsg:])
	if rd.nmsg < len(rd.msg) {
		return nil, false
	}
	rd.nhdr = 0
	return rd.msg, true
}

// wait waits until the ring has something to read, stop reports true, or
// timeout passes (never if negative); it reports whether there is data.
func (rd *reader) wait(stop func() bool, timeout time.Duration) bool {
	s := rd.r.s
	return linkWait(&s.dataSeq, &s.dataWaiters, true, func() bool { return rd.r.avail() > 0 }, stop, timeout)
}

// read waits for and returns the next whole message (the worker's side,
// which has nothing else to do).
func (rd *reader) read() []byte {
	for {
		if m, ok := rd.next(); ok {
			return m
		}
		rd.wait(nil, -1)
	}
}

// linkWait waits until ok holds, stop (if not nil) holds, or timeout (if
// not negative) passes: it spins (linkSpin) if spin says so, then sleeps
// on seq, which whoever makes ok hold bumps when waiters is not 0. It
// reports whether ok holds.
func linkWait(seq, waiters *atomic.Uint32, spin bool, ok, stop func() bool, timeout time.Duration) bool {
	if ok() || (spin && linkSpin(ok)) {
		return true
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		waiters.Add(1)
		seen := seq.Load()
		// stop is asked after seen is loaded: whoever makes it hold then
		// bumps seq, so that a sleep that began too late ends at once.
		if ok() || (stop != nil && stop()) {
			waiters.Add(^uint32(0))
			return ok()
		}
		d := time.Duration(-1)
		if timeout >= 0 {
			if d = time.Until(deadline); d <= 0 {
				waiters.Add(^uint32(0))
				return false
			}
		}
		linkFutexWait(seq, seen, d)
		waiters.Add(^uint32(0))
		if ok() {
			return true
		}
	}
}

// linkWake wakes the sleepers of linkWait on seq, if any (see queue.go's
// wake for why checking waiters first is safe).
func linkWake(seq, waiters *atomic.Uint32) {
	if waiters.Load() != 0 {
		seq.Add(1)
		linkFutexWake(seq)
	}
}

// linkFutexWait sleeps while *addr holds val, until woken or for at most
// timeout if not negative; it may return early for no reason.
func linkFutexWait(addr *atomic.Uint32, val uint32, timeout time.Duration) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 0 /* FUTEX_WAIT */, uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
}

// linkFutexWake wakes every process sleeping on addr.
func linkFutexWake(addr *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), 1 /* FUTEX_WAKE */, math.MaxInt32, 0, 0, 0)
}

// linkSpin polls try before a side of a link sleeps, for about as long as
// the other side takes to answer on a busy machine (tens of microseconds),
// yielding the CPU now and then: with more busy processes than CPUs (two
// clients and a manager's server on two CPUs, a parent and its workers),
// the process polled for may be waiting for this very CPU. A futex sleep
// and wake cost more than the poll, and a process woken on an idle CPU
// takes longer still to run.
//
// The poll does not adapt. An adaptive one (longer after a poll that paid,
// shorter after one that ended in a sleep) collapses: once a side sleeps,
// the other answers late, which shortens its poll, so that it sleeps too,
// until every round trip costs two sleeps. Measured with the pool's and
// the manager's round trips, it had a fifth to a third of this one's
// throughput.
func linkSpin(try func() bool) bool {
	const polls, yieldEvery = 4096, 64
	for i := range polls {
		if try() {
			return true
		}
		if i%yieldEvery == yieldEvery-1 {
			unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return false
}

// Messages. A task message (parent to worker) is
//
//	kind (1 byte: msgTask or msgExit), job id (8), task name length (2),
//	task name, item count (4), then per item: length (4), encoded argument
//
// and a result message (worker to parent) is
//
//	job id (8), item count (4), then per item: status (1 byte: 0 for a
//	result, 1 for an error), length (4), encoded result or error message.
const (
	msgTask = 1
	msgExit = 2
)

// appendItem appends a length-prefixed item whose bytes enc appends.
func appendItem(b []byte, enc func([]byte) []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = enc(b)
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// A msgReader decodes a message's fields in order; a message cut short
// leaves err set and zero values.
type msgReader struct {
	b   []byte
	err error
}

func (m *msgReader) need(n int) []byte {
	if m.err != nil || len(m.b) < n {
		if m.err == nil {
			m.err = errors.New("mp: pool: malformed message")
		}
		return make([]byte, n)
	}
	p := m.b[:n]
	m.b = m.b[n:]
	return p
}

func (m *msgReader) u8() byte      { return m.need(1)[0] }
func (m *msgReader) u16() int      { return int(binary.LittleEndian.Uint16(m.need(2))) }
func (m *msgReader) u32() int      { return int(binary.LittleEndian.Uint32(m.need(4))) }
func (m *msgReader) u64() uint64   { return binary.LittleEndian.Uint64(m.need(8)) }
func (m *msgReader) bytes() []byte { return m.need(m.u32()) }

// A codec encodes a task's arguments or results. Common scalar types have
// a fixed binary form, so that a map of small items costs nanoseconds per
// item, not the microsecond of encoding/json; any other type travels as
// JSON (so it must round-trip through encoding/json, as a target's
// argument must).
type codec[T any] struct {
	enc func(b []byte, v *T) []byte
	dec func(b []byte, v *T) error
}

func codecFor[T any]() codec[T] {
	var zero T
	fixed := func(size int) error { return fmt.Errorf("mp: pool: want %d bytes for a %T", size, zero) }
	u64 := func(b []byte) (uint64, error) {
		if len(b) != 8 {
			return 0, fixed(8)
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	switch any(zero).(type) {
	case int:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, uint64(*(*int)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*int)(unsafe.Pointer(v)) = int(x)
				return err
			}}
	case int64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, uint64(*(*int64)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*int64)(unsafe.Pointer(v)) = int64(x)
				return err
			}}
	case uint64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return binary.LittleEndian.AppendUint64(b, *(*uint64)(unsafe.Pointer(v))) },
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*uint64)(unsafe.Pointer(v)) = x
				return err
			}}
	case float64:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(unsafe.Pointer(v))))
			},
			dec: func(b []byte, v *T) error {
				x, err := u64(b)
				*(*float64)(unsafe.Pointer(v)) = math.Float64frombits(x)
				return err
			}}
	case bool:
		return codec[T]{
			enc: func(b []byte, v *T) []byte {
				if *(*bool)(unsafe.Pointer(v)) {
					return append(b, 1)
				}
				return append(b, 0)
			},
			dec: func(b []byte, v *T) error {
				if len(b) != 1 {
					return fixed(1)
				}
				*(*bool)(unsafe.Pointer(v)) = b[0] != 0
				return nil
			}}
	case string:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return append(b, *(*string)(unsafe.Pointer(v))...) },
			dec: func(b []byte, v *T) error { *(*string)(unsafe.Pointer(v)) = string(b); return nil }}
	case []byte:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return append(b, *(*[]byte)(unsafe.Pointer(v))...) },
			dec: func(b []byte, v *T) error {
				*(*[]byte)(unsafe.Pointer(v)) = append([]byte(nil), b...)
				return nil
			}}
	case struct{}:
		return codec[T]{
			enc: func(b []byte, v *T) []byte { return b },
			dec: func(b []byte, v *T) error { return nil }}
	}
	return codec[T]{
		enc: func(b []byte, v *T) []byte {
			data, err := json.Marshal(v)
			if err != nil {
				// Encoding fails only for types that cannot travel
				// (channels, funcs): a programming error, as for a
				// target's argument.
				panic(fmt.Sprintf("mp: pool: encoding a %T: %v", zero, err))
			}
			return append(b, data...)
		},
		dec: func(b []byte, v *T) error { return json.Unmarshal(b, v) }}
}
