package mp

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A waiter whose condition is about to hold gains by polling it before it
// sleeps: a futex sleep and wake cost microseconds (tens when the CPU was
// idle), a poll nanoseconds. But a poll takes the CPU from whoever would
// make the condition hold when there are more runnable processes than
// CPUs, and wastes it when the wait is long. So each kind of wait has its
// policy, a spinPolicy value below, chosen by measurement.
//
// Every poll in the package but a Conn's (connection.go), which spins for a
// time rather than a count, goes through spinPolicy.spin; all of them know
// when polling cannot pay: on a machine whose every CPU is busy with other
// programs (contended, below).
type spinPolicy struct {
	// min, init and max bound how many times one spin polls: an adaptive
	// limit, kept in a spinState, where 0 stands for init. A policy with
	// min == init == max polls that many times and keeps no state.
	min, init, max uint32
	// grow gives the limit after a spin that paid, shrink after one that
	// ended in a sleep; the result is clamped to [min, max].
	grow, shrink func(limit uint32) uint32
	// Every probeEvery-th spin polls max times, whatever the limit, so that
	// a limit brought down by a busy spell comes back up once polling pays
	// again; 0 for never.
	probeEvery uint32
	// The spin yields its CPU (sched_yield) after every yieldEvery polls,
	// while the limit is above yieldAbove; 0 for never. lateInARow late
	// yields mark the process contended (yield).
	yieldEvery, yieldAbove uint32
	lateInARow             int32
}

// A spinState is what an adaptive policy learns, for one word or one
// connection. In shared memory beside the word, it lets the processes that
// use one primitive learn from each other.
type spinState struct{ limit, probe atomic.Uint32 }

// probeEvery is lockSpin's, and a Conn's, probing period.
const probeEvery = 256

// lockSpin is the policy of lock words, semaphores and a queue's ring. A
// lock held for a short time by a process running on another CPU is often
// free again within a microsecond, while spinning only delays the holder
// when it waits for the very CPU the spinner holds, and wastes that CPU
// when the lock is held long: so a spin that ends with the word free
// doubles the limit, and one that ends in a sleep lowers it by a quarter.
var lockSpin = spinPolicy{
	min: 32, init: 128, max: 16384, probeEvery: probeEvery,
	grow:   func(l uint32) uint32 { return 2 * l },
	shrink: func(l uint32) uint32 { return l - l/4 },
}

// linkSpin is the policy of a link's sides (link.go): a pool's parent and
// its workers, a manager's local clients and its server. It polls for
// about as long as the other side takes to answer on a busy machine (tens
// of microseconds), yielding the CPU now and then: with more busy
// processes than CPUs (two clients and a manager's server on two CPUs, a
// parent and its workers), the process polled for may be waiting for this
// very CPU. A futex sleep and wake cost more than the poll, and a process
// woken on an idle CPU takes longer still to run.
//
// It does not adapt. An adaptive poll (longer after a poll that paid,
// shorter after one that ended in a sleep) collapses: once a side sleeps,
// the other answers late, which shortens its poll, so that it sleeps too,
// until every round trip costs two sleeps. Measured with the pool's and
// the manager's round trips, it had a fifth to a third of this one's
// throughput (pool apply_async round trips: ~135k/s adaptive, ~550k/s
// fixed).
var linkSpin = spinPolicy{min: 4096, init: 4096, max: 4096, yieldEvery: 64, lateInARow: 3}

// socketSpin is the policy of a manager connection over a socket (a
// remote client's, and the server's side of it), whose poll is a
// non-blocking read. Waking a process that sleeps in read takes most of a
// round trip on a busy machine, and a reply often comes within
// microseconds; so a reader polls, yielding the CPU after each poll (to
// the very process it waits for, when there are more runnable processes
// than CPUs), before it sleeps. A poll that found data lets the next one
// go on half as long again, one that did not shortens it by a quarter; and
// it yields only while the limit is above twice its minimum: yielding pays
// while polling does, but once polling stopped paying, a yield to some
// other process of a busy machine may cost a whole time slice.
var socketSpin = spinPolicy{
	min: 4, init: 32, max: 64, yieldEvery: 1, yieldAbove: 2 * 4, lateInARow: 3,
	grow:   func(l uint32) uint32 { return l + l/2 },
	shrink: func(l uint32) uint32 { return l * 3 / 4 },
}

// A policy that yields counts on the process it waits for to run when it
// yields. That holds while the other runnable processes are its peers, which
// run briefly and wait again. On a machine whose CPUs are all busy with
// other programs, a yield hands a whole time slice (milliseconds) to one of
// them, and a poll that yields every few microseconds makes each round trip
// wait for many slices: with two busy loops on two CPUs a manager's 16
// clients took 200 times as long as on an idle machine. So yields that
// come back later than sliceLost mark the process contended
// for contendedFor: until then a yielding policy polls only a few times,
// without yielding, and sleeps, as a wake from the kernel preempts a busy
// loop at once. Then the next yields look again, so an idle machine gets
// its polls back within contendedFor, at the cost of a few time slices each
// contendedFor on a busy one.
const (
	sliceLost    = time.Millisecond // above any peer's poll, below a time slice of the kernel's
	contendedFor = 100 * time.Millisecond
)

// contendedUntil is when the process stops counting as contended, in
// nanoseconds since start.
var contendedUntil atomic.Int64

var spinEpoch = time.Now()

func sinceStart() int64 { return int64(time.Since(spinEpoch)) }

// contended reports whether yields lost time slices within contendedFor.
func contended() bool { return sinceStart() < contendedUntil.Load() }

// yield yields the CPU to another runnable process, and reports whether it
// came back on time: a spin whose yield came back late stops, and sleeps. A
// late yield may be a peer that ran long: more of the package's processes
// than CPUs make that happen on an idle machine, to a link's side more than
// to a pipe's end (a manager with four clients, a pool with four workers, on
// two CPUs, lost half their throughput when one late yield marked them). So
// a waiter says how many late yields in a row (with no yield on time between,
// in whichever spins of the process) tell that other programs take every CPU,
// as busy loops do at every yield; yield then marks the process contended.
func yield(lateInARow int32) bool {
	t := sinceStart()
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	now := sinceStart()
	if now-t <= int64(sliceLost) {
		if lateYields.Load() != 0 { // most yields are on time: leave the word unwritten
			lateYields.Store(0)
		}
		return true
	}
	if lateYields.Add(1) >= lateInARow {
		lateYields.Store(0)
		contendedUntil.Store(now + int64(contendedFor))
	}
	return false
}

// lateYields counts the late yields since the last yield on time.
var lateYields atomic.Int32

// spin calls try until it succeeds, as many times as the policy says, and
// reports whether it succeeded; st holds an adaptive policy's limit, and
// is nil for a fixed one.
func (p *spinPolicy) spin(st *spinState, try func() bool) bool {
	limit, n := p.init, p.init
	if st != nil {
		if l := st.limit.Load(); l != 0 {
			limit = l
		}
		n = limit
		if p.probeEvery != 0 && st.probe.Add(1)%p.probeEvery == 0 {
			n = p.max
		}
	}
	if p.poll(n, limit, try) {
		if st != nil && limit < p.max {
			st.limit.Store(min(p.grow(limit), p.max))
		}
		return true
	}
	if st != nil && limit > p.min && n == limit {
		st.limit.Store(max(p.shrink(limit), p.min))
	}
	return false
}

// poll calls try up to n times, yielding as the policy says while the
// limit is limit.
func (p *spinPolicy) poll(n, limit uint32, try func() bool) bool {
	if p.yieldEvery != 0 && contended() {
		n = min(n, p.yieldEvery) // a few polls, for an answer already on its way
		limit = 0
	}
	if p.yieldEvery == 0 || limit <= p.yieldAbove {
		for range n {
			if try() {
				return true
			}
		}
		return false
	}
	for i := range n {
		if try() {
			return true
		}
		if i%p.yieldEvery == p.yieldEvery-1 && !yield(p.lateInARow) {
			return try()
		}
	}
	return false
}
