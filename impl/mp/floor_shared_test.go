package mp_test

// The floors on shared memory: a word for a lock or a semaphore, a token,
// a ring.

import (
	"errors"
	"sync/atomic"
)

// onSharedWord calls op with a word of shared memory, in this process only.
func onSharedWord(op func(w *atomic.Uint32) error) error {
	f, mem, err := sharedMem(4096)
	if err != nil {
		return err
	}
	defer closeShared(f, mem)
	return op(word32(mem, 0))
}

var errFloorWord = errors.New("floor: the word does not hold what this process left in it")

func lockFloor(n int, t timer) error {
	return onSharedWord(func(w *atomic.Uint32) error {
		t.ResetTimer()
		for range n {
			if !w.CompareAndSwap(0, 1) {
				return errFloorWord
			}
			w.Swap(0) // a lock's release reads the word: are there sleepers to wake?
		}
		t.StopTimer()
		return nil
	})
}

// semaphoreFloor is lockFloor for a count: a load and a compare-and-swap
// to take one, an add to give it back.
func semaphoreFloor(n int, t timer) error {
	return onSharedWord(func(w *atomic.Uint32) error {
		w.Store(1)
		t.ResetTimer()
		for range n {
			if v := w.Load(); v == 0 || !w.CompareAndSwap(v, v-1) {
				return errFloorWord
			}
			w.Add(1)
		}
		t.StopTimer()
		return nil
	})
}

// withMemPeer runs op with size bytes of memory shared with a child in
// role, and then waits for the child's exit.
func withMemPeer(role string, size, n int, op func(mem []byte, p *peer) error) error {
	f, mem, err := sharedMem(size)
	if err != nil {
		return err
	}
	defer closeShared(f, mem)
	p, err := startPeer(role, f, n)
	if err != nil {
		return err
	}
	defer p.stop()
	return endPeer(op(mem, p), p)
}

// endPeer waits for p's exit after a floor's ops, unless they failed: p
// may then wait for ops that never come, and is killed.
func endPeer(err error, p *peer) error {
	if err != nil {
		return err
	}
	return p.wait()
}

// tokenFloor is n round trips of a token with a child, sleeping on a futex
// or spinning. Round trip 0, which waits for the child to start, is not
// timed.
func tokenFloor(sleep bool) floor {
	role := "spin"
	if sleep {
		role = "futex"
	}
	return func(n int, t timer) error {
		return withMemPeer(role, 4096, n+1, func(mem []byte, p *peer) error {
			tk := token{w: word32(mem, 0), sleep: sleep, alive: p.alive}
			for k := range uint32(n + 1) {
				if k == 1 {
					t.ResetTimer()
				}
				v := 2*k + 1
				tk.pass(v)
				if err := tk.await(v); err != nil {
					return err
				}
			}
			t.StopTimer()
			return nil
		})
	}
}

func queueFloor(n int, t timer) error {
	return withMemPeer("ring", ringSize, n, func(mem []byte, p *peer) error {
		r := newRing(mem, p.alive)
		if err := r.start.await(0); err != nil {
			return err
		}
		t.ResetTimer()
		r.start.pass(2)
		if err := r.consume(n); err != nil {
			return err
		}
		t.StopTimer()
		return nil
	})
}
