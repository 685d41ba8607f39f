package protocol

// The ops of the queues: queue, joinable_queue and simple_queue (which, as
// CPython's SimpleQueue, has no size and never blocks a put). close is here for
// the pipe's ends too; join (process.go) joins a joinable queue.
var queueOps = []Op{
	{Name: "put", Families: served(queues),
		Fields: []Field{on, req("value", Value), opt("block", Bool).or(true), opt("timeout", Timeout)},
		Blocks: true, Value: "null", Errors: []Error{{ErrFull, ""}, {ErrClosed, "after close"}}},
	{Name: "get", Families: served(queues), Fields: []Field{on, opt("block", Bool).or(true), opt("timeout", Timeout)},
		Blocks: true, Value: "the item", Errors: []Error{{ErrEmpty, ""}, {ErrClosed, "after close"}}},
	{Name: "put_nowait", Families: served(bounded), Fields: []Field{on, req("value", Value)},
		Value: "null, as `put` without blocking", Errors: []Error{{ErrFull, ""}}},
	{Name: "get_nowait", Families: served(bounded), Fields: []Field{on},
		Value: "the item, as `get` without blocking", Errors: []Error{{ErrEmpty, ""}}},
	{Name: "qsize", Families: served(bounded), Fields: []Field{on}, Value: "int"},
	{Name: "empty", Families: served(queues), Fields: []Field{on}, Value: "bool",
		Errors: []Error{{ErrClosed, "on a closed SimpleQueue (on a closed Queue, unspecified)"}}},
	{Name: "full", Families: served(bounded), Fields: []Field{on}, Value: "bool"},
	{Name: "close", Families: append(queues[:3:3], Pipe, Process),
		Fields: []Field{opt("on", Resource).note("a queue or a pipe end"), opt("proc", Ident), opt("index", Count)},
		OneOf:  []string{"on", "proc"}, Value: "null; closing a queue or a pipe end again does nothing. A process handle (`Process.close()`): afterwards every op on it " +
			"but `name` fails with `Closed`; closing it again does nothing",
		Errors: []Error{{ErrValueError, "on a process that has started and not yet ended"}}},
	{Name: "join_thread", Families: bounded, Fields: []Field{on}, Blocks: true, Value: "null"},
	{Name: "cancel_join_thread", Families: bounded, Fields: []Field{on}, Value: "null"},
	{Name: "task_done", Families: served([]Feature{JoinableQueue}), Fields: []Field{on}, Value: "null",
		Errors: []Error{{ErrValueError, "when called more times than items were put"}}},
	{Name: "put_many", Families: queues, With: bulk,
		Fields: []Field{on, req("n", Count), opt("start", Int).or(0), opt("size", Count)}, Blocks: true,
		Value: "`n`. Item `k` is the int `start + k`, or when `size` is given, `size` bytes: `start + k` as 8 " +
			"little-endian signed bytes, then byte `j` (j ≥ 8) is `j % 251`, as in a blob (cut to `size` when " +
			"`size` < 8)"},
	{Name: "get_many", Families: queues, With: bulk,
		Fields: []Field{on, req("n", Count), opt("collect", Bool).or(false)}, Blocks: true,
		Value: "`{\"dict\": [[\"count\", n], [\"sum\", s], [\"items\", [...]]]}`: `sum` of int items (of the leading " +
			"8-byte ints for bytes items); `items` only with `collect`"},
}

var (
	queues  = []Feature{Queue, JoinableQueue, SimpleQueue}
	bounded = []Feature{Queue, JoinableQueue} // the queues with a size
)
