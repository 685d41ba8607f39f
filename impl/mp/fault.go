package mp

// Faults are bugs on purpose, for the conformance harness's mutant drivers: each
// breaks one behaviour so that the spec of that behaviour can be shown to fail.
// They are not part of the API: a program reaches them only through a build with
// the mpfault tag (fault_mpfault.go), and this package's tests through
// export_test.go.

// managerDropConcurrentWrites makes the server acknowledge a write without doing
// it when another client's request is pending (or arrives within 2 ms), so that a
// spec that counts concurrent writes can be shown to fail.
func managerDropConcurrentWrites() ManagerOption {
	return func(c *managerConfig) { c.dropConcurrent = true }
}

// managerStaleReads makes the server answer reads from a copy of each object
// taken before its latest write, so a read never sees the last write made.
func managerStaleReads() ManagerOption {
	return func(c *managerConfig) { c.staleReads = true }
}

// managerSkipAuth makes the server accept any authkey, and a client
// (ConnectManager) not check the server's answer to its own challenge.
func managerSkipAuth() ManagerOption {
	return func(c *managerConfig) { c.skipAuth = true }
}

// lostTasksHang makes the pool do what CPython's does when a worker dies while
// it runs a task: the task's result never becomes ready, so a Get without a
// deadline, Map and Join wait for ever.
func lostTasksHang() PoolOption { return func(o *poolOptions) { o.lostHangs = true } }

// faultLostNotifies and faultActionErrorsIgnored are set, before any use, by
// conditionLosesNotifies and barrierIgnoresActionErrors.
var faultLostNotifies, faultActionErrorsIgnored bool

// conditionLosesNotifies makes a Condition's notify count the waiters that timed
// out since the last notify as sleepers still: each takes one of the n
// notifications, which is lost, and a waiter that came after them sleeps on.
func conditionLosesNotifies() { faultLostNotifies = true }

// barrierIgnoresActionErrors makes a Barrier whose action fails let its parties
// pass as if the action had succeeded, instead of breaking.
func barrierIgnoresActionErrors() { faultActionErrorsIgnored = true }
