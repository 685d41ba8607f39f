package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{
	// Misc classes (MiscTestCase, _TestFinalize, _TestImportStar,
	// _TestLogging, TestFlags, TestInternalDecorators, TestForkAwareThreadLock,
	// TestNamedResource, TestTimeouts): the module's Python surface, the test
	// file's own helpers, the interpreter's internals.
	"MiscTestCase.test__all__":                                  "Python API surface: the names of multiprocessing.__all__; an export list has no counterpart in the protocol",
	"MiscTestCase.test_spawn_sys_executable_none_allows_import": "CPython internal: importing multiprocessing.spawn when sys.executable is None, as in embedded interpreters (a regression from gh-90876)",
	"_TestImportStar.test_import":                               "Python API surface: each multiprocessing module's __all__ names exist; an export list has no counterpart in the protocol",
	"_TestFinalize.test_finalize":                               "CPython internal: multiprocessing.util.Finalize and its exit priorities are undocumented",
	"_TestFinalize.test_thread_safety":                          "CPython internal: util._run_finalizers racing the garbage collector in two threads of one process (bpo-24484)",
	"_TestLogging.test_enable_logging":                          "Python's logging module: get_logger() returns a logging.Logger; the protocol has no logging ops",
	"_TestLogging.test_level":                                   "Python's logging module: a child starts at the level of the parent's multiprocessing logger, or of the root logger; the protocol has no logging ops",
	"TestFlags.test_flags":                                      "CPython internal: the interpreter's command-line flags (sys.flags of -E -S -O) passed on to children and grandchildren",
	"TestInternalDecorators.test_only_run_in_spawn_testsuite":   "CPython test-suite internal: the only_run_in_spawn_testsuite decorator of the test file itself",
	"TestForkAwareThreadLock.test_lock":                         "CPython internal: util.ForkAwareThreadLock must not grow util._afterfork_registry with each generation of children (bpo-17555)",
	"TestNamedResource.test_global_named_resource_spawn":        "CPython internal: spawn re-runs the main module's top level in the child, where a global Semaphore must not leak (gh-90549); a scenario has no main module to re-import",
	"TestTimeouts.test_timeout":                                 "Python runtime: socket.setdefaulttimeout() must not apply to multiprocessing's connections (bpo-6056); the protocol has no process-wide socket setting",
	// The sync primitives.
	"_TestLock.test_lock_context": "Python syntax: `with lock:` only calls acquire() and release(), which the lock.* " +
		"behaviours cover; the protocol has no with-statement step for a lock",
	"_TestEvent.test_repr":               "CPython's repr() text of an Event, no multiprocessing semantics",
	"SemLockTests.test_semlock_subclass": "CPython internal: subclassing _multiprocessing.SemLock",
}
