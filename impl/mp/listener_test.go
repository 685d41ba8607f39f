package mp_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

type dialArg struct {
	Network, Address string
	Key              []byte
}

// dialEcho connects to a Listener and echoes one message back.
var dialEcho = mp.Register("listener.dialEcho", func(a dialArg) error {
	ctx := context.Background()
	var opts []mp.ConnOption
	if a.Key != nil {
		opts = append(opts, mp.ConnAuthKey(a.Key))
	}
	c, err := mp.Dial(ctx, a.Network, a.Address, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := c.RecvBytes(ctx)
	if err != nil {
		return err
	}
	return c.SendBytes(ctx, b)
})

func listen(t *testing.T, network, address string, opts ...mp.ConnOption) *mp.Listener {
	t.Helper()
	l, err := mp.Listen(network, address, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestListenerEchoesWithAChild(t *testing.T) {
	for _, c := range []struct{ network, address string }{
		{"tcp", ""}, {"unix", ""}, {"unix", filepath.Join(t.TempDir(), "l.sock")},
	} {
		t.Run(c.network+" "+c.address, func(t *testing.T) {
			key := []byte("secret")
			l := listen(t, c.network, c.address, mp.ConnAuthKey(key))
			p := start(t, mp.New(dialEcho, dialArg{l.Network(), l.Addr(), key}))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := l.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SendBytes(ctx, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			got, err := conn.RecvBytes(ctx)
			if err != nil || string(got) != "ping" {
				t.Fatalf("echo: %q, %v", got, err)
			}
			if code := join(t, p); code != 0 {
				t.Fatalf("child exit code %d", code)
			}
			if c.network == "tcp" && !strings.HasPrefix(l.LastAccepted(), "127.0.0.1:") {
				t.Fatalf("LastAccepted %q", l.LastAccepted())
			}
		})
	}
}

func TestListenerWrongKeyFailsBothSides(t *testing.T) {
	l := listen(t, "tcp", "", mp.ConnAuthKey([]byte("right")))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dialed := make(chan error, 1)
	go func() {
		c, err := mp.Dial(ctx, "tcp", l.Addr(), mp.ConnAuthKey([]byte("wrong")))
		if err == nil {
			c.Close()
		}
		dialed <- err
	}()
	if _, err := l.Accept(ctx); !errors.Is(err, mp.ErrAuth) {
		t.Fatalf("Accept: %v, want ErrAuth", err)
	}
	if err := <-dialed; !errors.Is(err, mp.ErrAuth) {
		t.Fatalf("Dial: %v, want ErrAuth", err)
	}
}

func TestDialRefusedOnceClosed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.sock")
	for _, c := range []struct{ network, address string }{{"tcp", ""}, {"unix", ""}, {"unix", path}} {
		l, err := mp.Listen(c.network, c.address)
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := mp.Dial(ctx, c.network, addr); !errors.Is(err, mp.ErrRefused) {
			t.Errorf("Dial %s %s after Close: %v, want ErrRefused", c.network, addr, err)
		}
		if _, err := l.Accept(ctx); !errors.Is(err, mp.ErrClosed) {
			t.Errorf("Accept after Close: %v, want ErrClosed", err)
		}
	}
}

func TestAcceptEndsWithContextAndClose(t *testing.T) {
	l := listen(t, "unix", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Accept: %v, want DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, mp.ErrClosed) {
			t.Fatalf("Accept across Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a waiting Accept")
	}
}

func TestListenBadInputs(t *testing.T) {
	if _, err := mp.Listen("udp", ""); err == nil {
		t.Error("Listen udp: no error")
	}
	if _, err := mp.Dial(context.Background(), "tcp", "nohost"); err == nil {
		t.Error("Dial without a port: no error")
	}
	if _, err := mp.Dial(context.Background(), "unix", ""); err == nil {
		t.Error("Dial to an empty unix address: no error")
	}
}

// A second Listen on an address in use fails with ErrAddrInUse, as
// CPython's Listener raises OSError EADDRINUSE; an unknown network, as
// AF_PIPE off Windows, with ErrValue.
func TestListenRefusals(t *testing.T) {
	for _, c := range []struct{ network, address string }{
		{"tcp", ""}, {"unix", ""}, {"unix", filepath.Join(t.TempDir(), "l.sock")},
	} {
		l := listen(t, c.network, c.address)
		if again, err := mp.Listen(l.Network(), l.Addr()); !errors.Is(err, mp.ErrAddrInUse) {
			if again != nil {
				again.Close()
			}
			t.Errorf("%s %q: a second Listen on %s: %v, want ErrAddrInUse", c.network, c.address, l.Addr(), err)
		}
	}
	if _, err := mp.Listen("pipe", `\\.\pipe\x`); !errors.Is(err, mp.ErrValue) {
		t.Errorf("Listen on network pipe: %v, want ErrValue", err)
	}
}
