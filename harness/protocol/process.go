package protocol

// The process ops: spawn binds a process handle, the others act on each process
// of the group that proc names, or on the one that index selects.
var processOps = []Op{
	{Name: "spawn", Families: process, Fields: []Field{req("as", Ident), req("program", Ident), opt("args", Values),
		opt("name", String), opt("prefix", Ident).note("class name for the default name").or("Process"),
		opt("daemon", Bool).needs(Daemon),
		opt("kwargs", Value).note("a dict of param name → value: `Process(kwargs=...)`; `args` bind the first params")},
		Value: "the process's name. Default names are CPython's: `<prefix>-<identity>`, where a child of main has " +
			"identity `k` (the creating process's k-th creation, one counter for all prefixes) and a child of a " +
			"process with identity `i` has `i:k` (`Process-1:1`, `zx-4:2`)"},
	{Name: "start", Families: process, Fields: onProc(), Value: "the child's pid",
		Errors: []Error{{ErrNotAllowed, "when started twice or a daemon starts a child"}, processClosed}},
	{Name: "join", Families: served([]Feature{Process, JoinableQueue}),
		Fields: []Field{opt("proc", Ident), opt("index", Count), opt("timeout", Timeout),
			opt("on", Resource).note("a joinable queue; no `timeout`")},
		OneOf: []string{"proc", "on"}, Blocks: true,
		Value: "a process: the exit code after the call, null if still running; a joinable queue: null, once " +
			"every item put has had its `task_done`", Errors: []Error{notStarted, processClosed}},
	{Name: "is_alive", Families: process, Fields: onProc(), Value: "bool", Errors: []Error{processClosed}},
	{Name: "exitcode", Families: process, Fields: onProc(),
		Value: "int, or null before start and while running (negative signal number when killed)", Errors: []Error{processClosed}},
	{Name: "pid", Families: process, Fields: onProc(), Value: "int, or null before start",
		Errors: []Error{processClosed}},
	{Name: "name", Families: process, Fields: onProc(), Value: "string"},
	{Name: "terminate", Families: process, Fields: onProc(), Value: "null (SIGTERM)",
		Errors: []Error{notStarted, processClosed}},
	{Name: "kill", Families: process, Fields: onProc(), Value: "null (SIGKILL)",
		Errors: []Error{notStarted, processClosed}},
	{Name: "set_daemon", Families: []Feature{Daemon},
		Fields: []Field{req("proc", Ident), req("value", Value).note("bool"), opt("index", Count)},
		Value:  "null", Errors: []Error{{ErrNotAllowed, "once started"}}},
	{Name: "active_children", Families: process, Value: "list of names, sorted: the started children that are " +
		"alive; it joins those that have ended, as CPython's does"},
	{Name: "wait_sentinel", Families: process, Fields: append(onProc(), opt("timeout", Timeout).or(0)),
		Blocks: true, Value: "bool: whether the process's `sentinel` became ready (the process ended) within " +
			"`timeout`, as `connection.wait([p.sentinel], timeout)` is non-empty",
		Errors: []Error{{ErrValueError, "before `start`"}, processClosed}},
	{Name: "current_process", Families: process,
		Value: "`{\"dict\": [[\"name\", ...], [\"pid\", ...], [\"daemon\", ...]]}` of the calling process"},
	{Name: "parent_process", Families: process,
		Value: "`{\"dict\": [[\"name\", ...], [\"pid\", ...]]}` of the process that created the caller; null in main"},
	{Name: "cpu_count", Families: process, Value: "int: the number of CPUs, as `os.cpu_count()`"},
	{Name: "os_exit", Families: process, Fields: []Field{req("code", Int).note("0..255")},
		Value: "the process exits at once with `code` (`os._exit(code)`): no record of its own, no end-of-program " +
			"work (§9), no `process.end`"},
}

// processClosed is what every op on a process handle but `close` and `name`
// fails with once the handle is closed.
var processClosed = Error{ErrClosed, "after `close`"}

// notStarted is what join, terminate and kill of a process fail with before
// its start (CPython: "can only join a started process"); exitcode is null.
var notStarted = Error{ErrNotAllowed, "before `start`"}

var process = []Feature{Process}

// onProc is the fields of an op on a process group.
func onProc() []Field { return []Field{req("proc", Ident), opt("index", Count)} }
