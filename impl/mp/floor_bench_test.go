package mp_test

import (
	"bytes"
	"errors"
	"testing"
)

// The floors: for each primitive that the benchmarks of this package
// measure, the least its op costs on this machine, measured in the same
// run, in the same unit, under the primitive's name plus Floor. No floor
// uses mp. A Manager's or a Pool's op is a request and its answer between
// two processes, whose floors are those of BenchmarkPipeRoundTrip. Sorted,
// the output of
//
//	go test -run '^$' -bench '^Benchmark(StartJoin|LockUncontended|LockHandoff|Semaphore|Queue|PipeRoundTrip|PipeStream)(Floor)?$' ./impl/mp
//
// puts each floor beside its primitive.

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
