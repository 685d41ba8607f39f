package mp

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"
)

// A link joins two processes through one anonymous memfd segment holding
// two single-producer single-consumer byte rings, one each way: a pool
// talks so to each of its workers (tasks one way, results the other), and
// a manager's local client to the server (requests and replies). A ring
// carries messages as a stream: each is its length (8 bytes,
// little-endian) then its bytes, with no padding, and a message larger
// than the free space (or than the whole ring) streams through in parts.
// Each side polls a little (linkSpin) before it sleeps on a wakeWord that
// the other side wakes: a round trip between two sides that both keep
// polling costs no system call at all, which is what makes a round trip
// take microseconds where a pipe would take tens.

// linkRingSize is the size of each of a pool link's rings. Pages never
// touched take no memory, so a link costs little while its messages are
// small.
const linkRingSize = 1 << 20

// ringState is a ring's shared state; the writer's and the reader's words
// are on separate cache lines.
type ringState struct {
	tail atomic.Uint64 // bytes written and published; written by the writer only
	_    [56]byte
	head atomic.Uint64 // bytes read and freed; written by the reader only
	_    [56]byte
	// data is woken when tail advances (or when the other side is found
	// gone), space when head advances.
	data  wakeWord
	_     [60]byte
	space wakeWord
	_     [60]byte
}

// linkState is the first page of a link's segment.
type linkState struct {
	tasks   ringState // parent to worker, or client to server
	results ringState // worker to parent, or server to client
	// running is the id of the job whose items a pool's worker is running,
	// 0 between jobs: when a worker dies, the parent fails that job, and
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
	r.s.data.wake()
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
	r.s.space.wake()
	return n
}

// wakeSide wakes whoever of one side waits for data in in or for room in
// out, once that side has found the other gone: their stop condition
// holds, and they ask it once announced (wakeWord.wait).
func wakeSide(in, out ring) {
	in.s.data.wake()
	out.s.space.wake()
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
			if !linkWait(&r.s.space, true, func() bool { return r.free() > 0 }, stop, -1) {
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

// A ringReader assembles the messages of a ring, without ever waiting: a
// message that has only partly arrived stays in the reader until the rest
// does.
type ringReader struct {
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
func (rd *ringReader) next() ([]byte, bool) {
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
func (rd *ringReader) wait(stop func() bool, timeout time.Duration) bool {
	return linkWait(&rd.r.s.data, true, func() bool { return rd.r.avail() > 0 }, stop, timeout)
}

// read waits for and returns the next whole message (a pool worker's
// side, which has nothing else to do).
func (rd *ringReader) read() []byte {
	for {
		if m, ok := rd.next(); ok {
			return m
		}
		rd.wait(nil, -1)
	}
}

// linkWait waits until ok holds, stop (if not nil) holds, or timeout (if
// not negative) passes: it polls (linkSpin) if spin says so, then sleeps
// on word, which whoever makes ok or stop hold wakes. It reports whether
// ok holds.
func linkWait(word *wakeWord, spin bool, ok, stop func() bool, timeout time.Duration) bool {
	if ok() || (spin && linkSpin.spin(nil, ok)) {
		return true
	}
	w := timeoutWaiter(timeout)
	return word.wait(&w, ok, stop, -1)
}
