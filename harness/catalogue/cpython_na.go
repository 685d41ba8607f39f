package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{
	// The sync primitives.
	"_TestLock.test_lock_context": "Python syntax: `with lock:` only calls acquire() and release(), which the lock.* " +
		"behaviours cover; the protocol has no with-statement step for a lock",
	"_TestEvent.test_repr":               "CPython's repr() text of an Event, no multiprocessing semantics",
	"SemLockTests.test_semlock_subclass": "CPython internal: subclassing _multiprocessing.SemLock",
}
