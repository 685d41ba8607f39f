package protocol

// The ops on a pipe's ends (CPython's multiprocessing.connection). A pipe
// resource NAME is used through its ends, NAME.0 and NAME.1; close is in
// queue.go.
var connectionOps = []Op{
	{Name: "send", Families: pipe, Fields: []Field{on.note("an end"), req("value", Value)}, Blocks: true,
		Value: "null", Errors: []Error{{ErrClosed, "on a closed end, or when every copy of the other end is closed"},
			{ErrNotAllowed, "on a receive-only end"}}},
	{Name: "recv", Families: pipe, Fields: []Field{on}, Blocks: true, Value: "the value",
		Errors: []Error{{ErrEOF, ""}, {ErrClosed, "on a closed end"}, {ErrNotAllowed, "on a send-only end"}}},
	{Name: "send_bytes", Families: pipe,
		Fields: []Field{on, req("value", Value).note("bytes or blob"), opt("offset", Int).or(0),
			opt("size", Int).note("absent: to the end")},
		Blocks: true, Value: "null: sends `value[offset:offset+size]` as one message",
		Errors: []Error{{ErrValueError, "when `offset` or `size` is negative, or `offset + size` passes the end of `value`"},
			{ErrClosed, "as `send`"}, {ErrNotAllowed, "on a receive-only end"}}},
	{Name: "recv_bytes", Families: pipe, Fields: []Field{on, opt("maxlength", Count)}, Blocks: true,
		Value: "bytes", Errors: []Error{{ErrEOF, ""}, {ErrValueError, "for a message longer than `maxlength` (CPython's OSError)"},
			{ErrClosed, "on a closed end"}, {ErrNotAllowed, "on a send-only end"}}},
	{Name: "poll", Families: pipe, Fields: []Field{on, opt("timeout", Timeout).or(0)}, Blocks: true,
		Value:  "bool: true when a message (an empty one too) or the end of file is waiting",
		Errors: []Error{{ErrClosed, "on a closed end"}, {ErrNotAllowed, "on a send-only end"}}},
	{Name: "connection.with", Families: pipe, Fields: []Field{on.note("an end"), req("body", Steps)},
		Value: "records nothing itself: runs `body` in `with conn:`, whose end closes this process's copy of the end"},
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

	// multiprocessing.connection's Listener, Client and wait, and
	// recv_bytes_into. A connection that listener.accept or
	// connection.client binds with `as` is a pipe end of the process that
	// bound it: the pipe ops act on it.
	{Name: "listener.accept", Families: conn, Fields: []Field{on.note("a listener"), req("as", Ident)},
		Blocks: true, Value: "null; binds `as` to the connection accepted",
		Errors: []Error{{ErrAuthError, "when the client's key is wrong"}, {ErrClosed, "on a closed listener"}}},
	{Name: "listener.address", Families: conn, Fields: []Field{on}, Value: "the address listened on (§6 connection)"},
	{Name: "listener.last_accepted", Families: conn, Fields: []Field{on},
		Value: "the address of the last client accepted, as `listener.address` gives an address"},
	{Name: "listener.close", Families: conn, Fields: []Field{on}, Value: "null; nobody listens on the address then"},
	{Name: "listener.with", Families: conn, Fields: []Field{on, req("body", Steps)},
		Value: "records nothing itself: runs `body` in `with listener:`, whose end closes the listener"},
	{Name: "connection.client", Families: conn,
		Fields: []Field{on.note("a listener, whose address it connects to"), req("as", Ident), opt("authkey", String)},
		Blocks: true, Value: "null; binds `as` to the connection",
		Errors: []Error{{ErrAuthError, "for a wrong key"}, {ErrRefused, "when nobody listens on the address"}}},
	{Name: "connection.wait", Families: conn,
		Fields: []Field{opt("conns", Values).note("names of connections or pipe ends"),
			opt("procs", Values).note("names of process handles"), opt("timeout", Timeout)},
		Blocks: true, Value: "the sorted names of the ready ones; `[]` when the timeout ran out"},
	{Name: "recv_bytes_into", Families: conn,
		Fields: []Field{on, req("size", Count).note("the buffer's size"), opt("offset", Count).or(0)}, Blocks: true,
		Value: "`[n, buffer]`: the message's length, and the buffer, zeros where the message is not",
		Errors: []Error{{ErrBufferTooShort, ""}, {ErrEOF, ""}, {ErrValueError, "for an offset past the buffer"},
			{ErrClosed, "on a closed end"}, {ErrNotAllowed, "on a send-only end"}}},
}

var (
	pipe = []Feature{Pipe}
	conn = []Feature{Connection}
)
