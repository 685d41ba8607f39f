package runner

import (
	"time"

	"golang.org/x/sys/unix"
)

// A timed wait may be measured on the wall clock: CPython's SemLock.acquire
// (and so its Lock, Event, Condition and Queue timeouts) computes an absolute
// deadline from gettimeofday and sleeps in sem_timedwait, which counts
// CLOCK_REALTIME. When that clock steps forward during a run (a virtual
// machine restored or resynchronised, an NTP step), such a wait ends early by
// the step, while the trace, stamped with CLOCK_MONOTONIC, shows it short of
// its timeout. The runner measures how far the two clocks moved apart during
// each run so that a spec can tell that event from a wrong implementation.

// ClockStepLimit is how far the wall clock may move against the monotonic one
// during a run before its timings are not to be judged: NTP's slewing moves
// it by at most 0.5 ms a second, far less than the 1 ms by which the suites
// let a timed wait end early.
const ClockStepLimit = 250 * time.Microsecond

// wallOffset is CLOCK_REALTIME minus CLOCK_MONOTONIC.
func wallOffset() time.Duration {
	var rt, mono unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	return time.Duration(rt.Nano() - mono.Nano())
}

// ClockStepped reports whether the wall clock moved against the monotonic one
// by more than ClockStepLimit during the run.
func (r *Result) ClockStepped() bool {
	return r.ClockStep > ClockStepLimit || r.ClockStep < -ClockStepLimit
}
