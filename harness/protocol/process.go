package protocol

// The process ops: spawn binds a process handle, the others act on each process
// of the group that proc names, or on the one that index selects.
var processOps = []Op{
	{Name: "spawn", Families: process, Fields: []Field{req("as", Ident), req("program", Ident), opt("args", Values),
		opt("name", String), opt("prefix", Ident).note("class name for the default name").or("Process"),
		opt("daemon", Bool).needs(Daemon)},
		Value: "the process's name. Default names are CPython's: `<prefix>-<identity>`, where a child of main has " +
			"identity `k` (the creating process's k-th creation, one counter for all prefixes) and a child of a " +
			"process with identity `i` has `i:k` (`Process-1:1`, `zx-4:2`)"},
	{Name: "start", Families: process, Fields: onProc(), Value: "the child's pid",
		Errors: []Error{{ErrNotAllowed, "when started twice or a daemon starts a child"}}},
	{Name: "join", Families: served([]Feature{Process, JoinableQueue}),
		Fields: []Field{opt("proc", Ident), opt("index", Count), opt("timeout", Timeout),
			opt("on", Resource).note("a joinable queue; no `timeout`")},
		OneOf: []string{"proc", "on"}, Blocks: true,
		Value: "a process: the exit code after the call, null if still running; a joinable queue: null, once " +
			"every item put has had its `task_done`"},
	{Name: "is_alive", Families: process, Fields: onProc(), Value: "bool"},
	{Name: "exitcode", Families: process, Fields: onProc(),
		Value: "int or null (negative signal number when killed)"},
	{Name: "pid", Families: process, Fields: onProc(), Value: "int, or null before start"},
	{Name: "name", Families: process, Fields: onProc(), Value: "string"},
	{Name: "terminate", Families: process, Fields: onProc(), Value: "null (SIGTERM)"},
	{Name: "kill", Families: process, Fields: onProc(), Value: "null (SIGKILL)"},
	{Name: "set_daemon", Families: []Feature{Daemon},
		Fields: []Field{req("proc", Ident), req("value", Value).note("bool"), opt("index", Count)},
		Value:  "null", Errors: []Error{{ErrNotAllowed, "once started"}}},
	{Name: "active_children", Families: process, Value: "list of names, sorted"},
}

var process = []Feature{Process}

// onProc is the fields of an op on a process group.
func onProc() []Field { return []Field{req("proc", Ident), opt("index", Count)} }
