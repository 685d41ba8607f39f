// Package synchronize holds the specs for the synchronization primitives shared
// between processes: Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition
// and Barrier (CPython's multiprocessing.synchronize). Every check is a relation
// over the trace (interval overlap, counts, order); processes coordinate through
// the primitives themselves, never through bare sleeps, except where a sleep only
// gives a wrong implementation the chance to show itself.
package synchronize

import (
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/trace"
)

// kinds lists the error kinds of records ("" for success).
func kinds(rs []trace.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Kind()
	}
	return out
}

// lastedAtLeast fails unless r took at least ms (scaled) less 1 ms of clock slack:
// a timed wait must not give up before its timeout.
func lastedAtLeast(r trace.Record, d int64) {
	ExpectWithOffset(1, r.T1-r.T0).To(BeNumerically(">=", d-int64(1e6)), "%s returned before its timeout", r)
}
