package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both. A
// reason that starts with "gap: " marks a method that does apply and that no
// behaviour covers yet: docs/cpython-tests.md lists it as a gap.
var NotApplicable = map[string]string{
	"TestInitializers.test_manager_initializer": "gap: a manager started with an initializer and its initargs (BaseManager.start(initializer, initargs)): the protocol has no field for it",
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
	// manager, sharedctypes and shared_memory (mgrshm)
	"_TestContainers.test_list_iter": "gap: iteration: no op iterates a proxy (list.copy reads a managed list whole), " +
		"and the test checks the iterator CPython's server keeps for it",
	"_TestContainers.test_dict_iter": "gap: iteration: no op iterates a proxy (dict.copy reads a managed dict whole), " +
		"and the test checks the iterator CPython's server keeps for it",
	"TestSyncManagerTypes.test_pool": "gap: SyncManager.Pool is no resource of the protocol; the test only " +
		"enters and leaves a manager Pool's with-block in a child (bpo-35919)",
	"_TestHeap.test_heap":         "CPython internal: multiprocessing.heap's arena allocator behind sharedctypes",
	"_TestHeap.test_free_from_gc": "CPython internal: heap.BufferWrapper blocks freed by the garbage collector (bpo-12352)",
	"_TestSharedCTypes.test_copy": "ctypes, not multiprocessing: copy.copy of a ctypes Structure that is not shared",
	"_TestSharedMemory.test_shared_memory_recreate": "CPython internal: mocks shared_memory._make_filename so that " +
		"a random name collides",
	"_TestSharedMemory.test_shared_memory_SharedMemoryServer_ignores_sigint": "CPython internal: sends SIGINT to a " +
		"SharedMemoryManager's server process, known only by its private _process (bpo-36368)",
	"_TestSharedMemory.test_shared_memory_SharedMemoryManager_reuses_resource_tracker": "CPython internal: the " +
		"resource_tracker process a SharedMemoryManager shares with its parent (bpo-36867)",
	"TestResourceTracker.test_resource_tracker_sigint": "CPython internal: signals the resource_tracker process " +
		"itself, which must survive SIGINT",
	"TestResourceTracker.test_resource_tracker_sigterm": "CPython internal: signals the resource_tracker process " +
		"itself, which must survive SIGTERM",
	"TestResourceTracker.test_resource_tracker_sigkill": "CPython internal: SIGKILLs the resource_tracker process " +
		"itself, which is relaunched and warns",
	"TestResourceTracker.test_resource_tracker_reused": "CPython internal: a child reuses its parent's " +
		"resource_tracker process",
	"TestResourceTracker.test_too_long_name_resource": "CPython internal: resource_tracker.register refuses a name " +
		"longer than PIPE_BUF allows (gh-96819)",
	// queue, joinable_queue, simple_queue, pipe, connection
	"_TestQueue.test_no_import_lock_contention":          "CPython internal: a Queue used while its module is being imported, against the import lock (bpo-22853)",
	"_TestQueue.test_queue_feeder_donot_stop_onexc":      "CPython internal: the feeder thread going on after an object fails to pickle (bpo-30414); every scenario value pickles",
	"_TestQueue.test_queue_feeder_on_queue_feeder_error": "CPython internal: the _on_queue_feeder_error hook of a Queue subclass (bpo-30006)",
	"_TestConnection.test_fd_transfer":                   "undocumented API: multiprocessing.reduction.send_handle and recv_handle",
	"_TestConnection.test_large_fd_transfer":             "undocumented API: multiprocessing.reduction.send_handle and recv_handle (fd > 256, bpo-11657)",
	"_TestConnection.test_missing_fd_transfer":           "undocumented API: multiprocessing.reduction.recv_handle without a descriptor",
	"_TestPicklingConnections.test_pickling":             "gap: a Connection, or a socket, sent through a Connection (resource_sharer, descriptor passing): the protocol has no value for a connection",
	"_TestPicklingConnections.test_access":               "gap: pipe ends sent through a Connection (descriptor passing): the protocol has no value for a connection",
	"_TestPollEintr.test_poll_eintr":                     "CPython internal: Process.join retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestIgnoreEINTR.test_ignore":                        "CPython internal: Connection.recv and send_bytes retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestIgnoreEINTR.test_ignore_listener":               "CPython internal: Listener.accept retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestInvalidHandle.test_invalid_handles":             "CPython internal: a Connection made from a raw handle (Connection(44977608), Connection(-1)), which is not documented API",
	"TestInvalidFamily.test_invalid_family_win32":        "Windows only: a unix socket path on Windows",
	"TestWait.test_wait_socket":                          "wait over plain socket.socket objects, which are no multiprocessing object: the protocol has no raw sockets (connection.wait covers wait over connections)",
	"TestWait.test_wait_socket_slow":                     "wait over plain socket.socket objects, which are no multiprocessing object: the protocol has no raw sockets (connection.wait covers wait over connections)",
}
