package mp

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// A local client's connection carries its frames through shared memory: a
// link (link.go), requests in one ring and replies in the other, which
// both sides poll for a while before they sleep (linkSpin). A request and
// its reply between a client and a server that are both running then cost
// no system call, where a socket costs four, and the wakes of sleepers
// besides.
//
// The connection keeps its socketpair, which carries no data: it tells what
// shared memory does not, that the other side is gone (its end reads EOF
// once the other process exits or shuts its end down), and the server cuts
// off a link at shutdown as it does any socket.
type linkConn struct {
	lk   *link
	in   ringReader
	out  ring
	sock *os.File // non-blocking: watch reads it through the runtime's poller
	dead atomic.Bool
	// serving: the server's side, which serves no request once the link
	// is cut off, whereas a client reads the replies sent before.
	serving bool
	gone    chan struct{} // closed when watch returns
}

// managerRingSize is the size of each ring of a link: a larger frame
// streams through in parts.
const managerRingSize = 64 << 10

// newLinkConn makes the connection of one side of a link: the client writes
// requests into the tasks ring and reads replies from the results ring,
// the server the other way round. It owns sock and lk from then on.
func newLinkConn(lk *link, sock int, server bool, maxFrame int) (*linkConn, error) {
	if err := unix.SetNonblock(sock, true); err != nil {
		unix.Close(sock)
		lk.close()
		return nil, err
	}
	m := &linkConn{lk: lk, sock: os.NewFile(uintptr(sock), "mp-manager"), gone: make(chan struct{}), serving: server}
	if server {
		m.in, m.out = ringReader{r: lk.tasks()}, lk.results()
	} else {
		m.in, m.out = ringReader{r: lk.results()}, lk.tasks()
	}
	m.in.limit = uint64(maxFrame)
	go m.watch()
	return m, nil
}

// watch waits for the socket's end, then wakes whoever waits on the link.
func (m *linkConn) watch() {
	defer close(m.gone)
	var b [1]byte
	for {
		if _, err := m.sock.Read(b[:]); err != nil {
			break
		}
	}
	m.cut()
}

// cut marks the link dead and wakes whoever waits on it: watch does when
// the other side's end closes, a server shutting down does at once.
func (m *linkConn) cut() {
	m.dead.Store(true)
	wakeSide(m.in.r, m.out)
}

func (m *linkConn) stopped() bool { return m.dead.Load() }

// read returns the next frame's payload, valid until the next read.
func (m *linkConn) read() ([]byte, error) {
	for {
		// Once dead is seen, whatever the other side wrote before its end
		// closed is there to read, before EOF.
		dead := m.dead.Load()
		if p, ok := m.in.next(); ok {
			// Checked after the read: a request sent once the server's
			// shutdown was answered, so after cut, is never served.
			if m.serving && m.dead.Load() {
				return nil, ErrEOF
			}
			return p, nil
		}
		if m.in.err != nil {
			return nil, m.in.err
		}
		if dead {
			return nil, ErrEOF
		}
		m.in.wait(m.stopped, -1)
	}
}

// write sends the frame built in b, whose first headerSize bytes are left
// for its length.
func (m *linkConn) write(b []byte) error {
	if m.dead.Load() {
		return ErrEOF
	}
	return m.out.write(b, m.stopped)
}

// close ends the connection: the other side sees EOF.
func (m *linkConn) close() {
	m.sock.Close()
	<-m.gone
	m.lk.close()
}
