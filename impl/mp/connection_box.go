package mp

import (
	"os"
	"sync/atomic"
	"time"
)

// A duplex Conn's mailbox: for each direction, one message slot in the
// shared segment, beside the socket. A message that fits goes into the slot
// when the slot is empty, no byte is in flight on the socket, and no
// receiver sleeps in the kernel; a receiver that spins (see connDir) then
// takes it without a system call on either side, where the socket costs a
// write and a read. Otherwise the message goes through the socket, as it
// always did, so the socket alone still carries a pipe whose receiver
// sleeps, whose messages stream or are large, and its end of file.
//
// Order: a process's messages leave it in the order it sends them, and a
// receiver always looks at the slot before the socket: a sender uses the
// slot only when the socket holds nothing it sent before (the byte counts
// are equal), and the slot holds at most one message, so what the slot
// holds is older than anything after it on the socket. A receiver that is
// about to sleep counts itself in sleepers first and then looks at the slot
// again; a sender claims the slot first and then looks at sleepers, and
// gives the slot back if anyone sleeps: one of the two sees the other, so a
// message never waits in the slot for a receiver asleep on the socket.
//
// Kills: the slot's state names the process that writes or reads it. A
// receiver that finds it so held by a process that no longer exists empties
// it (the message was that process's, half written or half read, and is
// lost with it, as bytes a killed process took from a socket would be). A
// receiver killed in its sleep leaves sleepers raised, and the pipe's
// messages then all go through the socket: slower, never wrong.

// boxSize is the most bytes a mailbox message holds. Its pages take memory
// only once a message has reached them.
const boxSize = 16 << 10

// A box word is the slot's phase, with the pid of the process writing or
// reading it.
const (
	boxEmpty   = 0
	boxWriting = 1
	boxFull    = 2
	boxReading = 3
	boxPhase   = 3
	boxPidBit  = 2
)

// connBox is a direction's slot state, in the segment's first page; its
// bytes follow the page.
type connBox struct {
	word     atomic.Uint32 // phase | pid<<boxPidBit
	len      atomic.Uint32
	sleepers atomic.Int32 // receivers asleep on the socket
	_        [52]byte
}

var selfPid = uint32(os.Getpid())

// putBox puts b into the outgoing slot if the rules above allow it, and
// reports whether it did.
func (c *Conn) putBox(b []byte) bool {
	d, box := c.out, c.outBox
	if box == nil || len(b) > boxSize || box.sleepers.Load() != 0 || d.sent.Load() != d.recv.Load() {
		return false
	}
	if !box.word.CompareAndSwap(boxEmpty, boxWriting|selfPid<<boxPidBit) {
		return false
	}
	if box.sleepers.Load() != 0 {
		box.word.Store(boxEmpty)
		return false
	}
	copy(c.outData, b)
	box.len.Store(uint32(len(b)))
	box.word.Store(boxFull)
	return true
}

// takeBox takes the message in the incoming slot, in buf's memory if its
// capacity is enough; ok is false if the slot holds none.
func (c *Conn) takeBox(buf []byte) (b []byte, ok bool) {
	box := c.inBox
	if box == nil || box.word.Load() != boxFull ||
		!box.word.CompareAndSwap(boxFull, boxReading|selfPid<<boxPidBit) {
		return nil, false
	}
	n := box.len.Load()
	if uint32(cap(buf)) >= n {
		b = buf[:n]
	} else {
		b = make([]byte, n)
	}
	copy(b, c.inData[:n])
	box.word.Store(boxEmpty)
	return b, true
}

// boxPending reports whether the incoming slot holds a message or is being
// written one.
func (c *Conn) boxPending() bool {
	if c.inBox == nil {
		return false
	}
	w := c.inBox.word.Load()
	return w&boxPhase == boxFull || w&boxPhase == boxWriting
}

// sleep counts this receiver among the sleepers of its direction, for the
// wait that follows in the kernel; it returns false, counting nothing, if
// the slot holds a message or is about to (the caller then takes it rather
// than sleep). wake undoes a sleep that returned true.
func (c *Conn) sleep() bool {
	box := c.inBox
	if box == nil {
		return true
	}
	box.sleepers.Add(1)
	for {
		w := box.word.Load()
		switch w & boxPhase {
		case boxEmpty:
			return true
		case boxFull:
			box.sleepers.Add(-1)
			return false
		}
		// Being written, or read by another process: wait for it to end,
		// unless its process is gone.
		if !boxHolderAlive(w) {
			box.word.CompareAndSwap(w, boxEmpty)
			continue
		}
		if w&boxPhase == boxWriting {
			box.sleepers.Add(-1)
			return false
		}
		time.Sleep(10 * time.Microsecond)
	}
}

func (c *Conn) wake() {
	if c.inBox != nil {
		c.inBox.sleepers.Add(-1)
	}
}

// awaitBox waits while the incoming slot is being written, then takes what
// it holds; ok is false if it then holds nothing (its writer gave it back,
// or died).
func (c *Conn) awaitBox(buf []byte) (b []byte, ok bool) {
	box := c.inBox
	for i := 0; ; i++ {
		w := box.word.Load()
		switch w & boxPhase {
		case boxFull:
			if b, ok := c.takeBox(buf); ok {
				return b, true
			}
			continue
		case boxEmpty, boxReading:
			return nil, false
		}
		if i%1024 == 1023 {
			if !boxHolderAlive(w) {
				box.word.CompareAndSwap(w, boxEmpty)
				return nil, false
			}
			if i < 1<<16 {
				yield(1)
			} else {
				time.Sleep(20 * time.Microsecond) // a writer stopped, or starved of CPU
			}
		}
	}
}

// boxHolderAlive reports whether the process named in a slot's word exists
// (and is no zombie).
func boxHolderAlive(w uint32) bool {
	state, _, ok, err := procStat(w >> boxPidBit)
	return err != nil || ok && state != 'Z' && state != 'X'
}
