package mp_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The floors: for each primitive that the benchmarks of this package
// measure, the least its op costs on this machine, measured in the same
// run, in the same unit, under the primitive's name plus Floor. No floor
// uses mp. `go test -run '^$' -bench 'Lock|Floor' ./impl/mp` puts them
// side by side. A Manager's or a Pool's op is a request and its answer
// between two processes, whose floors are those of BenchmarkPipeRoundTrip.

// A timer is what a floor starts after its setup and stops before its
// teardown: a *testing.B in a benchmark, nothing in a test.
type timer interface {
	ResetTimer()
	StopTimer()
}

// A floor runs n ops of its workload, timed with t.
type floor func(n int, t timer) error

func benchFloor(b *testing.B, f floor) {
	if err := f(b.N, b); errors.Is(err, errNoExitELF) {
		b.Skip(err)
	} else if err != nil {
		b.Fatal(err)
	}
}

// perSecond reports ops per second in unit, as pairs/s or msgs/s.
func perSecond(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// perHandoff reports ns/handoff, for an op of two handoffs.
func perHandoff(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/handoff")
}

// BenchmarkStartJoinFloor: fork, exec and wait for "elf", a static
// executable that only exits, the least a process costs; and for "self",
// this test binary, which exits as soon as its Go runtime and package
// initialization are done, the least a child that is this binary again
// (as mp's children are) costs.
func BenchmarkStartJoinFloor(b *testing.B) {
	b.Run("elf", func(b *testing.B) { benchFloor(b, startJoinFloor(b.TempDir())) })
	b.Run("self", func(b *testing.B) { benchFloor(b, selfStartJoinFloor) })
}

// BenchmarkLockUncontendedFloor: a compare-and-swap and a swap on a word
// of shared memory, the least a lock between processes does.
func BenchmarkLockUncontendedFloor(b *testing.B) {
	benchFloor(b, lockFloor)
	perSecond(b, "pairs/s")
}

// BenchmarkLockHandoffFloor: a round trip of a token through a word of
// shared memory between two processes, two handoffs per op. "futex": each
// sleeps in the kernel until the other wakes it, the least a handoff that
// blocks costs; "spin": each spins on the word, the least any handoff
// costs (a lock that spins before it sleeps lands between the two).
func BenchmarkLockHandoffFloor(b *testing.B) { handoffFloors(b) }

func handoffFloors(b *testing.B) {
	for _, c := range []struct {
		name  string
		sleep bool
	}{{"futex", true}, {"spin", false}} {
		b.Run(c.name, func(b *testing.B) {
			benchFloor(b, tokenFloor(c.sleep))
			perHandoff(b)
		})
	}
}

func BenchmarkSemaphoreFloor(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		benchFloor(b, semaphoreFloor)
		perSecond(b, "pairs/s")
	})
	b.Run("handoff", handoffFloors)
}

// BenchmarkQueueFloor: 8-byte items through a ring in shared memory, from
// a producer process to this one, both spinning.
func BenchmarkQueueFloor(b *testing.B) {
	b.Run("1to1", func(b *testing.B) {
		benchFloor(b, queueFloor)
		perSecond(b, "msgs/s")
	})
}

// BenchmarkPipeRoundTripFloor: "cacheline", a round trip through a word
// of shared memory on which both processes spin, with no system call (the
// least between two CPUs); "socketpair", a 4-byte write and read each way
// on a unix socket (the least through the kernel).
func BenchmarkPipeRoundTripFloor(b *testing.B) {
	b.Run("cacheline", func(b *testing.B) { benchFloor(b, tokenFloor(false)) })
	b.Run("socketpair", func(b *testing.B) { benchFloor(b, socketRoundTripFloor) })
}

// BenchmarkPipeStreamFloor: "memcpy", a copy of a 1 MiB message within
// this process; "socketpair", 1 MiB writes on a unix socket to a process
// that reads them.
func BenchmarkPipeStreamFloor(b *testing.B) {
	b.Run("memcpy", func(b *testing.B) {
		b.SetBytes(streamSize)
		benchFloor(b, memcpyFloor)
	})
	b.Run("socketpair", func(b *testing.B) {
		b.SetBytes(streamSize)
		benchFloor(b, socketStreamFloor)
	})
}

func closeShared(f *os.File, mem []byte) {
	unix.Munmap(mem)
	f.Close()
}

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

// withSocketPeer runs op on this process's end of a socket whose other end
// is a child's in role, then closes it (the child's end of the stream)
// and waits for the child's exit.
func withSocketPeer(role string, n int, op func(fd int) error) error {
	fd, theirs, err := socketPair()
	if err != nil {
		return err
	}
	p, err := startPeer(role, theirs, n)
	theirs.Close()
	if err != nil {
		unix.Close(fd)
		return err
	}
	defer p.stop()
	err = op(fd)
	unix.Close(fd)
	return endPeer(err, p)
}

// socketRoundTripFloor is n round trips with an echoing child; round trip
// 0, which waits for the child to start, is not timed.
func socketRoundTripFloor(n int, t timer) error {
	return withSocketPeer("echo", 0, func(fd int) error {
		msg, back := []byte("ping"), make([]byte, 4)
		for k := range n + 1 {
			if k == 1 {
				t.ResetTimer()
			}
			if err := writeAll(fd, msg); err != nil {
				return err
			}
			if err := readFull(fd, back); err != nil {
				return err
			}
		}
		t.StopTimer()
		return nil
	})
}

// socketStreamFloor times n messages of streamSize bytes, from when the
// child says it is ready to when it says it has them all.
func socketStreamFloor(n int, t timer) error {
	return withSocketPeer("sink", n, func(fd int) error {
		one := make([]byte, 1)
		if err := readFull(fd, one); err != nil {
			return err
		}
		msg := make([]byte, streamSize)
		t.ResetTimer()
		for range n {
			if err := writeAll(fd, msg); err != nil {
				return err
			}
		}
		if err := readFull(fd, one); err != nil {
			return err
		}
		t.StopTimer()
		return nil
	})
}

func memcpyFloor(n int, t timer) error {
	src, dst := make([]byte, streamSize), make([]byte, streamSize)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src) // both buffers' pages are in memory before the timer
	t.ResetTimer()
	for range n {
		copy(dst, src)
	}
	t.StopTimer()
	if !bytes.Equal(dst, src) {
		return errors.New("floor: the copy differs from its source")
	}
	return nil
}

// startJoinFloor writes exitELF into dir and runs it n times.
func startJoinFloor(dir string) floor {
	return func(n int, t timer) error {
		path, err := writeExitELF(dir)
		if err != nil {
			return err
		}
		return forkExecWaitN(n, t, []string{path}, &syscall.ProcAttr{})
	}
}

// selfStartJoinFloor runs this binary n times, as a floor child that
// exits at once.
func selfStartJoinFloor(n int, t timer) error {
	env := append(os.Environ(), envFloorChild+"=exit")
	return forkExecWaitN(n, t, []string{"/proc/self/exe", "0"}, &syscall.ProcAttr{Env: env})
}

// forkExecWaitN runs argv n times, one after the other, timed.
func forkExecWaitN(n int, t timer, argv []string, attr *syscall.ProcAttr) error {
	t.ResetTimer()
	for range n {
		if err := forkExecWait(argv[0], argv, attr); err != nil {
			return err
		}
	}
	t.StopTimer()
	return nil
}

func forkExecWait(path string, argv []string, attr *syscall.ProcAttr) error {
	pid, err := syscall.ForkExec(path, argv, attr)
	// A child that another goroutine forks while the executable is being
	// written holds it open for writing until it execs, a moment.
	for try := 0; errors.Is(err, syscall.ETXTBSY) && try < 100; try++ {
		time.Sleep(time.Millisecond)
		pid, err = syscall.ForkExec(path, argv, attr)
	}
	if err != nil {
		return fmt.Errorf("floor: %s: %w", path, err)
	}
	var ws syscall.WaitStatus
	for {
		if _, err = syscall.Wait4(pid, &ws, 0, nil); !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("floor: waiting for %s: %w", path, err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("floor: %s ended with status %#x", path, uint32(ws))
	}
	return nil
}
