package mp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

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
type Conn struct {
	file     *os.File
	fd       int
	readable bool
	writable bool

	sendMu, recvMu sync.Mutex
	closed         bool
}

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
		return newConn(fds[0], true, true), newConn(fds[1], true, true), nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("mp: Pipe: pipe2: %w", err)
	}
	unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, 1<<20) // as SO_SNDBUF above
	return newConn(fds[0], true, false), newConn(fds[1], false, true), nil
}

func newConn(fd int, r, w bool) *Conn {
	return &Conn{file: os.NewFile(uintptr(fd), "mp-conn"), fd: fd, readable: r, writable: w}
}

var (
	errReadOnly  = fmt.Errorf("%w: the connection is read-only", ErrNotAllowed)
	errWriteOnly = fmt.Errorf("%w: the connection is write-only", ErrNotAllowed)
	errConnClose = fmt.Errorf("%w: the connection is closed", ErrClosed)
)

// SendBytes sends b as one message.
func (c *Conn) SendBytes(b []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closed {
		return errConnClose
	}
	if !c.writable {
		return errReadOnly
	}
	if len(b) <= 64<<10 {
		buf := make([]byte, headerSize+len(b))
		binary.LittleEndian.PutUint64(buf, uint64(len(b)))
		copy(buf[headerSize:], b)
		return c.write(buf)
	}
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(b)))
	if err := c.write(hdr[:]); err != nil {
		return err
	}
	return c.write(b)
}

func (c *Conn) write(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return fmt.Errorf("mp: Conn: send: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// RecvBytes receives one message, waiting for it. It fails with ErrEOF once
// every copy of the other end is closed and nothing is left to receive.
func (c *Conn) RecvBytes() ([]byte, error) { return c.RecvBytesMax(-1) }

// RecvBytesMax is RecvBytes for a message of at most maxlength bytes (no limit
// if negative): a longer one is received and discarded, and the call fails
// with ErrValue.
func (c *Conn) RecvBytesMax(maxlength int) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed {
		return nil, errConnClose
	}
	if !c.readable {
		return nil, errWriteOnly
	}
	var hdr [headerSize]byte
	if err := c.read(hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr[:])
	if n > 1<<40 {
		return nil, fmt.Errorf("mp: Conn: bad message length %d", n)
	}
	b := make([]byte, n)
	if err := c.read(b); err != nil {
		if errors.Is(err, ErrEOF) {
			err = fmt.Errorf("%w: a message was cut short", ErrEOF)
		}
		return nil, err
	}
	if maxlength >= 0 && int(n) > maxlength {
		return nil, fmt.Errorf("%w: bad message length %d (maxlength %d)", ErrValue, n, maxlength)
	}
	return b, nil
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

// Send sends v encoded with encoding/json as one message.
func (c *Conn) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendBytes(b)
}

// Recv receives one message sent by Send and decodes it into v.
func (c *Conn) Recv(v any) error {
	b, err := c.RecvBytes()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Poll reports whether there is something to receive (a message, or the end
// of file), waiting for at most timeout (forever if negative).
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	c.recvMu.Lock()
	closed, readable := c.closed, c.readable
	c.recvMu.Unlock()
	if closed {
		return false, errConnClose
	}
	if !readable {
		return false, errWriteOnly
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ms := -1
		if timeout >= 0 {
			left := time.Until(deadline)
			ms = int((left + time.Millisecond - 1) / time.Millisecond)
			if left <= 0 {
				ms = 0
			}
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("mp: Conn: poll: %w", err)
		}
		if n > 0 {
			return true, nil
		}
		if ms == 0 || (timeout >= 0 && !time.Now().Before(deadline)) {
			return false, nil
		}
	}
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
	return c.file.Close()
}

type connJSON struct {
	Type string `json:"type"`
	FD   int    `json:"fd"`
	R    bool   `json:"r"`
	W    bool   `json:"w"`
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
	return json.Marshal(connJSON{Type: "conn", FD: passFile(c.file), R: c.readable, W: c.writable})
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
	return nil
}
