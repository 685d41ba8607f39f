package mp

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// A managerClient is a process's way to one manager's server: a pool of
// connections, so that goroutines do not wait for one another's requests.
type managerClient struct {
	token     string
	connector *os.File // local: the connector's client end
	network   string   // remote, or the served address of a local manager
	address   string
	authkey   []byte
	maxFrame  int
	skipAuth  bool
	remote    bool

	mu     sync.Mutex
	free   []*managerConn
	closed bool
}

var errManagerClosed = fmt.Errorf("%w: the manager is shut down", ErrClosed)

func (cl *managerClient) isClosed() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.closed
}

func (cl *managerClient) close() {
	cl.mu.Lock()
	cl.closed = true
	connector := cl.connector
	cl.mu.Unlock()
	cl.closeConns()
	if connector != nil {
		connector.Close()
	}
}

func (cl *managerClient) closeConns() {
	cl.mu.Lock()
	free := cl.free
	cl.free = nil
	cl.mu.Unlock()
	for _, c := range free {
		c.close()
	}
}

// get returns a free connection, or a new one.
func (cl *managerClient) get() (*managerConn, error) {
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		return nil, errManagerClosed
	}
	if n := len(cl.free); n > 0 {
		c := cl.free[n-1]
		cl.free = cl.free[:n-1]
		cl.mu.Unlock()
		return c, nil
	}
	cl.mu.Unlock()
	return cl.dial()
}

func (cl *managerClient) put(c *managerConn) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closed || len(cl.free) >= 64 {
		c.close()
		return
	}
	cl.free = append(cl.free, c)
}

// dial opens a connection: through the connector, or to the address.
func (cl *managerClient) dial() (*managerConn, error) {
	if !cl.remote {
		return cl.dialLocal()
	}
	var sa unix.Sockaddr
	family := unix.AF_UNIX
	switch cl.network {
	case "unix":
		sa = &unix.SockaddrUnix{Name: cl.address}
	case "tcp":
		host, port, err := splitHostPort(cl.address)
		if err != nil {
			return nil, fmt.Errorf("mp: manager %w", err)
		}
		p, _ := strconv.Atoi(port)
		sa4, err := inet4(host, p)
		if err != nil {
			return nil, fmt.Errorf("mp: manager address %q: %w", cl.address, err)
		}
		sa, family = sa4, unix.AF_INET
	default:
		return nil, fmt.Errorf("mp: manager network %q: want unix or tcp", cl.network)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for err = unix.Connect(fd, sa); err == unix.EINTR; err = unix.Connect(fd, sa) {
	}
	if err != nil {
		unix.Close(fd)
		if err == unix.ECONNREFUSED || err == unix.ENOENT {
			return nil, fmt.Errorf("%w (%s %s: %v)", errManagerClosed, cl.network, cl.address, err)
		}
		return nil, fmt.Errorf("mp: connecting to the manager at %s %s: %w", cl.network, cl.address, err)
	}
	if family == unix.AF_INET {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	c := newSocketConn(fd)
	if err := answerChallenge(c, cl.authkey); err != nil {
		c.close()
		return nil, authError(err)
	}
	if err := deliverChallenge(c, cl.authkey, cl.skipAuth); err != nil {
		c.close()
		return nil, authError(err)
	}
	return c, nil
}

// dialLocal opens a local connection: a new link and socketpair, whose
// server ends it sends through the connector.
func (cl *managerClient) dialLocal() (*managerConn, error) {
	lk, err := newLinkSize("manager", managerRingSize)
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		lk.close()
		return nil, fmt.Errorf("mp: manager: socketpair: %w", err)
	}
	// Control keeps the connector's descriptor from being closed (and
	// its number reused) under the send, should Shutdown close it.
	rc, err := cl.connector.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			rights := unix.UnixRights(fds[1], int(lk.seg.file.Fd()))
			err = unix.Sendmsg(int(fd), []byte{0}, rights, nil, unix.MSG_NOSIGNAL)
		})
		err = errors.Join(cerr, err)
	}
	unix.Close(fds[1])
	if err != nil {
		unix.Close(fds[0])
		lk.close()
		return nil, fmt.Errorf("%w (%v)", errManagerClosed, err)
	}
	return newLocalConn(lk, fds[0], false, cl.maxFrame)
}

// authError makes a connection the server closed during the handshake an
// ErrAuth: that is how a server refuses a key.
func authError(err error) error {
	if errors.Is(err, ErrAuth) {
		return err
	}
	return fmt.Errorf("%w: the handshake failed (%v)", ErrAuth, err)
}

// do sends one request (op, id, then what enc appends) and decodes the
// reply with dec (which may be nil). A reply that is an error is returned
// as one wrapping ErrKey, ErrIndex, ErrValue...; a lost connection is
// ErrClosed.
func (cl *managerClient) do(op byte, id uint64, enc func(b []byte) ([]byte, error), dec func(d *decoder) error) error {
	c, err := cl.get()
	if err != nil {
		return err
	}
	b := binary.AppendUvarint(append(c.startFrame(), op), id)
	if enc != nil {
		if b, err = enc(b); err != nil {
			cl.put(c)
			return err
		}
	}
	if len(b)-c.hdr > cl.maxFrame {
		cl.put(c)
		return fmt.Errorf("%w: a request of %d bytes exceeds the frame limit of %d", ErrValue, len(b)-c.hdr, cl.maxFrame)
	}
	if err := c.writeFrame(b); err != nil {
		c.close()
		return fmt.Errorf("%w (%v)", errManagerClosed, err)
	}
	resp, err := c.readFrame(cl.maxFrame)
	if err != nil {
		c.close()
		return fmt.Errorf("%w (%v)", errManagerClosed, err)
	}
	err = cl.reply(resp, dec)
	cl.put(c)
	return err
}

func (cl *managerClient) reply(resp []byte, dec func(d *decoder) error) error {
	if len(resp) == 0 {
		return errMalformed
	}
	if resp[0] == 1 {
		if len(resp) < 2 {
			return errMalformed
		}
		l, n := binary.Uvarint(resp[2:])
		if n <= 0 || l > uint64(len(resp)-2-n) {
			return errMalformed
		}
		msg := string(resp[2+n : 2+n+int(l)])
		switch resp[1] {
		case errKindKey:
			return fmt.Errorf("%w: %s", ErrKey, msg)
		case errKindIndex:
			return fmt.Errorf("%w: %s", ErrIndex, msg)
		case errKindValue:
			return fmt.Errorf("%w: %s", ErrValue, msg)
		case errKindNotAllow:
			return fmt.Errorf("%w: %s", ErrNotAllowed, msg)
		case errKindEmpty:
			return sentinelError(ErrEmpty, msg)
		case errKindFull:
			return sentinelError(ErrFull, msg)
		case errKindBroken:
			return sentinelError(ErrBroken, msg)
		case errKindTimeout:
			return sentinelError(context.DeadlineExceeded, msg)
		}
		return fmt.Errorf("mp: manager: %s", msg)
	}
	if dec == nil {
		return nil
	}
	return dec(&decoder{wireReader: wireReader{b: resp[1:], malformed: errMalformed}, cl: cl})
}

func (cl *managerClient) MarshalJSON() ([]byte, error) {
	if !passing() {
		return nil, errors.New("mp: a manager or proxy can only be encoded as (part of) the argument of a process being started")
	}
	if cl.isClosed() {
		return nil, errManagerClosed
	}
	j := managerJSON{Type: "manager", Token: cl.token, Network: cl.network, Address: cl.address,
		Authkey: cl.authkey, Max: cl.maxFrame, Remote: cl.remote, Skip: cl.skipAuth}
	if !cl.remote {
		// A local client needs no key, but a child connecting to the
		// manager's address (as CPython's, which inherit their parent's
		// authkey) does.
		j.Conn = &connectorEnd{cl.connector}
	}
	return json.Marshal(j)
}

// inheritedClients shares one client per inherited connector among the
// proxies a child decodes.
var inheritedClients struct {
	sync.Mutex
	byToken map[string]*managerClient
}

func decodeClient(data []byte) (*managerClient, error) {
	var j managerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, err
	}
	if j.Type != "manager" {
		return nil, fmt.Errorf("mp: decoding a manager from a %q", j.Type)
	}
	if j.Remote {
		cl := &managerClient{token: j.Token, network: j.Network, address: j.Address, authkey: j.Authkey,
			maxFrame: j.Max, skipAuth: j.Skip, remote: true}
		return registerRemote(cl), nil
	}
	if j.Conn == nil {
		return nil, errors.New("mp: a local manager without its connector")
	}
	inheritedClients.Lock()
	defer inheritedClients.Unlock()
	if cl, ok := inheritedClients.byToken[j.Token]; ok {
		return cl, nil
	}
	cl := &managerClient{token: j.Token, connector: j.Conn.f, network: j.Network, address: j.Address, authkey: j.Authkey,
		maxFrame: j.Max}
	if inheritedClients.byToken == nil {
		inheritedClients.byToken = map[string]*managerClient{}
	}
	inheritedClients.byToken[j.Token] = cl
	return cl, nil
}

// sentinelError is err, with msg when the server gave one.
func sentinelError(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, msg)
}
