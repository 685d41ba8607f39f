package mp

import (
	"encoding/binary"
	"errors"
	"testing"
)

// A local client that writes a frame over the limit, or a malformed one,
// into its link loses that connection, and only it: the server reads the
// link's frames as warily as a socket's.
func TestManagerLinkBadFrames(t *testing.T) {
	m, err := NewManager(ManagerMaxFrame(1 << 10))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	d, err := m.Dict(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, frame := range map[string][]byte{
		"oversized":       binary.LittleEndian.AppendUint64(nil, 1<<40),
		"unknown op":      binary.LittleEndian.AppendUint64(nil, 2),
		"truncated value": binary.LittleEndian.AppendUint64(nil, 5),
	} {
		switch name {
		case "unknown op":
			frame = append(frame, '?', 1)
		case "truncated value":
			frame = append(frame, 's', 1, 's', 200, 'x')
		}
		c, err := m.c.dial()
		if err != nil {
			t.Fatal(err)
		}
		if c.l == nil {
			t.Fatal("a local connection without a link")
		}
		c.l.out.put(frame)
		if _, err := c.readFrame(1 << 10); !errors.Is(err, ErrEOF) {
			t.Errorf("%s: the reply is %v, want the connection closed (EOF)", name, err)
		}
		c.close()
		if err := d.Set(name, true); err != nil {
			t.Fatalf("after %s: %v", name, err)
		}
	}
	if n, err := d.Len(); n != 3 || err != nil {
		t.Errorf("len %d, %v; want 3", n, err)
	}
	if _, exited := m.Process().ExitCode(); exited {
		t.Fatal("the server died")
	}
}
