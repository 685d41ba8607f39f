package mp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
	"golang.org/x/sys/unix"
)

func newManager(t testing.TB, opts ...mp.ManagerOption) *mp.Manager {
	t.Helper()
	m, err := mp.NewManager(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Shutdown()
		if code, exited := m.Process().ExitCode(); !exited {
			t.Errorf("the manager's server has not exited after Shutdown")
		} else if code != 0 {
			t.Errorf("the manager's server exited %d", code)
		}
	})
	return m
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

type tutorialArg struct {
	D *mp.DictProxy
	L *mp.ListProxy
	I int
}

// tutorial is the tutorial's f, as the behaviour manager.final-state has it.
var tutorial = mp.Register("manager.tutorial", func(a tutorialArg) error {
	return errors.Join(a.D.Set(a.I, "1"), a.D.Set("2", 2), a.D.Set(0.25, nil), a.L.Append(a.I))
})

func TestManagerTutorialAcrossProcesses(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	l := must[*mp.ListProxy](t)(m.List([]any{0, 1, 2, 3, 4}))
	var ps []*mp.Process
	for i := range 10 {
		ps = append(ps, start(t, mp.New(tutorial, tutorialArg{d, l, i})))
	}
	for _, p := range ps {
		if code := join(t, p); code != 0 {
			t.Fatalf("%s exited %d", p.Name(), code)
		}
	}
	items := must[mp.Items](t)(d.Copy())
	want := map[any]any{"2": int64(2), 0.25: nil}
	for i := range 10 {
		want[int64(i)] = "1"
	}
	if len(items) != len(want) {
		t.Fatalf("dict %v, want %d keys", items, len(want))
	}
	for _, it := range items {
		if v, ok := want[it.Key]; !ok || v != it.Value {
			t.Errorf("item %#v: want %#v", it, v)
		}
	}
	list := must[[]any](t)(l.Copy())
	if len(list) != 15 || !slices.Equal(list[:5], []any{int64(0), int64(1), int64(2), int64(3), int64(4)}) {
		t.Fatalf("list %v", list)
	}
	tail := slices.Clone(list[5:])
	slices.SortFunc(tail, func(a, b any) int { return int(a.(int64) - b.(int64)) })
	for i, v := range tail {
		if v != int64(i) {
			t.Fatalf("list %v: the tail is no permutation of 0..9", list)
		}
	}
}

func TestManagerTypedKeys(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(mp.Items{{6, "six"}}))
	for _, kv := range [][2]any{{"2", 2}, {0.25, nil}, {[]byte("6"), "bytes"}, {nil, 1.5}} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := mp.Items{{int64(6), "six"}, {"2", int64(2)}, {0.25, nil}, {[]byte("6"), "bytes"}, {nil, 1.5}}
	got := must[mp.Items](t)(d.Copy())
	if len(got) != len(want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	for i := range want {
		if !equalAny(got[i].Key, want[i].Key) || !equalAny(got[i].Value, want[i].Value) {
			t.Errorf("item %d: got %#v, want %#v", i, got[i], want[i])
		}
	}
	// Python's equal keys are one key: 6.0 and 6 (which keeps its form).
	if err := d.Set(6.0, "six again"); err != nil {
		t.Fatal(err)
	}
	if n := must[int](t)(d.Len()); n != 5 {
		t.Errorf("len %d after d[6.0] = ..., want 5", n)
	}
	if v := must[any](t)(d.Get(6)); v != "six again" {
		t.Errorf("d[6] = %#v", v)
	}
	if _, err := d.Get("6"); !errors.Is(err, mp.ErrKey) {
		t.Errorf(`d["6"]: %v, want ErrKey`, err)
	}
	if v := must[any](t)(d.GetDefault("missing", int64(7))); v != int64(7) {
		t.Errorf("get default: %#v", v)
	}
	if err := d.Set([]any{1}, 1); !errors.Is(err, mp.ErrValue) {
		t.Errorf("a list key: %v, want ErrValue", err)
	}
	if v := must[any](t)(d.Pop(0.25)); v != nil {
		t.Errorf("pop 0.25: %#v", v)
	}
	if err := d.Delete(0.25); !errors.Is(err, mp.ErrKey) {
		t.Errorf("del of a popped key: %v", err)
	}
	if v := must[any](t)(d.SetDefault("2", 9)); v != int64(2) {
		t.Errorf("setdefault of a present key: %#v", v)
	}
	if ok := must[bool](t)(d.Contains(nil)); !ok {
		t.Error("None is not a key")
	}
	// Typed reads.
	if n, err := mp.As[int](d.Get("2")); n != 2 || err != nil {
		t.Errorf("As[int] = %v, %v", n, err)
	}
	if f, err := mp.As[float64](d.Get("2")); f != 2 || err != nil {
		t.Errorf("As[float64] of an int = %v, %v", f, err)
	}
	if _, err := mp.As[string](d.Get("2")); !errors.Is(err, mp.ErrValue) {
		t.Errorf("As[string] of an int: %v, want ErrValue", err)
	}
	if _, err := mp.As[uint8](d.GetDefault("x", 300)); !errors.Is(err, mp.ErrValue) {
		t.Errorf("As[uint8] of 300: %v, want ErrValue", err)
	}
	if _, err := mp.As[int](d.Get("absent")); !errors.Is(err, mp.ErrKey) {
		t.Errorf("As of an error: %v, want it passed through", err)
	}
}

func equalAny(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

type nestedArg struct {
	D *mp.DictProxy
	N *mp.NamespaceProxy
	V *mp.ValueProxy
}

// nestedChild appends to the list stored in D["l"], through the proxy it
// reads back, and sets an attribute and the value.
var nestedChild = mp.Register("manager.nested", func(a nestedArg) error {
	v, err := a.D.Get("l")
	if err != nil {
		return err
	}
	l, ok := v.(*mp.ListProxy)
	if !ok {
		return errors.New("d['l'] is no list proxy")
	}
	return errors.Join(l.Append("from child"), a.N.Set("x", 42), a.V.Set(2.5))
})

func TestManagerNestedNamespaceValue(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	l := must[*mp.ListProxy](t)(m.List(nil))
	ns := must[*mp.NamespaceProxy](t)(m.Namespace())
	v := must[*mp.ValueProxy](t)(m.Value("d", 0.5))
	if err := d.Set("l", l); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Get("x"); !errors.Is(err, mp.ErrKey) {
		t.Errorf("a missing attribute: %v, want ErrKey", err)
	}
	p := start(t, mp.New(nestedChild, nestedArg{d, ns, v}))
	if code := join(t, p); code != 0 {
		t.Fatalf("child exited %d", code)
	}
	if got := must[[]any](t)(l.Copy()); !slices.Equal(got, []any{"from child"}) {
		t.Errorf("the list stored in d is not shared: %v", got)
	}
	if x := must[any](t)(ns.Get("x")); x != int64(42) {
		t.Errorf("ns.x = %#v", x)
	}
	if x := must[any](t)(v.Get()); x != 2.5 {
		t.Errorf("value = %#v", x)
	}
	// List semantics.
	must[any](t)(nil, l.Extend([]any{1, 2, 3}))
	must[any](t)(nil, l.Insert(-100, "first"))
	if x := must[any](t)(l.Get(-1)); x != int64(3) {
		t.Errorf("l[-1] = %#v", x)
	}
	if _, err := l.Get(10); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("l[10]: %v, want ErrIndex", err)
	}
	if err := l.Remove(2.0); err != nil { // 2.0 == 2
		t.Error(err)
	}
	if err := l.Remove("absent"); !errors.Is(err, mp.ErrValue) {
		t.Errorf("remove absent: %v, want ErrValue", err)
	}
	must[any](t)(nil, l.Reverse())
	if got := must[[]any](t)(l.Copy()); !slices.Equal(got, []any{int64(3), int64(1), "from child", "first"}) {
		t.Errorf("list %v", got)
	}
	if x := must[any](t)(l.Pop(0)); x != int64(3) {
		t.Errorf("pop(0) = %#v", x)
	}
}

type incrArg struct {
	D    *mp.DictProxy
	Lock *mp.LockProxy // nil: unlocked
	N    int
}

// incr does D["n"] += 1, N times: a read then a write, not atomic.
var incr = mp.Register("manager.incr", func(a incrArg) error {
	ctx := context.Background()
	for range a.N {
		if a.Lock != nil {
			a.Lock.Acquire(ctx)
		}
		v, err := a.D.Get("n")
		if err == nil {
			err = a.D.Set("n", v.(int64)+1)
		}
		if a.Lock != nil {
			if rerr := a.Lock.Release(); rerr != nil {
				return rerr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
})

func TestManagerLockMakesIncrementsExact(t *testing.T) {
	m := newManager(t)
	lock := must[*mp.LockProxy](t)(m.Lock())
	for _, locked := range []bool{false, true} {
		d := must[*mp.DictProxy](t)(m.Dict(mp.Items{{"n", 0}}))
		arg := incrArg{D: d, N: 300}
		if locked {
			arg.Lock = lock
		}
		var ps []*mp.Process
		for range 4 {
			ps = append(ps, start(t, mp.New(incr, arg)))
		}
		for _, p := range ps {
			if code := join(t, p); code != 0 {
				t.Fatalf("%s exited %d", p.Name(), code)
			}
		}
		n := must[any](t)(d.Get("n")).(int64)
		switch {
		case n > 1200 || n < 1:
			// Lost updates may take n far below 300, never above 1200.
			t.Errorf("locked=%v: n = %d: impossible", locked, n)
		case locked && n != 1200:
			t.Errorf("with the lock n = %d, want 1200", n)
		}
		t.Logf("locked=%v: n = %d of 1200", locked, n)
	}
	if err := lock.Release(); !errors.Is(err, mp.ErrNotAllowed) {
		t.Errorf("releasing an unlocked lock: %v, want ErrNotAllowed", err)
	}
	if !lock.TryAcquire() || lock.TryAcquire() {
		t.Error("TryAcquire: want true then false")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := lock.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a timed acquire of a held lock: %v", err)
	}
	// A done context only tries; a cancellation ends a wait.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lock.Acquire(done); !errors.Is(err, context.Canceled) {
		t.Errorf("an acquire of a held lock under a done context: %v", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if err := lock.Acquire(done); err != nil {
		t.Errorf("an acquire of a free lock under a done context: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := lock.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled acquire of a held lock: %v", err)
	}
}

type pollArg struct {
	D    *mp.DictProxy
	Path string
}

// pollUntilClosed sets keys until an op fails, and writes whether that
// failure was ErrClosed.
var pollUntilClosed = mp.Register("manager.poll", func(a pollArg) error {
	for i := 0; ; i++ {
		if err := a.D.Set("child", i); err != nil {
			if i == 0 {
				return writeJSON(a.Path, "failed at once: "+err.Error())
			}
			return writeJSON(a.Path, errors.Is(err, mp.ErrClosed))
		}
		if i == 0 {
			if err := a.D.Set("started", true); err != nil {
				return err
			}
		}
	}
})

func TestManagerShutdownClosesEveryProxy(t *testing.T) {
	m := newManager(t)
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	l := must[*mp.ListProxy](t)(m.List(nil))
	lock := must[*mp.LockProxy](t)(m.Lock())
	lock.TryAcquire()
	path := filepath.Join(t.TempDir(), "closed")
	p := start(t, mp.New(pollUntilClosed, pollArg{d, path}))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := d.Contains("started"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never started setting keys")
		}
	}
	// A goroutine blocked in an acquire must be released by Shutdown too.
	blocked := make(chan error, 1)
	go func() { blocked <- lock.Acquire(context.Background()) }()
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if code := join(t, p); code != 0 {
		t.Fatalf("child exited %d", code)
	}
	var closed any
	readJSON(t, path, &closed)
	if closed != true {
		t.Errorf("the child's proxy failed with something else than ErrClosed: %v", closed)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, mp.ErrClosed) {
			t.Errorf("a blocked acquire ended with %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a blocked acquire still waits after Shutdown")
	}
	for name, op := range map[string]func() error{
		"dict.set":     func() error { return d.Set(1, 1) },
		"list.append":  func() error { return l.Append(1) },
		"lock.release": lock.Release,
		"create":       func() error { _, err := m.Dict(nil); return err },
	} {
		if err := op(); !errors.Is(err, mp.ErrClosed) {
			t.Errorf("%s after Shutdown: %v, want ErrClosed", name, err)
		}
	}
	if err := m.Shutdown(); err != nil {
		t.Errorf("a second Shutdown: %v", err)
	}
}

type remoteArg struct {
	M    *mp.Manager // a Manager returned by ConnectManager
	Path string
}

// remoteChild looks up "d" through a connected manager passed to it, and
// sets a key.
var remoteChild = mp.Register("manager.remote", func(a remoteArg) error {
	p, err := a.M.Proxy("d")
	if err != nil {
		return err
	}
	return p.(*mp.DictProxy).Set("remote child", true)
})

func TestManagerRemote(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "m.sock")
	for _, tc := range []struct{ network, address string }{{"unix", ""}, {"unix", sock}, {"tcp", ""}} {
		t.Run(tc.network+"/"+filepath.Base(tc.address), func(t *testing.T) {
			key := []byte("secret")
			m := newManager(t, mp.ManagerServe(tc.network, tc.address), mp.ManagerAuthKey(key))
			network, addr := m.Addr()
			if network != tc.network || addr == "" {
				t.Fatalf("Addr() = %q %q", network, addr)
			}
			if tc.network == "unix" && tc.address == "" && !strings.HasPrefix(addr, "@") {
				t.Errorf("a unix address without a path should be abstract, got %q", addr)
			}
			d := must[*mp.DictProxy](t)(m.Dict(nil))
			if err := m.Expose("d", d); err != nil {
				t.Fatal(err)
			}
			if _, err := mp.ConnectManager(network, addr, []byte("wrong")); !errors.Is(err, mp.ErrAuth) {
				t.Fatalf("a wrong key: %v, want ErrAuth", err)
			}
			c, err := mp.ConnectManager(network, addr, key)
			if err != nil {
				t.Fatal(err)
			}
			p := must[mp.Proxy](t)(c.Proxy("d"))
			if err := p.(*mp.DictProxy).Set("remote", 1); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Proxy("nothing"); !errors.Is(err, mp.ErrKey) {
				t.Errorf("an unexposed name: %v, want ErrKey", err)
			}
			child := start(t, mp.New(remoteChild, remoteArg{M: c}))
			if code := join(t, child); code != 0 {
				t.Fatalf("child exited %d", code)
			}
			if n := must[int](t)(d.Len()); n != 2 {
				items, _ := d.Copy()
				t.Errorf("dict %v, want the remote and the remote child's keys", items)
			}
			// Any client may shut the server down, as in CPython.
			if err := c.Shutdown(); err != nil {
				t.Fatal(err)
			}
			if err := d.Set("after", 1); !errors.Is(err, mp.ErrClosed) {
				t.Errorf("the owner's proxy after a client's Shutdown: %v, want ErrClosed", err)
			}
			if code := join(t, m.Process()); code != 0 {
				t.Errorf("the server exited %d", code)
			}
			if _, err := mp.ConnectManager(network, addr, key); !errors.Is(err, mp.ErrClosed) {
				t.Errorf("connecting after Shutdown: %v, want ErrClosed", err)
			}
			if tc.address != "" {
				if _, err := os.Stat(tc.address); !os.IsNotExist(err) {
					t.Errorf("the socket file is left behind: %v", err)
				}
			}
			if strings.HasPrefix(addr, "@") {
				data, _ := os.ReadFile("/proc/net/unix")
				if strings.Contains(string(data), addr[1:]) {
					t.Errorf("the abstract socket %s is still bound", addr)
				}
			}
		})
	}
}

// handshake authenticates a raw connection as a client, as CPython's
// answer_challenge then deliver_challenge (3.12, sha256).
func handshake(t *testing.T, c *os.File, key []byte) {
	t.Helper()
	mac := func(msg []byte) []byte {
		h := hmac.New(sha256.New, key)
		h.Write(msg)
		return append([]byte("{sha256}"), h.Sum(nil)...)
	}
	msg := readFrame(t, c)
	if !strings.HasPrefix(string(msg), "#CHALLENGE#{sha256}") {
		t.Fatalf("challenge %q", msg)
	}
	writeFrame(t, c, mac(msg[len("#CHALLENGE#"):]))
	if v := readFrame(t, c); string(v) != "#WELCOME#" {
		t.Fatalf("verdict %q", v)
	}
	challenge := []byte("{sha256}random enough for a test")
	writeFrame(t, c, append([]byte("#CHALLENGE#"), challenge...))
	if d := readFrame(t, c); !hmac.Equal(d, mac(challenge)) {
		t.Fatal("the server does not know the key")
	}
	writeFrame(t, c, []byte("#WELCOME#"))
}

// dial connects a raw socket to a manager, with golang.org/x/sys/unix: a test
// that imported package net would make this test binary dynamically linked,
// and its children slower to start than a program's (see manager_addr.go).
func dial(network, addr string) (*os.File, error) {
	var sa unix.Sockaddr = &unix.SockaddrUnix{Name: addr}
	family := unix.AF_UNIX
	if network == "tcp" {
		i := strings.LastIndexByte(addr, ':')
		port, err := strconv.Atoi(addr[i+1:])
		if err != nil {
			return nil, err
		}
		sa4 := &unix.SockaddrInet4{Port: port}
		copy(sa4.Addr[:], netip.MustParseAddr(addr[:i]).AsSlice())
		sa, family = sa4, unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, err
	}
	unix.SetNonblock(fd, true) // so that deadlines work
	return os.NewFile(uintptr(fd), network+":"+addr), nil
}

func readFrame(t *testing.T, c *os.File) []byte {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFrame(t *testing.T, c *os.File, b []byte) {
	t.Helper()
	if _, err := c.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(b)))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// closedByServer reports whether the server closes c (within a while).
func closedByServer(c *os.File) bool {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.ReadAll(c)
	// EOF (io.ReadAll returns nil), or a reset for the bytes it did not read.
	return err == nil || errors.Is(err, syscall.ECONNRESET)
}

func TestManagerMalformedFramesCloseOnlyTheirConnection(t *testing.T) {
	key := []byte("k")
	m := newManager(t, mp.ManagerServe("tcp", ""), mp.ManagerAuthKey(key), mp.ManagerMaxFrame(1<<10))
	_, addr := m.Addr()
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	m.Expose("d", d)
	other := must[*mp.Manager](t)(mp.ConnectManager("tcp", addr, key))
	od := must[mp.Proxy](t)(other.Proxy("d")).(*mp.DictProxy)

	var wg sync.WaitGroup
	bad := map[string]func(c *os.File){
		"garbage before the handshake": func(c *os.File) { c.Write([]byte("GET / HTTP/1.0\r\n\r\n")) },
		"oversized handshake":          func(c *os.File) { readFrame(t, c); writeFrame(t, c, make([]byte, 300)) },
		"oversized frame": func(c *os.File) {
			handshake(t, c, key)
			c.Write(binary.LittleEndian.AppendUint32(nil, 1<<30))
		},
		"unknown op": func(c *os.File) { handshake(t, c, key); writeFrame(t, c, []byte{'?', 1}) },
		"truncated value": func(c *os.File) {
			handshake(t, c, key)
			writeFrame(t, c, []byte{'s', 1, 's', 200, 'x'})
		},
		"deep nesting": func(c *os.File) {
			handshake(t, c, key)
			b := []byte{'s', 1, 's', 0}
			for range 10000 {
				b = append(b, 'l', 1)
			}
			writeFrame(t, c, append(b, 'N')[:1<<10])
		},
		"empty frame": func(c *os.File) { handshake(t, c, key); writeFrame(t, c, nil) },
	}
	for name, send := range bad {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			send(c)
			if !closedByServer(c) {
				t.Errorf("%s: the server did not close the connection", name)
			}
		}()
		// Another client goes on meanwhile.
		if err := od.Set(name, true); err != nil {
			t.Fatalf("after %s: %v", name, err)
		}
	}
	wg.Wait()
	if n := must[int](t)(d.Len()); n != len(bad) {
		t.Errorf("len %d, want %d", n, len(bad))
	}
	if _, exited := m.Process().ExitCode(); exited {
		t.Fatal("the server died")
	}
}

// The options for testing the harness break what they say, so that the
// mutants built on them fail their specs.
func TestManagerHarnessSeams(t *testing.T) {
	t.Run("stale reads", func(t *testing.T) {
		m := newManager(t, mp.ManagerStaleReads())
		d := must[*mp.DictProxy](t)(m.Dict(nil))
		must[any](t)(nil, d.Set(1, 1))
		if _, err := d.Get(1); !errors.Is(err, mp.ErrKey) {
			t.Errorf("the read after the first write: %v, want ErrKey (stale)", err)
		}
		must[any](t)(nil, d.Set(2, 2))
		if v, err := d.Get(1); v != int64(1) || err != nil {
			t.Errorf("d[1] = %v, %v after a second write", v, err)
		}
	})
	t.Run("skip auth", func(t *testing.T) {
		m := newManager(t, mp.ManagerServe("tcp", ""), mp.ManagerAuthKey([]byte("a")), mp.ManagerSkipAuth())
		_, addr := m.Addr()
		c, err := mp.ConnectManager("tcp", addr, []byte("b"), mp.ManagerSkipAuth())
		if err != nil {
			t.Fatalf("a wrong key: %v, want accepted", err)
		}
		c.Close()
	})
	t.Run("drop concurrent writes", func(t *testing.T) {
		m := newManager(t, mp.ManagerDropConcurrentWrites())
		d := must[*mp.DictProxy](t)(m.Dict(nil))
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range 30 {
					d.Set(g*100+k, k)
				}
			}()
		}
		wg.Wait()
		if n := must[int](t)(d.Len()); n >= 60 {
			t.Errorf("len %d: no write was dropped", n)
		}
	})
}

func fdList(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range entries {
		// mp keeps /dev/null open for children's stdin, once one started.
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); target != os.DevNull {
			fds = append(fds, e.Name()+" "+target)
		}
	}
	return fds
}

// After Shutdown nothing is left: no server process, no descriptor in this
// process (connections, connector), nothing bound.
func TestManagerLeavesNothing(t *testing.T) {
	before := fdList(t)
	m, err := mp.NewManager(mp.ManagerServe("unix", ""))
	if err != nil {
		t.Fatal(err)
	}
	_, addr := m.Addr()
	d := must[*mp.DictProxy](t)(m.Dict(nil))
	l := must[*mp.ListProxy](t)(m.List(nil))
	p := start(t, mp.New(tutorial, tutorialArg{d, l, 1}))
	if code := join(t, p); code != 0 {
		t.Fatalf("child exited %d", code)
	}
	c := must[*mp.Manager](t)(mp.ConnectManager("unix", addr, m.AuthKey()))
	if _, err := c.Proxy("nothing"); !errors.Is(err, mp.ErrKey) { // a connection was made
		t.Errorf("Proxy: %v, want ErrKey", err)
	}
	c.Close()
	pid := m.Process().Pid()
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		t.Errorf("the server %d still runs", pid)
	}
	if after := fdList(t); len(after) > len(before) {
		t.Errorf("descriptors left open:\nbefore %q\nafter  %q", before, after)
	}
	data, _ := os.ReadFile("/proc/net/unix")
	if strings.Contains(string(data), addr[1:]) {
		t.Errorf("the abstract socket %s is still bound", addr)
	}
}

// A client that connects and never answers the challenge is dropped, and
// does not keep the server from serving others meanwhile.
func TestManagerSilentClient(t *testing.T) {
	m := newManager(t, mp.ManagerServe("unix", ""))
	_, addr := m.Addr()
	silent, err := dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := must[*mp.Manager](t)(mp.ConnectManager("unix", addr, m.AuthKey()))
	defer c.Close()
	d := must[*mp.DictProxy](t)(c.Dict(nil))
	if err := d.Set(1, 1); err != nil {
		t.Fatal(err)
	}
}
