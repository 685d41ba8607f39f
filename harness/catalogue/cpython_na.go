package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{
	// queue, joinable_queue, simple_queue, pipe, connection
	"_TestQueue.test_no_import_lock_contention":          "CPython internal: a Queue used while its module is being imported, against the import lock (bpo-22853)",
	"_TestQueue.test_queue_feeder_donot_stop_onexc":      "CPython internal: the feeder thread going on after an object fails to pickle (bpo-30414); every scenario value pickles",
	"_TestQueue.test_queue_feeder_on_queue_feeder_error": "CPython internal: the _on_queue_feeder_error hook of a Queue subclass (bpo-30006)",
	"_TestConnection.test_fd_transfer":                   "undocumented API: multiprocessing.reduction.send_handle and recv_handle",
	"_TestConnection.test_large_fd_transfer":             "undocumented API: multiprocessing.reduction.send_handle and recv_handle (fd > 256, bpo-11657)",
	"_TestConnection.test_missing_fd_transfer":           "undocumented API: multiprocessing.reduction.recv_handle without a descriptor",
	"_TestPicklingConnections.test_pickling":             "not covered yet: a Connection, or a socket, sent through a Connection (resource_sharer, descriptor passing): the protocol has no value for a connection",
	"_TestPicklingConnections.test_access":               "not covered yet: pipe ends sent through a Connection (descriptor passing): the protocol has no value for a connection",
	"_TestPollEintr.test_poll_eintr":                     "CPython internal: Process.join retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestIgnoreEINTR.test_ignore":                        "CPython internal: Connection.recv and send_bytes retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestIgnoreEINTR.test_ignore_listener":               "CPython internal: Listener.accept retried after a Python signal handler ran (PEP 475); no op installs a signal handler",
	"TestInvalidHandle.test_invalid_handles":             "CPython internal: a Connection made from a raw handle (Connection(44977608), Connection(-1)), which is not documented API",
	"TestInvalidFamily.test_invalid_family_win32":        "Windows only: a unix socket path on Windows",
	"TestWait.test_wait_socket":                          "wait over plain socket.socket objects, which are no multiprocessing object: the protocol has no raw sockets (connection.wait covers wait over connections)",
	"TestWait.test_wait_socket_slow":                     "wait over plain socket.socket objects, which are no multiprocessing object: the protocol has no raw sockets (connection.wait covers wait over connections)",
}
