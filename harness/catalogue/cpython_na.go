package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{
	// manager, sharedctypes and shared_memory (mgrshm)
	"_TestContainers.test_list_iter": "iteration: no op iterates a proxy (list.copy reads a managed list whole), " +
		"and the test checks the iterator CPython's server keeps for it",
	"_TestContainers.test_dict_iter": "iteration: no op iterates a proxy (dict.copy reads a managed dict whole), " +
		"and the test checks the iterator CPython's server keeps for it",
	"TestSyncManagerTypes.test_pool": "not covered: SyncManager.Pool is no resource of the protocol; the test only " +
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
}
