package mp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A Listener accepts connections on an address, as CPython's
// multiprocessing.connection.Listener: each Accept returns a duplex Conn
// to a process that called Dial, which may be unrelated to this one. With
// an authkey (ConnAuthKey), both sides prove they know it before the Conn
// is returned, with the handshake of a served manager (manager_auth.go).
//
// A Conn of a Listener has no shared segment with its peer (the two
// processes share nothing but the socket), hence no mailbox: every message
// goes through the socket.
type Listener struct {
	network, addr string
	path          string // a filesystem socket to remove on Close; "" for none
	authkey       []byte
	owner         int // the pid that made it: only it removes path

	mu     sync.Mutex
	fd     int
	closed bool
	last   string
	// accepting counts the Accepts in a system call on fd: Close waits for
	// them before it closes fd, so that fd's number is not reused under
	// them.
	accepting sync.WaitGroup
}

// A ConnOption configures Listen and Dial.
type ConnOption func(*connConfig)

type connConfig struct {
	authkey []byte
}

// ConnAuthKey makes Listen's connections, or Dial's, prove that both sides
// know key; without it there is no handshake (CPython's authkey=None). A
// wrong key fails with ErrAuth on both sides.
func ConnAuthKey(key []byte) ConnOption {
	return func(c *connConfig) { c.authkey = key }
}

// ErrRefused reports a Dial to an address that nobody listens on (CPython's
// ConnectionRefusedError, or FileNotFoundError for a socket path that does
// not exist).
var ErrRefused = errors.New("mp: connection refused")

// ErrAddrInUse reports a Listen on an address that another socket is bound
// to (CPython's OSError EADDRINUSE); errors.Is(err, fs.ErrExist) holds too.
var ErrAddrInUse = fmt.Errorf("mp: address already in use (%w)", fs.ErrExist)

var errListenerClosed = fmt.Errorf("%w: the listener is closed", ErrClosed)

// Listen listens on network "unix" or "tcp"; another network fails with
// ErrValue. A unix address is a socket
// path, or "@name" for a Linux abstract name, or "" for a new abstract name;
// a tcp address is "host:port" with an IPv4 host, "" being 127.0.0.1 on a
// free port. Addr says the address that Dial takes.
func Listen(network, address string, opts ...ConnOption) (*Listener, error) {
	var cfg connConfig
	for _, o := range opts {
		o(&cfg)
	}
	if network != "unix" && network != "tcp" {
		// As CPython's Listener refuses AF_PIPE (a Windows named pipe)
		// elsewhere than on Windows: ValueError.
		return nil, fmt.Errorf("%w: mp: Listen: family %q is not recognized (want unix or tcp)", ErrValue, network)
	}
	fd, addr, path, err := listen(network, address)
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, fmt.Errorf("%w: mp: Listen %s %q", ErrAddrInUse, network, address)
	}
	if err != nil {
		return nil, fmt.Errorf("mp: Listen: %w", err)
	}
	// Accept waits in poll(2): a non-blocking accept then never blocks on
	// a connection that another Accept took first.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		if path != "" {
			os.Remove(path)
		}
		return nil, fmt.Errorf("mp: Listen: %w", err)
	}
	return &Listener{network: network, addr: addr, path: path, authkey: cfg.authkey, owner: os.Getpid(), fd: fd}, nil
}

// Addr returns the address the Listener listens on, as Dial takes it: for
// tcp, "127.0.0.1:port" with the port chosen.
func (l *Listener) Addr() string { return l.addr }

// Network returns the Listener's network, "unix" or "tcp".
func (l *Listener) Network() string { return l.network }

// LastAccepted returns the address of the peer of the last Conn that Accept
// returned: "host:port" for tcp; for unix the peer's name, "" when it has
// none (as a Dial's socket).
func (l *Listener) LastAccepted() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Accept waits for a connection until ctx ends, then, with an authkey,
// makes the handshake, and returns the Conn. A peer with a wrong key fails
// it with ErrAuth (the peer's Dial fails too); a closed Listener with
// ErrClosed.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errListenerClosed
	}
	l.accepting.Add(1)
	l.mu.Unlock()
	fd, peer, err := l.accept(ctx)
	l.accepting.Done()
	if err != nil {
		return nil, err
	}
	c := newSocketEnd(fd, l.network)
	if l.authkey != nil {
		f := connFramer{c, ctx}
		err := deliverChallenge(f, l.authkey, false)
		if err == nil {
			err = answerChallenge(f, l.authkey)
		}
		if err != nil {
			c.Close()
			return nil, handshakeError(err)
		}
	}
	l.mu.Lock()
	l.last = peer
	l.mu.Unlock()
	return c, nil
}

// accept waits for a connection on the listening socket and takes it.
func (l *Listener) accept(ctx context.Context) (int, string, error) {
	for {
		if l.isClosed() {
			return 0, "", errListenerClosed
		}
		fd, sa, err := unix.Accept4(l.fd, unix.SOCK_CLOEXEC)
		switch err {
		case nil:
			return fd, sockaddrString(sa), nil
		case unix.EAGAIN, unix.EINTR, unix.ECONNABORTED:
		default:
			if l.isClosed() {
				return 0, "", errListenerClosed
			}
			return 0, "", fmt.Errorf("mp: Listener: accept: %w", err)
		}
		if err := waitFd(ctx, l.fd, unix.POLLIN); err != nil {
			return 0, "", err
		}
	}
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close stops listening: Accepts waiting fail with ErrClosed, and a
// socket path is removed (by the process that made the Listener), so that
// a Dial to the address then fails with ErrRefused. Closing twice is no
// error. Conns accepted before stay open.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	unix.Shutdown(l.fd, unix.SHUT_RDWR) // wakes the Accepts in poll(2)
	l.accepting.Wait()
	err := unix.Close(l.fd)
	if l.path != "" && os.Getpid() == l.owner {
		err = errors.Join(err, os.Remove(l.path))
	}
	return err
}

// MarshalJSON fails: a Listener stays in the process that made it; pass
// its Addr to the processes that Dial it.
func (l *Listener) MarshalJSON() ([]byte, error) {
	return nil, errors.New("mp: a Listener cannot be passed to a process: pass its Addr")
}

// Dial connects to a Listener's address on network "unix" or "tcp" (see
// Listen), waiting for it to accept until ctx ends, then, with an authkey,
// makes the handshake: a wrong key fails with ErrAuth. An address nobody
// listens on fails with ErrRefused.
func Dial(ctx context.Context, network, address string, opts ...ConnOption) (*Conn, error) {
	var cfg connConfig
	for _, o := range opts {
		o(&cfg)
	}
	sa, family, err := dialAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("mp: Dial: %w", err)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("mp: Dial: socket: %w", err)
	}
	if err := connect(ctx, fd, sa); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("%w: %s %s (%v)", ErrRefused, network, address, err)
		}
		return nil, fmt.Errorf("mp: Dial %s %s: %w", network, address, err)
	}
	// A Conn's descriptor blocks (connection_wait.go).
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: Dial: %w", err)
	}
	c := newSocketEnd(fd, network)
	if cfg.authkey != nil {
		f := connFramer{c, ctx}
		err := answerChallenge(f, cfg.authkey)
		if err == nil {
			err = deliverChallenge(f, cfg.authkey, false)
		}
		if err != nil {
			c.Close()
			return nil, handshakeError(err)
		}
	}
	return c, nil
}

// handshakeError is the error of a handshake that failed: the context's,
// if it ended; else ErrAuth, for a peer that closes the connection in the
// handshake refuses the key.
func handshakeError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return authError(err)
}

// connect connects the non-blocking socket fd to sa, waiting until ctx
// ends.
func connect(ctx context.Context, fd int, sa unix.Sockaddr) error {
	for {
		err := unix.Connect(fd, sa)
		switch err {
		case nil, unix.EISCONN:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			// A unix socket whose backlog is full: try again a little later.
			t := time.NewTimer(time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		case unix.EINPROGRESS, unix.EALREADY:
		default:
			return err
		}
		if err := waitFd(ctx, fd, unix.POLLOUT); err != nil {
			return err
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		if soerr != 0 {
			return unix.Errno(soerr)
		}
		return nil
	}
}

// dialAddr returns the socket address of a Listener's address.
func dialAddr(network, address string) (unix.Sockaddr, int, error) {
	switch network {
	case "unix":
		if address == "" {
			return nil, 0, errors.New("an empty unix address")
		}
		return &unix.SockaddrUnix{Name: address}, unix.AF_UNIX, nil
	case "tcp":
		host, port, err := splitHostPort(address)
		if err != nil {
			return nil, 0, err
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, 0, fmt.Errorf("bad port in %q", address)
		}
		sa, err := inet4(host, p)
		return sa, unix.AF_INET, err
	}
	return nil, 0, fmt.Errorf("network %q: want unix or tcp", network)
}

// newSocketEnd makes the Conn of a connected stream socket.
func newSocketEnd(fd int, network string) *Conn {
	if network == "tcp" {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	return newConn(fd, true, true)
}

// sockaddrString is a peer's address as LastAccepted says it.
func sockaddrString(sa unix.Sockaddr) string {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return joinHostPort(fmt.Sprintf("%d.%d.%d.%d", sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), sa.Port)
	case *unix.SockaddrUnix:
		return sa.Name
	}
	return ""
}

// connFramer carries the handshake over a Conn's messages, each wait
// bounded by ctx.
type connFramer struct {
	c   *Conn
	ctx context.Context
}

func (f connFramer) startFrame() []byte        { return nil }
func (f connFramer) writeFrame(b []byte) error { return f.c.SendBytes(f.ctx, b) }
func (f connFramer) readFrame(max int) ([]byte, error) {
	return f.c.RecvBytesMax(f.ctx, max)
}
