package mp_test

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// A ring is a single-producer single-consumer queue of 8-byte items in
// shared memory: the producer writes a slot and then publishes head, the
// consumer reads it and then publishes tail, and each spins on the other's
// index when the ring is full or empty. Before the first item, the
// producer says it is ready (1) and waits for the consumer's go (2) on the
// start word, so that the consumer times items, not a process's start.
type ring struct {
	start      token
	head, tail *atomic.Uint32
	slots      []uint64
}

const (
	ringCap  = 1024 // items, a power of 2: a uint32 index wraps consistently
	ringOff  = 4096 // the slots' page, after the page of the words
	ringSize = ringOff + ringCap*8
)

func newRing(mem []byte, alive func() bool) ring {
	return ring{
		start: token{w: word32(mem, 0), alive: alive},
		head:  word32(mem, lineSize),
		tail:  word32(mem, 2*lineSize),
		slots: unsafe.Slice((*uint64)(unsafe.Pointer(&mem[ringOff])), ringCap),
	}
}

// produceRing is the ring's producer, in a child: it puts 0, 1, ... n-1.
func produceRing(f *os.File, n int, alive func() bool) error {
	mem, err := mapFile(f)
	if err != nil {
		return err
	}
	r := newRing(mem, alive)
	r.start.pass(1)
	if err := r.start.await(1); err != nil {
		return err
	}
	var head, tail uint32 // tail as last seen
	for k := range n {
		for head-tail == ringCap {
			if tail, err = spinWhile(r.tail, tail, alive); err != nil {
				return err
			}
		}
		r.slots[head%ringCap] = uint64(k)
		head++
		r.head.Store(head) // after the slot: a consumer that sees head sees the slot
	}
	return nil
}

// consume gets n items and checks that they are 0, 1, ... n-1.
func (r ring) consume(n int) error {
	var head, tail uint32 // head as last seen
	for k := range n {
		for tail == head {
			var err error
			if head, err = spinWhile(r.head, head, r.start.alive); err != nil {
				return err
			}
		}
		if v := r.slots[tail%ringCap]; v != uint64(k) {
			return fmt.Errorf("floor: ring item %d is %d", k, v)
		}
		tail++
		r.tail.Store(tail)
	}
	return nil
}
