//go:build !mpfault

package mp

// The faults of fault.go, for this package's external tests.
var (
	ManagerDropConcurrentWrites = managerDropConcurrentWrites
	ManagerStaleReads           = managerStaleReads
	ManagerSkipAuth             = managerSkipAuth
	LostTasksHang               = lostTasksHang
	ConditionLosesNotifies      = conditionLosesNotifies
	BarrierIgnoresActionErrors  = barrierIgnoresActionErrors
)
