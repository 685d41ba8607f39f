package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{
	// Process and Pool (process, daemon, pool)
	"_TestProcess.test_parent_process":                        "conflicts with process.no-orphans: it needs a grandchild that outlives its terminated parent to see parent_process() die, and the reference kills orphans with their parent (CPython's run on, its xfail there)",
	"_TestProcess.test_set_executable":                        "CPython API outside the protocol: set_executable picks the interpreter that spawn runs",
	"_TestProcess.test_process_mainthread_native_id":          "thread-level: the native id of a child's main thread; the protocol has no threads",
	"_TestProcess.test_lose_target_ref":                       "CPython internal: the Process object drops its reference to the target after start (bpo-30775)",
	"_TestProcess.test_child_fd_inflation":                    "CPython internal: the number of descriptors a spawned child inherits",
	"_TestProcess.test_wait_for_threads":                      "thread-only: a child waits for its non-daemonic threads; the protocol has no threads",
	"_TestProcess.test_error_on_stdio_flush_1":                "CPython internal: a child started with sys.stdout or sys.stderr closed or None",
	"_TestProcess.test_error_on_stdio_flush_2":                "CPython internal: a child that closes or removes its own sys.stdout or sys.stderr",
	"_TestProcess.test_forkserver_sigint":                     "CPython internal: the fork server restarts once SIGINT killed it (forkserver start method only)",
	"_TestProcess.test_forkserver_sigkill":                    "CPython internal: the fork server restarts once SIGKILL killed it (forkserver start method only)",
	"_TestSubclassingProcess.test_subclassing":                "CPython API shape: a Process subclass that overrides run(); a scenario's program is the target",
	"_TestPool.test_map_unplicklable":                         "CPython internal: an argument that cannot be pickled; the protocol's values are JSON",
	"_TestPool.test_map_handle_iterable_exception":            "CPython API shape: an input iterator that raises while map consumes it; a scenario's items are a list",
	"_TestPool.test_imap_handle_iterable_exception":           "CPython API shape: an input iterator that raises while imap consumes it; a scenario's items are a list",
	"_TestPool.test_imap_unordered_handle_iterable_exception": "CPython API shape: an input iterator that raises while imap_unordered consumes it; a scenario's items are a list",
	"_TestPool.test_traceback":                                "CPython internal: the worker's traceback, attached as the exception's __cause__ (RemoteTraceback)",
	"_TestPool.test_release_task_refs":                        "CPython internal: garbage collection of task arguments and results (bpo-29861)",
	"_TestPool.test_resource_warning":                         "CPython internal: the ResourceWarning of a running pool that is garbage-collected",
	"_TestPoolWorkerErrors.test_unpickleable_result":          "CPython internal: a result that cannot be pickled (MaybeEncodingError); the protocol's values are JSON",
	"TestStdinBadfiledescriptor.test_pool_in_process":         "protocol limit: resources are created in main only, so no scenario makes a Pool inside a child",
	"TestStdinBadfiledescriptor.test_flushing":                "CPython internal: a file-like object's buffer across fork; the test starts no process",
	"TestNoForkBomb.test_noforkbomb":                          "CPython internal: a script without the __main__ guard under spawn or forkserver; scenarios are not scripts",
	"TestCloseFds.test_closefd":                               "CPython start-method detail: a spawned or forkserver child does not inherit the parent's descriptors",
	"TestStartMethod.test_context":                            "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_context_check_module_types":         "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_set_get":                            "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_get_all":                            "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_preload_resources":                  "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_mixed_startmethod":                  "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestStartMethod.test_nested_startmethod":                 "start-method API: the start method is the driver's choice (--start-method, one manifest each), not an op of a scenario",
	"TestPoolNotLeakOnFailure.test_release_unused_processes":  "CPython internal: a mocked Process class whose start fails partway through Pool()",
}
