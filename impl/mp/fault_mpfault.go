//go:build mpfault

package mp

// The faults of fault.go, for a mutant driver built with -tags mpfault.
var (
	ManagerDropConcurrentWrites = managerDropConcurrentWrites
	ManagerStaleReads           = managerStaleReads
	ManagerSkipAuth             = managerSkipAuth
	LostTasksHang               = lostTasksHang
	ConditionLosesNotifies      = conditionLosesNotifies
	BarrierIgnoresActionErrors  = barrierIgnoresActionErrors
)
