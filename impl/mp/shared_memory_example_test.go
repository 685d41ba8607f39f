package mp_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"

	"github.com/mpconform/mpconform/impl/mp"
)

func ExampleCreateSharedMemory() {
	m, err := mp.CreateSharedMemory("", 16)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unlink() // once, in one process: the name goes
	defer m.Close()  // in every process that mapped it
	copy(m.Buf(), "hello")

	// Another process attaches by the name (or gets m as its argument).
	other, err := mp.AttachSharedMemory(m.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	fmt.Println(string(other.Buf()[:5]), other.Size() >= 16)
	// Output: hello true
}

func ExampleNewShareableList() {
	l, err := mp.NewShareableList("", []any{int64(1), "ab", nil})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Unlink()
	defer l.Close()
	l.Set(2, 2.5)
	err = l.Set(1, "much longer than its slot")
	items, _ := l.Items()
	fmt.Println(items, err != nil)
	// Output: [1 ab 2.5] true
}

func ExampleSharedMemoryManager() {
	smm := mp.NewSharedMemoryManager()
	m, err := smm.SharedMemory(64)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	smm.Shutdown() // unlinks m's name; m stays mapped until Close
	_, err = mp.AttachSharedMemory(m.Name())
	fmt.Println(err != nil)
	// Output: true
}

// A SharedMemory is a named segment: every process that attaches by its
// name (or gets the handle as an argument) maps the same bytes. Close ends
// one handle's mapping; Unlink, once, removes the name, and later attaches
// fail with fs.ErrNotExist (CPython's FileNotFoundError).
func ExampleSharedMemory() {
	m, err := mp.CreateSharedMemory("", 8)
	if err != nil {
		log.Fatal(err)
	}
	other, _ := mp.AttachSharedMemory(m.Name())
	m.WriteAt([]byte("abc"), 2)
	b := make([]byte, 3)
	other.ReadAt(b, 2)
	other.Close()
	_, err = other.ReadAt(b, 0)
	closed := errors.Is(err, mp.ErrClosed)
	m.Close()
	m.Unlink()
	_, err = mp.AttachSharedMemory(m.Name())
	fmt.Println(string(b), closed, errors.Is(err, fs.ErrNotExist))
	// Output: abc true true
}

// A ShareableList is a fixed-length list of ints, floats, bools, strings,
// bytes and nils in a segment; another process attaches by its name. A
// string or bytes item keeps the room it was made with.
func ExampleShareableList() {
	l, err := mp.NewShareableList("", []any{"howdy", int64(100), nil, true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Unlink()
	defer l.Close()
	other, _ := mp.AttachShareableList(l.SharedMemory().Name())
	defer other.Close()
	other.Set(2, 2.5)
	i, _ := l.Index(int64(100))
	_, err = l.Index("missing")
	n, _ := l.Count(true)
	v, _ := l.Get(2)
	fmt.Println(l.Len(), i, errors.Is(err, mp.ErrValue), n, v)
	// Output: 4 1 true 1 2.5
}
