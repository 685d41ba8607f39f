package mp_test

import (
	"fmt"
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
