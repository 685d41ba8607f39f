package mp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
			h, p, err := splitHostPort(address)
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
		sa4, err := inet4(host, port)
		if err != nil {
			return 0, "", "", fmt.Errorf("serve tcp: %w", err)
		}
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
		address = joinHostPort(host, got.(*unix.SockaddrInet4).Port)
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
