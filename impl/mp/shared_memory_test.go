package mp_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

func shmExists(name string) bool {
	_, err := os.Stat("/dev/shm/" + name)
	return err == nil
}

func TestSharedMemoryHandlesShareBytes(t *testing.T) {
	a, err := mp.CreateSharedMemory("", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unlink()
	defer a.Close()
	if a.Size() < 100 || a.Name() == "" || !shmExists(a.Name()) {
		t.Fatalf("created %v: want at least 100 bytes under a name in /dev/shm", a)
	}
	b, err := mp.AttachSharedMemory(a.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.WriteAt([]byte("hello"), 10); err != nil {
		t.Fatal(err)
	}
	if got := b.Buf()[10:15]; !bytes.Equal(got, []byte("hello")) {
		t.Errorf("the other handle reads %q, want hello", got)
	}
	if _, err := a.WriteAt(make([]byte, 2), int64(a.Size()-1)); !errors.Is(err, mp.ErrValue) {
		t.Errorf("a write past the end: %v, want ErrValue", err)
	}
	b.Close()
	if _, err := b.ReadAt(make([]byte, 1), 0); !errors.Is(err, mp.ErrClosed) || b.Buf() != nil {
		t.Errorf("a read after Close: %v, want ErrClosed", err)
	}
	if _, err := a.ReadAt(make([]byte, 1), 0); err != nil {
		t.Errorf("closing one handle closed another: %v", err)
	}
}

func TestSharedMemoryErrors(t *testing.T) {
	name := "mp_test_" + t.Name()
	if _, err := mp.AttachSharedMemory(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("attach to a missing name: %v, want fs.ErrNotExist", err)
	}
	m, err := mp.CreateSharedMemory(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := mp.CreateSharedMemory(name, 8); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create a taken name: %v, want fs.ErrExist", err)
	}
	for _, size := range []int{0, -1} {
		if _, err := mp.CreateSharedMemory("", size); !errors.Is(err, mp.ErrValue) {
			t.Errorf("size %d: %v, want ErrValue", size, err)
		}
	}
	if _, err := mp.CreateSharedMemory("a/b", 8); !errors.Is(err, mp.ErrValue) {
		t.Errorf("a name with a slash: %v, want ErrValue", err)
	}
	if err := m.Unlink(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlink(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a second unlink: %v, want fs.ErrNotExist", err)
	}
	if shmExists(name) {
		t.Errorf("%s is still in /dev/shm after Unlink", name)
	}
}

// shmWriter attaches by name in a child (the handle travels by name) and
// writes what it is told.
type shmWriteArg struct {
	M    *mp.SharedMemory
	Data []byte
}

var shmWriter = mp.Register("shm.writer", func(a shmWriteArg) error {
	defer a.M.Close()
	_, err := a.M.WriteAt(a.Data, 0)
	return err
})

func TestSharedMemoryChildSeesParent(t *testing.T) {
	m, err := mp.CreateSharedMemory("", 16)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unlink()
	defer m.Close()
	p := mp.New(shmWriter, shmWriteArg{M: m, Data: []byte("from the child")})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.ExitCode(); code != 0 {
		t.Fatalf("the child exited %d", code)
	}
	if got := m.Buf()[:14]; string(got) != "from the child" {
		t.Errorf("the parent reads %q", got)
	}
}

func TestShareableList(t *testing.T) {
	l, err := mp.NewShareableList("", []any{int64(1), 2.5, true, "ab", []byte{0, 1}, nil})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlink()
	defer l.Close()
	o, err := mp.AttachShareableList(l.SharedMemory().Name())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := l.Set(3, "abcdefg"); err != nil {
		t.Fatal(err)
	}
	if v, err := o.Get(3); err != nil || v != "abcdefg" {
		t.Errorf("the other handle's item 3: %v, %v", v, err)
	}
	if err := l.Set(3, "abcdefghi"); !errors.Is(err, mp.ErrValue) {
		t.Errorf("a str longer than its slot: %v, want ErrValue", err)
	}
	if _, err := l.Get(6); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("item 6 of 6: %v, want ErrIndex", err)
	}
	if v, _ := l.Get(-1); v != nil {
		t.Errorf("item -1: %v, want nil", v)
	}
	if f, _ := l.Format(); f != "qdxxxxxxx?8s8sxxxxxx?x" {
		t.Errorf("format %q", f)
	}
	if err := l.Set(0, 7.0); err != nil {
		t.Fatal(err)
	}
	if f, _ := l.Format(); f[0] != 'd' {
		t.Errorf("format %q after an int became a float", f)
	}
	if n, _ := l.Count(7); n != 1 {
		t.Errorf("count(7) = %d, want 1 (7.0 == 7)", n)
	}
	if i, err := l.Index(true); err != nil || i != 2 {
		t.Errorf("index(true) = %d, %v", i, err)
	}
	if _, err := l.Index("zz"); !errors.Is(err, mp.ErrValue) {
		t.Errorf("index of an absent value: %v, want ErrValue", err)
	}
}

func TestSharedMemoryManagerUnlinksAtShutdown(t *testing.T) {
	smm := mp.NewSharedMemoryManager()
	m, err := smm.SharedMemory(32)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l, err := smm.ShareableList([]any{"x"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := smm.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if shmExists(m.Name()) || shmExists(l.SharedMemory().Name()) {
		t.Error("a segment outlived its manager's Shutdown")
	}
	if _, err := smm.SharedMemory(8); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("a segment after Shutdown: %v, want ErrClosed", err)
	}
}
