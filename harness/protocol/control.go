package protocol

// The control ops: the interpreter's own, which every driver has.
var controlOps = []Op{
	{Name: "sleep", Families: control, Fields: []Field{req("ms", Duration)}, Blocks: true, Value: "null"},
	{Name: "busy", Families: control, Fields: []Field{req("ms", Duration).note("spin on the CPU")}, Value: "null"},
	{Name: "emit", Families: control, Fields: []Field{req("value", Value)},
		Value: "the value: a line of the program's output"},
	{Name: "repeat", Families: control, Fields: []Field{req("times", Count), req("body", Steps), opt("var", Ident)},
		Value: "records nothing itself; steps in `body` record, with `var` bound to 0, 1, ..."},
	{Name: "mark", Families: control, Fields: []Field{req("name", String)},
		Value: "null; `t0 = t1`: a timestamp for benchmarks"},
	{Name: "exit", Families: control,
		Fields: []Field{opt("code", Int).note("0..255"), opt("message", String).note("instead of `code`")},
		Value: "the process exits with `code` (`sys.exit(code)`): no record of its own, no `process.end`; " +
			"the end-of-program work of §9 still runs first, unrecorded. Without `code`, `sys.exit()`: exit code 0; " +
			"with `message`, `sys.exit(message)`: the message and a newline go to stderr, exit code 1 (`code` is " +
			"then ignored)"},
	{Name: "raise", Families: control, Fields: []Field{req("message", String)},
		Value: "an uncaught error: no record of its own; the process writes `process.end` (`exitcode` 1) and " +
			"exits 1 (in a pool task: the task fails with `TaskError`)"},
	{Name: "crash", Families: control, Fields: []Field{req("signal", Signal)},
		Value: "the process restores the signal's default action and sends it to itself; no record of its own"},
	{Name: "return", Families: control, Fields: []Field{opt("value", Value)},
		Value: "ends the program; in a pool task, the task's result"},
}

var control = []Feature{Control}
