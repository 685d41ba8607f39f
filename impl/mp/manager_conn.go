package mp

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A managerConn is one connection to a manager server, used by one
// goroutine at a time: a local client's link (manager_link.go), or a
// stream socket used with blocking system calls (no poller between a
// request and its reply), which polls a while (socketSpin) before it
// blocks.
type managerConn struct {
	fd   int       // the socket
	l    *linkConn // a local connection's link, nil on a socket
	hdr  int       // the size of a frame's length: 4 on a socket, headerSize on a link
	spin spinState // what socketSpin learned of this socket
	rbuf []byte    // received bytes, rbuf[r:w] not yet consumed
	r, w int
	wbuf []byte
}

func newSocketConn(fd int) *managerConn {
	return &managerConn{fd: fd, hdr: 4, rbuf: make([]byte, 64<<10), wbuf: make([]byte, 4, 256)}
}

// newLocalConn makes the connection of one side of a local client's link.
func newLocalConn(lk *link, fd int, server bool, maxFrame int) (*managerConn, error) {
	l, err := newLinkConn(lk, fd, server, maxFrame)
	if err != nil {
		return nil, err
	}
	return &managerConn{fd: fd, l: l, hdr: headerSize, wbuf: make([]byte, headerSize, 256)}, nil
}

func (c *managerConn) close() {
	if c.l != nil {
		c.l.close()
		return
	}
	unix.Close(c.fd)
}

// startFrame resets the write buffer to an empty frame.
func (c *managerConn) startFrame() []byte { return c.wbuf[:c.hdr] }

// writeFrame sends the frame built in b (which starts with hdr bytes for
// the length) in one write.
func (c *managerConn) writeFrame(b []byte) error {
	if cap(b) <= 1<<20 {
		c.wbuf = b[:c.hdr]
	}
	if c.l != nil {
		return c.l.write(b)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	for len(b) > 0 {
		n, err := unix.SendmsgN(c.fd, b, nil, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// errHandshakeTimeout reports a peer that did not complete the handshake
// in time (SO_RCVTIMEO).
var errHandshakeTimeout = errors.New("mp: manager: timed out")

// errFrameTooLarge reports a frame longer than the receiver's limit.
var errFrameTooLarge = errors.New("mp: manager: frame too large")

// readFrame receives one frame's payload, of at most max bytes. The
// payload is valid until the next readFrame.
func (c *managerConn) readFrame(max int) ([]byte, error) {
	if c.l != nil {
		p, err := c.l.read()
		if err == nil && len(p) > max {
			return nil, errFrameTooLarge
		}
		return p, err
	}
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	if err := c.fill(4); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(c.rbuf[c.r:]))
	if n > max {
		return nil, errFrameTooLarge
	}
	if err := c.fill(4 + n); err != nil {
		return nil, err
	}
	p := c.rbuf[c.r+4 : c.r+4+n]
	c.r += 4 + n
	return p, nil
}

// fill reads until rbuf[r:] holds n bytes, growing or compacting it.
func (c *managerConn) fill(n int) error {
	if c.w-c.r >= n {
		return nil
	}
	if c.r+n > len(c.rbuf) {
		if n > len(c.rbuf) {
			buf := make([]byte, max(n, 2*len(c.rbuf)))
			c.w = copy(buf, c.rbuf[c.r:c.w])
			c.rbuf = buf
		} else {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		}
		c.r = 0
	}
	for c.w-c.r < n {
		if c.spinFor() {
			continue
		}
		m, err := unix.Read(c.fd, c.rbuf[c.w:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			// The socket blocks: only its receive timeout says this.
			return errHandshakeTimeout
		}
		if err != nil {
			return err
		}
		if m == 0 {
			return ErrEOF
		}
		c.w += m
	}
	return nil
}

// spinFor polls for data (socketSpin); it returns true when some arrived
// (in rbuf).
func (c *managerConn) spinFor() bool {
	buf := c.rbuf[c.w:]
	got := false
	socketSpin.spin(&c.spin, func() bool {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(c.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
			unix.MSG_DONTWAIT, 0, 0)
		if errno == 0 && n > 0 {
			c.w += int(n)
			got = true
			return true
		}
		// EOF or an error ends the poll: the blocking read reports it.
		return errno != unix.EAGAIN && errno != unix.EINTR
	})
	return got
}
