package mp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A Manager is CPython's multiprocessing Manager: a server process that owns
// shared objects (dicts, lists, namespaces, values, locks) and proxies
// through which any process uses them. Each proxy op is one request to the
// server, run atomically there; a read then a write by a client (d[k] += 1)
// is not atomic, as in CPython, unless the client holds a LockProxy
// around it.
//
// The server is a child process started with New, named SyncManager-<k> as
// CPython's; it is daemonic, so a program that ends without Shutdown still
// terminates it, and it dies with its creator (ParentDeathSignal).
//
// Local clients reach the server through a connector: a unix socketpair
// whose client end every process holding a proxy inherits (proxies travel
// to children as arguments of New, as Locks do). To connect, a process
// sends the server, over it (SCM_RIGHTS), one end of a new socketpair and a
// shared-memory link that carries the requests and replies (see
// manager_link.go), so there is no address to guess and nothing in any file
// system or name space; no authentication is needed, as with a memfd,
// holding the fd is the capability. A manager may also serve on an address
// (ManagerServe), for ConnectManager from unrelated processes, with
// CPython's HMAC challenge in both directions.
//
// After Shutdown every proxy op, in every process, fails with ErrClosed:
// the server has exited, so requests in flight meet the end of their
// connection and new connections are refused.
type Manager struct {
	c    *managerClient
	proc *Process // the server, when this process started it
	conn *os.File // the server's end of the connector, until Start returned
}

// A ManagerOption configures NewManager or ConnectManager.
type ManagerOption func(*managerConfig)

type managerConfig struct {
	network, address string // serve on this address ("" for no address)
	authkey          []byte
	maxFrame         int

	// For testing the harness (see the options of the same names).
	dropConcurrent, staleReads, skipAuth bool
}

// ManagerServe makes the server also listen on an address: network "unix"
// (address a path, or "" for a fresh name in the Linux abstract namespace,
// which leaves no file behind) or "tcp" (address "" for 127.0.0.1 on a
// free port). Addr reports it; clients connect with ConnectManager.
func ManagerServe(network, address string) ManagerOption {
	return func(c *managerConfig) { c.network, c.address = network, address }
}

// ManagerAuthKey sets the key that clients connecting to the address must
// prove they know (and the server too, to them). The default is 32 random
// bytes, which AuthKey reports.
func ManagerAuthKey(key []byte) ManagerOption {
	return func(c *managerConfig) { c.authkey = key }
}

// ManagerMaxFrame sets the largest request or reply, in bytes (default
// DefaultMaxFrame): a larger one closes the connection that sent it, so a
// client cannot make the server allocate without bound.
func ManagerMaxFrame(n int) ManagerOption {
	return func(c *managerConfig) { c.maxFrame = n }
}

func newConfig(opts []ManagerOption) managerConfig {
	cfg := managerConfig{maxFrame: DefaultMaxFrame}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// serverArg is what the server process gets.
type serverArg struct {
	Conn     *connectorEnd `json:"conn"`
	Network  string        `json:"network"`
	Address  string        `json:"address"`
	Authkey  []byte        `json:"authkey"`
	MaxFrame int           `json:"max_frame"`
	Token    string        `json:"token"`
	Drop     bool          `json:"drop,omitempty"`
	Stale    bool          `json:"stale,omitempty"`
	Skip     bool          `json:"skip,omitempty"`
}

// connectorEnd is a connector socket passed to a child.
type connectorEnd struct{ f *os.File }

func (c *connectorEnd) MarshalJSON() ([]byte, error) {
	if !passing() {
		return nil, errors.New("mp: a manager can only be encoded as (part of) the argument of a process being started")
	}
	return json.Marshal(passFile(c.f))
}

func (c *connectorEnd) UnmarshalJSON(data []byte) error {
	var i int
	if err := json.Unmarshal(data, &i); err != nil {
		return err
	}
	if c.f = inheritedFile(i); c.f == nil {
		return fmt.Errorf("mp: no inherited file %d: a manager is only passed as the argument of a process", i)
	}
	return nil
}

// serverReady is what the server writes on its connector once it listens:
// the address it serves on, or why it cannot.
type serverReady struct {
	Address string `json:"address"`
	Err     string `json:"err,omitempty"`
}

var managerServer = Register("mp.manager", func(a serverArg) error {
	s := newServer(managerConfig{network: a.Network, address: a.Address, authkey: a.Authkey,
		maxFrame: a.MaxFrame, dropConcurrent: a.Drop, staleReads: a.Stale, skipAuth: a.Skip}, a.Token)
	fd := int(a.Conn.f.Fd())
	ready := serverReady{}
	if a.Network != "" {
		lfd, addr, path, err := listen(a.Network, a.Address)
		if err != nil {
			ready.Err = err.Error()
		} else {
			ready.Address, s.path = addr, path
			go s.acceptLoop(lfd)
		}
	}
	msg, _ := json.Marshal(ready)
	if _, err := unix.SendmsgN(fd, msg, nil, nil, unix.MSG_NOSIGNAL); err != nil || ready.Err != "" {
		return nil
	}
	go s.connectorLoop(fd)
	<-s.done
	return nil
})

// listen opens a listening socket for ManagerServe.
func listen(network, address string) (fd int, addr, path string, err error) {
	var sa unix.Sockaddr
	family, host := unix.AF_UNIX, "127.0.0.1"
	switch network {
	case "unix":
		if address == "" {
			var b [12]byte
			rand.Read(b[:])
			address = "@mp-manager-" + hex.EncodeToString(b[:])
		} else if address[0] != '@' {
			path = address
		}
		sa = &unix.SockaddrUnix{Name: address}
	case "tcp":
		family = unix.AF_INET
		port := 0
		if address != "" {
			h, p, err := net.SplitHostPort(address)
			if err != nil {
				return 0, "", "", err
			}
			if port, err = strconv.Atoi(p); err != nil {
				return 0, "", "", fmt.Errorf("bad port in %q", address)
			}
			if h != "" {
				host = h
			}
		}
		ip := net.ParseIP(host).To4()
		if ip == nil {
			return 0, "", "", fmt.Errorf("serve tcp: %q is not an IPv4 address", host)
		}
		sa4 := &unix.SockaddrInet4{Port: port}
		copy(sa4.Addr[:], ip)
		sa = sa4
	default:
		return 0, "", "", fmt.Errorf("cannot serve on network %q (want unix or tcp)", network)
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, "", "", err
	}
	if family == unix.AF_INET {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return 0, "", "", fmt.Errorf("serve %s %s: %w", network, address, err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return 0, "", "", err
	}
	if family == unix.AF_INET {
		got, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return 0, "", "", err
		}
		address = net.JoinHostPort(host, strconv.Itoa(got.(*unix.SockaddrInet4).Port))
	}
	return fd, address, path, nil
}

// NewManager starts a manager's server process and returns the Manager
// that owns it; call Shutdown when done.
func NewManager(opts ...ManagerOption) (*Manager, error) {
	cfg := newConfig(opts)
	if cfg.network != "" && cfg.authkey == nil {
		cfg.authkey = make([]byte, 32)
		rand.Read(cfg.authkey)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("mp: NewManager: socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "mp-manager")
	serverEnd := os.NewFile(uintptr(fds[1]), "mp-manager-server")
	var tok [16]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	p := New(managerServer, serverArg{Conn: &connectorEnd{serverEnd}, Network: cfg.network, Address: cfg.address,
		Authkey: cfg.authkey, MaxFrame: cfg.maxFrame, Token: token,
		Drop: cfg.dropConcurrent, Stale: cfg.staleReads, Skip: cfg.skipAuth},
		Prefix("SyncManager"), Daemon(true))
	err = p.Start()
	serverEnd.Close() // the server holds it now: its exit is the connector's end
	if err != nil {
		client.Close()
		return nil, err
	}
	// Wait for the server to listen: a client must find the address ready.
	var ready serverReady
	buf := make([]byte, 4096)
	n, err := unix.Read(fds[0], buf)
	for err == unix.EINTR {
		n, err = unix.Read(fds[0], buf)
	}
	if err == nil && n > 0 {
		err = json.Unmarshal(buf[:n], &ready)
	} else if err == nil {
		err = errors.New("the server exited")
	}
	if err == nil && ready.Err != "" {
		err = errors.New(ready.Err)
	}
	if err != nil {
		client.Close()
		p.Kill()
		p.Join(context.Background())
		return nil, fmt.Errorf("mp: NewManager: %w", err)
	}
	cl := &managerClient{token: token, connector: client, network: cfg.network, address: ready.Address,
		authkey: cfg.authkey, maxFrame: cfg.maxFrame}
	return &Manager{c: cl, proc: p}, nil
}

// ConnectManager connects to a manager served on an address (ManagerServe),
// proving it knows authkey; a wrong key fails with ErrAuth, before any
// operation runs. Proxies of the Manager it returns, and the children they
// are passed to, connect the same way. Close releases its connections.
func ConnectManager(network, address string, authkey []byte, opts ...ManagerOption) (*Manager, error) {
	cfg := newConfig(opts)
	cl := &managerClient{network: network, address: address, authkey: authkey, maxFrame: cfg.maxFrame,
		skipAuth: cfg.skipAuth, remote: true}
	var tok string
	if err := cl.do(opToken, 0, nil, func(d *decoder) error {
		v, err := d.value(0)
		tok, _ = v.(string)
		return err
	}); err != nil {
		return nil, err
	}
	cl.token = tok
	return &Manager{c: cl}, nil
}

// remotes shares one client per address among the proxies that a child
// decodes.
var remotes struct {
	sync.Mutex
	byKey map[string]*managerClient
}

func registerRemote(cl *managerClient) *managerClient {
	remotes.Lock()
	defer remotes.Unlock()
	key := cl.network + " " + cl.address + " " + string(cl.authkey)
	if old, ok := remotes.byKey[key]; ok && !old.isClosed() {
		cl.closeConns()
		return old
	}
	if remotes.byKey == nil {
		remotes.byKey = map[string]*managerClient{}
	}
	remotes.byKey[key] = cl
	return cl
}

// Addr returns the network and address the server listens on, if it
// serves on one (ManagerServe).
func (m *Manager) Addr() (network, address string) { return m.c.network, m.c.address }

// AuthKey returns the key that clients of the address must know.
func (m *Manager) AuthKey() []byte { return m.c.authkey }

// Process returns the server process, or nil for a Manager that
// ConnectManager returned.
func (m *Manager) Process() *Process { return m.proc }

// Shutdown stops the server; afterwards every proxy op fails with
// ErrClosed, in every process. Any process holding the Manager may shut it
// down, as any CPython client may; the process that started it also waits
// for the server process to exit. A second Shutdown does nothing.
func (m *Manager) Shutdown() error {
	if m.c.isClosed() {
		return nil
	}
	// The server cuts every other client off, answers, then exits; a lost
	// answer means it is gone already.
	m.c.do(opShutdown, 0, nil, nil)
	m.c.close()
	if m.proc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.proc.Join(ctx); err != nil {
		m.proc.Kill()
		m.proc.Join(context.Background())
	}
	return nil
}

// Close releases this process's connections to the server; later ops of
// this process's proxies fail with ErrClosed. It does not stop the server.
func (m *Manager) Close() error {
	m.c.close()
	return nil
}

// managerJSON is how a Manager, and each proxy's manager, travels to a
// child: the connector (a local client), or the address and key.
type managerJSON struct {
	Type    string        `json:"type"`
	Conn    *connectorEnd `json:"conn,omitempty"`
	Token   string        `json:"token"`
	Network string        `json:"network,omitempty"`
	Address string        `json:"address,omitempty"`
	Authkey []byte        `json:"authkey,omitempty"`
	Max     int           `json:"max"`
	Remote  bool          `json:"remote,omitempty"`
	Skip    bool          `json:"skip,omitempty"`
}

// MarshalJSON encodes the Manager for a child being started; the child's
// Manager can create objects, look up exposed ones and shut the server down.
func (m *Manager) MarshalJSON() ([]byte, error) { return m.c.MarshalJSON() }

// UnmarshalJSON takes, in a child, the Manager its parent passed.
func (m *Manager) UnmarshalJSON(data []byte) error {
	cl, err := decodeClient(data)
	m.c = cl
	return err
}

// An managerClient is a process's way to one manager's server: a pool of
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
		host, port, err := net.SplitHostPort(cl.address)
		if err != nil {
			return nil, fmt.Errorf("mp: manager address %q: %w", cl.address, err)
		}
		p, _ := strconv.Atoi(port)
		ip := net.ParseIP(host).To4()
		if ip == nil {
			return nil, fmt.Errorf("mp: manager address %q: not an IPv4 address", cl.address)
		}
		sa4 := &unix.SockaddrInet4{Port: p}
		copy(sa4.Addr[:], ip)
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
