package mp

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Ops of the manager's wire protocol (see manager_wire.go).
const (
	opCreate     = 'c' // kind byte, init value (typecode string for a value first) -> ref
	opExpose     = 'x' // name string -> nil
	opLookup     = 'L' // name string -> ref
	opName       = 'n' // -> the name the object was exposed under, or nil
	opShutdown   = 'S' // -> nil, then the server exits
	opToken      = 't' // -> the server's token (string)
	opSet        = 's' // key, value
	opGet        = 'g' // key, has-default byte, default
	opDel        = 'D' // key
	opPop        = 'p' // key, has-default byte, default
	opSetDefault = 'e' // key, value -> the value now stored
	opUpdate     = 'u' // dict value
	opLen        = 'l' // -> int
	opContains   = 'h' // key -> bool
	opCopy       = 'C' // -> dict or list
	opClear      = 'z'
	opAppend     = 'a' // value
	opExtend     = 'E' // list value
	opIndexGet   = 'G' // index varint -> item
	opIndexSet   = 'I' // index varint, value
	opListPop    = 'P' // index varint -> item
	opInsert     = 'i' // index varint, value
	opRemove     = 'r' // value
	opReverse    = 'R'
	opValueGet   = 'v'
	opValueSet   = 'V' // value
	opAcquire    = 'A' // timeout in ns (varint; < 0 forever) -> bool
	opRelease    = 'Z'
	opCall       = 'M' // method string, timeout in ns (varint; < 0 none), args list -> value
)

// Object kinds.
const (
	kindDict      = 'd'
	kindList      = 'l'
	kindNamespace = 'n'
	kindValue     = 'v'
	kindLock      = 'k'

	// Served by method name (manager_served.go).
	kindQueue      = 'q' // maxsize varint
	kindEvent      = 'e'
	kindSemaphore  = 's' // value varint, bounded byte
	kindBarrier    = 'b' // parties varint, timeout in ns varint (< 0 none)
	kindArray      = 'a' // typecode string, init list
	kindRegistered = 'R' // typeid string
	kindRLock      = 'r'
	kindCondition  = 'c' // over an RLock of its own
)

// Error kinds of a reply.
const (
	errKindKey      = 'K'
	errKindIndex    = 'I'
	errKindValue    = 'V'
	errKindNotAllow = 'N'
	errKindOther    = 'E'
	errKindEmpty    = 'e'
	errKindFull     = 'f'
	errKindBroken   = 'B'
	errKindTimeout  = 'T'
)

// A server is a manager's server process: it owns the objects and serves
// connections, each with a goroutine doing blocking reads.
type server struct {
	mu    sync.Mutex
	objs  map[uint64]*managedObject
	names map[string]*managedObject
	ids   map[*managedObject]uint64
	next  uint64

	cfg      managerConfig
	token    string
	inflight atomic.Int32  // requests read and not yet answered
	seq      atomic.Uint64 // requests read so far
	done     chan struct{}
	ctx      context.Context // ends at stop: the waits of served objects end with it
	cancel   context.CancelFunc
	stopOnce sync.Once
	path     string // a unix socket file to remove at shutdown

	// The sockets to shut down with the server: listener, connector and
	// every connection (with its link, for a local one), so that a client
	// that asks for the shutdown finds, once answered, that every other
	// client is cut off too.
	sockets map[int]*linkConn
}

func newServer(cfg managerConfig, token string) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{objs: map[uint64]*managedObject{}, names: map[string]*managedObject{}, ids: map[*managedObject]uint64{},
		cfg: cfg, token: token, done: make(chan struct{}), ctx: ctx, cancel: cancel, sockets: map[int]*linkConn{}}
}

func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.path != "" {
			os.Remove(s.path)
		}
		close(s.done)
		s.cancel()
	})
}

// track adds a socket (and its link, if not nil) to shut down with the
// server; it reports false once the server is shutting down.
func (s *server) track(fd int, l *linkConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sockets == nil {
		return false
	}
	s.sockets[fd] = l
	return true
}

func (s *server) untrack(fd int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sockets, fd)
}

// cutOff shuts down every socket but keep: later requests meet their end,
// and new connections are refused. Shutdown, not close, so that no
// descriptor number is reused while another goroutine still uses it; and
// under the lock, which a connection's untrack takes before it closes, so
// that no link is unmapped while it is cut.
func (s *server) cutOff(keep int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sockets := s.sockets
	s.sockets = nil
	if s.path != "" {
		os.Remove(s.path)
	}
	for fd, l := range sockets {
		if fd != keep {
			if l != nil {
				l.cut()
			}
			unix.Shutdown(fd, unix.SHUT_RDWR)
		}
	}
}

// serveConn answers one connection's requests until it closes, sends a
// frame that is too large or malformed (which closes it, and only it), or
// the server shuts down.
func (s *server) serveConn(c *managerConn) {
	defer c.close()
	if !s.track(c.fd, c.l) {
		return
	}
	defer s.untrack(c.fd)
	for {
		req, err := c.readFrame(s.cfg.maxFrame)
		if err != nil {
			return
		}
		s.inflight.Add(1)
		s.seq.Add(1)
		out, ok, shutdown := s.handle(c, req)
		s.inflight.Add(-1)
		if !ok {
			return
		}
		if shutdown {
			s.cutOff(c.fd)
			c.writeFrame(out)
			s.stop()
			return
		}
		err = c.writeFrame(out)
		if err != nil {
			return
		}
	}
}

// reply builders.
func okReply(c *managerConn) []byte { return append(c.startFrame(), 0) }

func errReply(c *managerConn, kind byte, format string, args ...any) []byte {
	msg := fmt.Sprintf(format, args...)
	b := append(c.startFrame(), 1, kind)
	b = binary.AppendUvarint(b, uint64(len(msg)))
	return append(b, msg...)
}

func nilReply(c *managerConn) []byte { return append(okReply(c), tagNil) }

func boolReply(c *managerConn, v bool) []byte {
	if v {
		return append(okReply(c), tagTrue)
	}
	return append(okReply(c), tagFalse)
}

func intReply(c *managerConn, i int) []byte {
	return binary.AppendVarint(append(okReply(c), tagInt), int64(i))
}

func refReply(c *managerConn, kind byte, id uint64) []byte {
	return binary.AppendUvarint(append(okReply(c), tagRef, kind), id)
}

// handle runs one request and returns its reply frame; ok is false for a
// malformed request.
func (s *server) handle(c *managerConn, req []byte) (out []byte, ok, shutdown bool) {
	if len(req) == 0 {
		return nil, false, false
	}
	op := req[0]
	a := &wireReader{b: req[1:], malformed: errMalformed}
	id := a.uvarint()
	if a.err != nil {
		return nil, false, false
	}
	switch op {
	case opShutdown:
		return nilReply(c), a.end(), true
	case opToken:
		t := append(binary.AppendUvarint(append(okReply(c), tagStr), uint64(len(s.token))), s.token...)
		return t, a.end(), false
	case opCreate:
		return s.create(c, a)
	case opLookup:
		name := a.str()
		if !a.end() {
			return nil, false, false
		}
		s.mu.Lock()
		o := s.names[name]
		oid := s.ids[o]
		s.mu.Unlock()
		if o == nil {
			return errReply(c, errKindKey, "no object is exposed as %q", name), true, false
		}
		return refReply(c, o.kind, oid), true, false
	}
	o := s.object(id)
	if o == nil {
		// Not malformed: a proxy may outlive nothing here, but say so.
		a.b = nil
		return errReply(c, errKindOther, "no object %d on this manager", id), true, false
	}
	switch op {
	case opExpose:
		name := a.str()
		if !a.end() {
			return nil, false, false
		}
		s.mu.Lock()
		s.names[name] = o
		o.name = name
		s.mu.Unlock()
		return nilReply(c), true, false
	case opName:
		s.mu.Lock()
		name := o.name
		s.mu.Unlock()
		if name == "" {
			return nilReply(c), a.end(), false
		}
		b := append(binary.AppendUvarint(append(okReply(c), tagStr), uint64(len(name))), name...)
		return b, a.end(), false
	case opAcquire:
		timeout := a.varint()
		if !a.end() || o.kind != kindLock {
			return nil, false, false
		}
		return boolReply(c, s.acquire(o, timeout)), true, false
	case opRelease:
		if !a.end() || o.kind != kindLock {
			return nil, false, false
		}
		select {
		case <-o.lock:
			return nilReply(c), true, false
		default:
			// A SyncManager serves a threading.Lock, whose release of an
			// unlocked lock raises RuntimeError: not the ValueError of a
			// multiprocessing.Lock.
			return errReply(c, errKindNotAllow, "release unlocked lock"), true, false
		}
	case opCall:
		out, ok = s.callReply(c, o, a)
		return out, ok, false
	}
	if o.kind == kindLock || o.served != nil {
		return nil, false, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out, ok = s.objectOp(c, o, op, a)
	return out, ok, false
}

func (s *server) acquire(o *managedObject, timeout int64) bool {
	switch {
	case timeout == 0:
		select {
		case o.lock <- struct{}{}:
			return true
		default:
			return false
		}
	case timeout < 0:
		select {
		case o.lock <- struct{}{}:
			return true
		case <-s.done:
			return false
		}
	}
	t := time.NewTimer(time.Duration(timeout))
	defer t.Stop()
	select {
	case o.lock <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-s.done:
		return false
	}
}

// acceptLoop accepts connections on a listening socket, authenticates them
// and serves them.
func (s *server) acceptLoop(lfd int) {
	if !s.track(lfd, nil) {
		return
	}
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return
		}
		go func() {
			c := newSocketConn(fd)
			// A client that never answers must not hold a goroutine forever.
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10})
			if err := deliverChallenge(c, s.cfg.authkey, s.cfg.skipAuth); err != nil {
				c.close()
				return
			}
			if err := answerChallenge(c, s.cfg.authkey); err != nil && !s.cfg.skipAuth {
				c.close()
				return
			}
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{})
			s.serveConn(c)
		}()
	}
}

// connectorLoop receives the connections of local clients: each is one end
// of a socketpair and the memfd of its link, sent with SCM_RIGHTS over the
// connector.
func (s *server) connectorLoop(fd int) {
	if !s.track(fd, nil) {
		return
	}
	buf := make([]byte, 16)
	oob := make([]byte, unix.CmsgSpace(4*8))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			return // every local client's connector is closed
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			if len(fds) != 2 {
				// Not a client's: a socket and its link.
				for _, fd := range fds {
					unix.Close(fd)
				}
				continue
			}
			go s.serveLink(fds[0], fds[1])
		}
	}
}

// serveLink serves a local client's connection: its socket, and the
// memfd of its link.
func (s *server) serveLink(sock, mem int) {
	seg, err := mapSegment(os.NewFile(uintptr(mem), "mp-manager"), -1)
	if err != nil {
		unix.Close(sock)
		return
	}
	lk := &link{}
	lk.attach(seg)
	if lk.ringSize() <= 0 || lk.ringSize()%4096 != 0 {
		unix.Close(sock)
		lk.close()
		return
	}
	c, err := newLocalConn(lk, sock, true, s.cfg.maxFrame)
	if err != nil {
		return
	}
	s.serveConn(c)
}
