package protocol

// The ops on a pipe's ends (CPython's multiprocessing.connection). A pipe
// resource NAME is used through its ends, NAME.0 and NAME.1; close is in
// queue.go.
var connectionOps = []Op{
	{Name: "send", Families: pipe, Fields: []Field{on.note("an end"), req("value", Value)}, Blocks: true,
		Value: "null", Errors: []Error{{ErrClosed, ""}, {ErrNotAllowed, "on a receive-only end"}}},
	{Name: "recv", Families: pipe, Fields: []Field{on}, Blocks: true, Value: "the value",
		Errors: []Error{{ErrEOF, ""}}},
	{Name: "send_bytes", Families: pipe, Fields: []Field{on, req("value", Value).note("bytes or blob")},
		Blocks: true, Value: "null"},
	{Name: "recv_bytes", Families: pipe, Fields: []Field{on, opt("maxlength", Count)}, Blocks: true,
		Value: "bytes", Errors: []Error{{ErrEOF, ""}}},
	{Name: "poll", Families: pipe, Fields: []Field{on, opt("timeout", Timeout).or(0)}, Blocks: true,
		Value: "bool"},
	{Name: "send_many", Families: pipe, With: bulk, Fields: []Field{on, req("n", Count), opt("size", Count)},
		Blocks: true, Value: "`n`: as `put_many`, each item sent with `send` (bytes items as bytes values)"},
	{Name: "recv_many", Families: pipe, With: bulk,
		Fields: []Field{on, req("n", Count), opt("collect", Bool).or(false)}, Blocks: true,
		Value: "as `get_many`"},
	{Name: "echo_many", Families: pipe, With: bulk, Fields: []Field{on, req("n", Count)}, Blocks: true,
		Value: "`n`: receive a message and send it back, n times"},
	{Name: "roundtrip_many", Families: pipe, With: bulk, Fields: []Field{on, req("n", Count), opt("size", Count)},
		Blocks: true, Value: "`n`: send a message and receive the echo, n times",
		Errors: []Error{{ErrOther, "when an echo differs"}}},
}

var pipe = []Feature{Pipe}
