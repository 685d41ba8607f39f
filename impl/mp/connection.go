package mp

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Conn is one end of a Pipe, as CPython's multiprocessing.connection.Connection:
// it sends and receives messages, each a byte string, that never merge or
// split, whatever their size (an empty message is a message too).
//
// On the wire a message is its length, 8 bytes little-endian, then its bytes,
// over a SOCK_STREAM unix socket (duplex) or a pipe (simplex); a stream has
// no limit on the size of a message, unlike SOCK_SEQPACKET, so one format
// serves every size. Within one process, sends and receives on one Conn are
// serialized; several processes that send on copies of one end at once may
// interleave long messages, as in CPython.
//
// A Conn is passed to a child as (part of) the argument of New: the child
// gets a copy of the end. Recv fails with ErrEOF once every copy of the other
// end, in every process, is closed and the messages sent before are drained.
// Close closes this process's copy.
//
// Sends and receives take a context, which bounds the wait for a message to
// begin (for room to send it, or for it to arrive): a message begun is sent
// or received whole, whatever the context says, for a receiver that got
// part of one would take what follows for its rest.
type Conn struct {
	file     *os.File
	fd       int
	readable bool
	writable bool

	// A duplex Conn shares a segment with the other end (and every copy of
	// both): for each direction, how many bytes were sent and received.
	seg     *segment
	in, out *connDir
	// A duplex Conn's mailbox slots (connection_box.go).
	inBox, outBox *connBox
	// A duplex Conn's count of the open copies of its own end and of the
	// other end (connState.open).
	ownOpen, peerOpen *atomic.Int32
	inData, outData   []byte

	sendMu, recvMu sync.Mutex
	closed         bool
	wbuf           []byte        // a small message with its header, under sendMu
	hdr            [8]byte       // under recvMu
	spin           time.Duration // how long a receive spins before it sleeps
	probe          uint32
}

// A connDir counts, for one direction of a duplex pipe, the bytes that
// senders have written into the socket (after they have) and that
// receivers have read from it. A receive that finds nothing to read spins
// on them, in user space, for up to spin: a reply that comes within a few
// microseconds (a process that answers at once, on another CPU) is so
// received without a blocking read and a wakeup, which cost more than the
// rest of the round trip. A spin that ends with something to read doubles
// spin, up to spinRecvMax; one that ends in a blocking read halves it, down
// to spinRecvMin, so that a Conn whose messages come seldom spins little;
// every probeEvery-th receive spins for spinRecvMax, so that spin comes
// back up once spinning pays again. A spinning receive yields its CPU now
// and then (sched_yield), for the sender may wait for it; while the process
// is contended (spin.go: a yield lost a time slice to another program; for
// a Conn, as measured, one late yield tells),
// receives spin for at most spinNoYieldMax, without yielding.
//
// The counts are only a hint: a receive always reads the socket, which
// alone decides what is received. A process killed between a write or a
// read and its count leaves them off, which costs at most one spin before
// a receive sets them right.
type connDir struct {
	sent atomic.Uint64
	_    [56]byte
	recv atomic.Uint64
	_    [56]byte
}

// connState is a duplex pipe's shared segment: dir[0] carries what the
// first end sends.
//
// open[i] counts the copies of end i that are open, in every process: a
// parent counts the copy it passes to a child before the child exists, and
// each copy uncounts itself when closed, so the count never drops to 0
// while a copy may still be used. A send sees there that every copy of the
// other end is closed, which the mailbox would otherwise hide (a message
// fits in the slot whether anyone can take it or not). A copy that is
// never closed (its process was killed, or exited without closing it)
// leaves its count raised: a send then succeeds as it did before the other
// end was gone, never wrongly fails.
type connState struct {
	dir  [2]connDir
	box  [2]connBox
	open [2]atomic.Int32
}

const (
	spinRecvMin    = 2 * time.Microsecond
	spinRecvInit   = 50 * time.Microsecond
	spinRecvMax    = 200 * time.Microsecond
	spinNoYieldMax = 10 * time.Microsecond
	yieldCost      = 3 * time.Microsecond // a sched_yield that ran nobody else, at most
)

// headerSize is the size of a message's length prefix.
const headerSize = 8

// Pipe returns the two ends of a new pipe. A duplex pipe's ends both send
// and receive; a simplex pipe's first end only receives and its second only
// sends (as CPython's Pipe(duplex=False)): the other direction fails with
// ErrNotAllowed.
func Pipe(duplex bool) (*Conn, *Conn, error) {
	if duplex {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("mp: Pipe: socketpair: %w", err)
		}
		for _, fd := range fds {
			// Larger buffers stream large messages faster; the kernel caps
			// them (net.core.wmem_max), which is no error.
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
		}
		a, b := newConn(fds[0], true, true), newConn(fds[1], true, true)
		seg, err := newSegmentSize("pipe", segmentSize+2*boxSize)
		if err != nil {
			a.file.Close()
			b.file.Close()
			return nil, nil, err
		}
		seg.refs.Add(1)
		a.attach(seg, 0)
		b.attach(seg, 1)
		a.ownOpen.Store(1)
		b.ownOpen.Store(1)
		return a, b, nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("mp: Pipe: pipe2: %w", err)
	}
	unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, 1<<20) // as SO_SNDBUF above
	return newConn(fds[0], true, false), newConn(fds[1], false, true), nil
}

// attach makes c the end side (0 or 1) of the duplex pipe whose state is
// in seg.
func (c *Conn) attach(seg *segment, side int) {
	st := at[connState](seg)
	c.seg, c.in, c.out = seg, &st.dir[1-side], &st.dir[side]
	c.inBox, c.outBox = &st.box[1-side], &st.box[side]
	data := func(dir int) []byte { return seg.mem[segmentSize+dir*boxSize:][:boxSize:boxSize] }
	c.inData, c.outData = data(1-side), data(side)
	c.ownOpen, c.peerOpen = &st.open[side], &st.open[1-side]
}

func newConn(fd int, r, w bool) *Conn {
	return &Conn{file: os.NewFile(uintptr(fd), "mp-conn"), fd: fd, readable: r, writable: w}
}

var (
	errReadOnly  = fmt.Errorf("%w: the connection is read-only", ErrNotAllowed)
	errWriteOnly = fmt.Errorf("%w: the connection is write-only", ErrNotAllowed)
	errConnClose = fmt.Errorf("%w: the connection is closed", ErrClosed)
	errPeerClose = fmt.Errorf("%w: every copy of the other end is closed", ErrClosed)
)

// SendBytes sends b as one message, waiting for room to begin it until ctx
// ends: then it fails with ctx's error, having sent nothing. A ctx already
// done makes it only try.
func (c *Conn) SendBytes(ctx context.Context, b []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closed {
		return errConnClose
	}
	if !c.writable {
		return errReadOnly
	}
	if c.peerOpen != nil && c.peerOpen.Load() <= 0 {
		return errPeerClose
	}
	if c.putBox(b) {
		return nil
	}
	if len(b) <= 64<<10 {
		if cap(c.wbuf) < headerSize+len(b) {
			c.wbuf = make([]byte, headerSize+max(len(b), 56))
		}
		buf := c.wbuf[:headerSize+len(b)]
		binary.LittleEndian.PutUint64(buf, uint64(len(b)))
		copy(buf[headerSize:], b)
		if err := c.write(ctx, buf); err != nil {
			return err
		}
	} else {
		var hdr [headerSize]byte
		binary.LittleEndian.PutUint64(hdr[:], uint64(len(b)))
		if err := c.write(ctx, hdr[:]); err != nil {
			return err
		}
		if err := c.write(context.Background(), b); err != nil { // begun: sent whole
			return err
		}
	}
	if c.out != nil {
		c.out.sent.Add(headerSize + uint64(len(b)))
	}
	return nil
}

// write writes b whole; ctx bounds only the wait for its first bytes.
func (c *Conn) write(ctx context.Context, b []byte) error {
	if ctx.Done() != nil {
		n, err := c.writeBegin(ctx, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err == unix.EPIPE {
			return errPeerClose
		}
		if err != nil {
			return fmt.Errorf("mp: Conn: send: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// RecvBytes receives one message, waiting for it to begin until ctx ends:
// then it fails with ctx's error, having received nothing. A ctx already
// done makes it only try. It fails with ErrEOF once every copy of the other
// end is closed and nothing is left to receive.
func (c *Conn) RecvBytes(ctx context.Context) ([]byte, error) { return c.recv(ctx, -1, nil) }

// RecvBytesMax is RecvBytes for a message of at most maxlength bytes (no limit
// if negative): a longer one is received and discarded, and the call fails
// with ErrValue.
func (c *Conn) RecvBytesMax(ctx context.Context, maxlength int) ([]byte, error) {
	return c.recv(ctx, maxlength, nil)
}

// RecvBytesInto is RecvBytes that returns the message in buf's memory when
// its capacity is enough (buf[:n]), and in new memory otherwise, so that a
// loop that passes back what it got allocates nothing (CPython's
// recv_bytes_into, without its error for a buffer too small).
func (c *Conn) RecvBytesInto(ctx context.Context, buf []byte) ([]byte, error) {
	return c.recv(ctx, -1, buf)
}

func (c *Conn) recv(ctx context.Context, maxlength int, buf []byte) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed {
		return nil, errConnClose
	}
	if !c.readable {
		return nil, errWriteOnly
	}
	hdr := c.hdr[:]
	var k int
	var err error
	for {
		if b, ok := c.takeBox(buf); ok {
			return checkLength(b, maxlength)
		}
		k, err = c.recvSpin(ctx, hdr)
		if err == errBoxed {
			if b, ok := c.awaitBox(buf); ok {
				return checkLength(b, maxlength)
			}
			continue
		}
		if errors.Is(err, ErrEOF) {
			// What the slot holds was sent before the end.
			if b, ok := c.takeBox(buf); ok {
				return checkLength(b, maxlength)
			}
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if err := c.read(hdr[k:]); err != nil {
		if k > 0 && errors.Is(err, ErrEOF) {
			err = fmt.Errorf("%w: a message was cut short", ErrEOF)
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr)
	if n > 1<<40 {
		return nil, fmt.Errorf("mp: Conn: bad message length %d", n)
	}
	var b []byte
	if uint64(cap(buf)) >= n {
		b = buf[:n]
		err = c.read(b)
	} else {
		b, err = c.readMessage(n)
	}
	if err != nil {
		if errors.Is(err, ErrEOF) {
			err = fmt.Errorf("%w: a message was cut short", ErrEOF)
		}
		return nil, err
	}
	if c.in != nil {
		c.in.recv.Add(headerSize + n)
	}
	return checkLength(b, maxlength)
}

// checkLength fails a message longer than maxlength (if not negative),
// which is received all the same.
func checkLength(b []byte, maxlength int) ([]byte, error) {
	if maxlength >= 0 && len(b) > maxlength {
		return nil, fmt.Errorf("%w: bad message length %d (maxlength %d)", ErrValue, len(b), maxlength)
	}
	return b, nil
}

// errBoxed says that the mailbox holds the next message, or is being
// written it.
var errBoxed = errors.New("mp: the message is in the mailbox")

// readMessage reads a message of n bytes. Memory grows with the bytes that
// arrive, not with what the header announces, so that a corrupt length
// costs an error, not an allocation of up to a terabyte.
func (c *Conn) readMessage(n uint64) ([]byte, error) {
	const first = 1 << 20
	b := make([]byte, min(n, first))
	if err := c.read(b); err != nil {
		return nil, err
	}
	for uint64(len(b)) < n {
		grow := min(n-uint64(len(b)), uint64(len(b)))
		b = append(b, make([]byte, grow)...)
		if err := c.read(b[uint64(len(b))-grow:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// recvSpin receives the first bytes of a message into b, as read does, but
// spinning first on a duplex Conn (see connDir), and waiting no longer than
// ctx. It returns how many it received: at least one, unless it fails.
func (c *Conn) recvSpin(ctx context.Context, b []byte) (int, error) {
	if d := c.in; d != nil && !c.spinFor(d) {
		if c.boxPending() {
			return 0, errBoxed
		}
		// The counts say there is something to read: so does the socket,
		// unless they are off, which a receive that would block sets right.
		// Only with the sent count read before it: a sender counts a message
		// once it is written whole, so an empty socket proves that what that
		// count holds was received, and nothing about a message sent since
		// (counted as received, it would let the next one overtake it
		// through the slot).
		sent := d.sent.Load()
		n, err := c.recvNow(b)
		switch err {
		case unix.EAGAIN:
			if r := d.recv.Load(); int64(sent-r) > 0 {
				d.recv.CompareAndSwap(r, sent)
			}
		case unix.EINTR:
		default:
			return n, err
		}
	}
	if !c.sleep() {
		return 0, errBoxed
	}
	defer c.wake()
	if ctx.Done() != nil {
		return c.recvBegin(ctx, b)
	}
	return c.readSome(b)
}

// recvNow receives into b what a duplex Conn's socket holds, without
// waiting: unix.EAGAIN (or unix.EINTR) when it has nothing.
func (c *Conn) recvNow(b []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT, 0, 0)
	switch {
	case errno == unix.EAGAIN || errno == unix.EINTR:
		return 0, errno
	case errno != 0:
		return 0, fmt.Errorf("mp: Conn: recv: %w", errno)
	case n == 0:
		return 0, ErrEOF
	}
	return int(n), nil
}

// readSome reads into b at least one byte, waiting for it.
func (c *Conn) readSome(b []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("mp: Conn: recv: %w", err)
		}
		if n == 0 {
			return 0, ErrEOF
		}
		return n, nil
	}
}

// spinFor spins until d's counts say there is something to read, for up to
// c.spin, which it adapts; it reports whether it gave up.
func (c *Conn) spinFor(d *connDir) (gaveUp bool) {
	pending := func() bool {
		r := d.recv.Load()
		s := d.sent.Load()
		if int64(s-r) < 0 { // a sender died before it counted
			d.recv.CompareAndSwap(r, s)
		}
		return int64(s-r) > 0 || c.boxPending()
	}
	if pending() {
		return false
	}
	limit := c.spin
	if limit == 0 {
		limit = spinRecvInit
	}
	budget := limit
	if c.probe++; c.probe%probeEvery == 0 {
		budget = spinRecvMax
	}
	quiet := contended()
	if quiet {
		budget = min(budget, spinNoYieldMax)
	}
	// The budget counts this receive's own polling: the time another
	// process ran during a yield (past what a yield costs) is not spent
	// spinning, and with more of the program's processes than CPUs, it is
	// often the sender, answering.
	t0 := time.Now()
	var away time.Duration
	for i := 1; ; i++ {
		if pending() {
			c.spin = min(2*limit, spinRecvMax)
			return false
		}
		if i%64 == 0 {
			now := time.Now()
			if now.Sub(t0)-away > budget {
				break
			}
			if quiet {
				continue
			}
			// Let the sender run, should it wait for this CPU. A yield that
			// lasts is another process that ran for its time slice: the
			// CPUs are busy, and the next receives spin without yielding.
			if !yield(1) {
				c.spin = spinRecvMin
				return true
			}
			if d := time.Since(now); d > yieldCost {
				away += d - yieldCost
			}
		}
	}
	if budget == limit {
		c.spin = max(limit/2, spinRecvMin)
	}
	return true
}

func (c *Conn) read(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(c.fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return fmt.Errorf("mp: Conn: recv: %w", err)
		}
		if n == 0 {
			return ErrEOF
		}
		b = b[n:]
	}
	return nil
}

// Send sends v encoded with encoding/json as one message, as SendBytes does.
func (c *Conn) Send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendBytes(ctx, b)
}

// Recv receives one message sent by Send and decodes it into v, as
// RecvBytes receives.
func (c *Conn) Recv(ctx context.Context, v any) error {
	b, err := c.RecvBytes(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Poll waits until there is something to receive (a message, or the end
// of file: CPython's poll says True then too) or ctx ends. It returns nil
// when there is, and ctx's error when ctx ended first. A ctx already done
// makes it only look, as CPython's poll(0); context.Background waits as
// long as it takes, as poll(None).
func (c *Conn) Poll(ctx context.Context) error {
	c.recvMu.Lock()
	closed, readable := c.closed, c.readable
	c.recvMu.Unlock()
	if closed {
		return errConnClose
	}
	if !readable {
		return errWriteOnly
	}
	if c.boxPending() || !c.sleep() {
		return nil
	}
	defer c.wake()
	return waitFd(ctx, c.fd, unix.POLLIN)
}

// Readable and Writable report the directions of the end.
func (c *Conn) Readable() bool { return c.readable }
func (c *Conn) Writable() bool { return c.writable }

// Close closes this process's copy of the end; later calls on c fail with
// ErrClosed. Closing twice is no error.
func (c *Conn) Close() error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.file.Close()
	if c.seg != nil {
		c.ownOpen.Add(-1)
		c.in, c.out, c.inBox, c.outBox = nil, nil, nil, nil
		err = errors.Join(err, c.seg.close())
	}
	return err
}

type connJSON struct {
	Type string `json:"type"`
	FD   int    `json:"fd"`
	R    bool   `json:"r"`
	W    bool   `json:"w"`
	Seg  *int   `json:"seg,omitempty"` // a duplex pipe's segment
	Side int    `json:"side,omitempty"`
}

// MarshalJSON encodes the Conn for a child being started; it fails in any
// other use.
func (c *Conn) MarshalJSON() ([]byte, error) {
	if !passing() {
		return nil, errors.New("mp: a Conn can only be encoded as (part of) the argument of a process being started")
	}
	if c.closed {
		return nil, errConnClose
	}
	j := connJSON{Type: "conn", FD: passFile(c.file), R: c.readable, W: c.writable}
	if c.seg != nil {
		seg := passFile(c.seg.file)
		j.Seg = &seg
		c.ownOpen.Add(1) // the child's copy, counted before the child can close it
		if c.out == &at[connState](c.seg).dir[1] {
			j.Side = 1
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON takes, in a child, the Conn its parent passed.
func (c *Conn) UnmarshalJSON(data []byte) error {
	var j connJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Type != "conn" {
		return fmt.Errorf("mp: decoding a Conn from a %q", j.Type)
	}
	f := inheritedFile(j.FD)
	if f == nil {
		return fmt.Errorf("mp: no inherited file %d: a Conn is only passed as the argument of a process", j.FD)
	}
	c.file, c.fd, c.readable, c.writable = f, int(f.Fd()), j.R, j.W
	if j.Seg != nil {
		seg, err := inheritedSegment(*j.Seg)
		if err != nil {
			return err
		}
		c.attach(seg, j.Side)
	}
	return nil
}
