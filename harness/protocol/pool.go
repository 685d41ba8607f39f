package protocol

// The ops on a pool and on the async results its *_async ops bind with as. A
// task is a program run in a worker, its args bound to the program's params.
var poolOps = []Op{
	{Name: "pool.apply", Families: pool, Fields: []Field{on, req("program", Ident), opt("args", Values)},
		Blocks: true, Value: "the result", Errors: taskErrors},
	{Name: "pool.apply_async", Families: pool,
		Fields: []Field{on, req("program", Ident), req("as", Ident), opt("args", Values),
			callback, errorCallback},
		Value: "null. With callbacks, the caller's process records `pool.callback` / `pool.error_callback` " +
			"when they run"},
	{Name: "pool.map", Families: pool, Fields: mapping(), Blocks: true,
		Value: "the list of results in input order", Errors: taskErrors},
	{Name: "pool.starmap", Families: pool, Fields: mapping(), Blocks: true,
		Value: "the list of results in input order", Errors: taskErrors},
	{Name: "pool.map_async", Families: pool, Fields: mapping(req("as", Ident), callback, errorCallback),
		Value: mapAsyncValue},
	{Name: "pool.starmap_async", Families: pool, Fields: mapping(req("as", Ident), callback, errorCallback),
		Value: mapAsyncValue},
	{Name: "pool.imap", Families: pool, Fields: mapping(), Blocks: true, Value: imapValue, Errors: taskErrors},
	{Name: "pool.imap_unordered", Families: pool, Fields: mapping(), Blocks: true, Value: imapValue,
		Errors: taskErrors},
	{Name: "pool.close", Families: pool, Fields: []Field{on},
		Value: "null; afterwards new work fails with `NotAllowed`"},
	{Name: "pool.join", Families: pool, Fields: []Field{on}, Blocks: true, Value: "null",
		Errors: []Error{{ErrNotAllowed, "before `pool.close`"}}},
	{Name: "pool.terminate", Families: pool, Fields: []Field{on}, Blocks: true, Value: "null"},
	{Name: "pool.with", Families: pool, Fields: []Field{on, req("body", Steps)}, Blocks: true,
		Value: "null, once `body` has run inside `with pool:` and the pool is terminated: `__exit__` calls " +
			"`terminate()`, so tasks still running are stopped, and afterwards new work fails with `NotAllowed`",
		Errors: []Error{{ErrNotAllowed, "on a pool closed or terminated before"}}},
	{Name: "pool.apply_many", Families: pool, With: bulk,
		Fields: []Field{on, req("program", Ident), req("n", Count), opt("args", Values)}, Blocks: true,
		Value: "`n`: n apply_async round trips, each result got before the next"},
	{Name: "result.get", Families: pool, Fields: []Field{result, opt("timeout", Timeout)}, Blocks: true,
		Value: "the result", Errors: append([]Error{{ErrTimeout, ""}}, taskErrors...)},
	{Name: "result.wait", Families: pool, Fields: []Field{result, opt("timeout", Timeout)}, Blocks: true,
		Value: "null"},
	{Name: "result.ready", Families: pool, Fields: []Field{result}, Value: "bool"},
	{Name: "result.successful", Families: pool, Fields: []Field{result}, Value: "bool",
		Errors: []Error{{ErrValueError, "before the result is ready"}}},
}

var (
	pool = []Feature{Pool}

	// result is the field of an op on an async result.
	result = req("result", Ident)

	taskErrors = []Error{{ErrTaskError, ""}, {ErrWorkerLost, ""}}

	callback, errorCallback = opt("callback", Bool).or(false), opt("error_callback", Bool).or(false)

	mapAsyncValue = "null. With callbacks, the caller's process records one `pool.callback` (value: the list " +
		"of results) or one `pool.error_callback` (the error of a failed item) once every item has finished"

	imapValue = "the list of results in the order yielded; one `pool.imap.item` record (value " +
		"`[index_in_yield_order, result]`) as each arrives"
)

// mapping is the fields of the map ops: the items are items or, range n, the
// ints 0..n-1 (a starmap's items are lists of args).
func mapping(more ...Field) []Field {
	fields := []Field{on, req("program", Ident)}
	fields = append(fields, more...)
	return append(fields, opt("items", Values).note("starmap: a list of arg lists"),
		opt("range", Count).note("n: the items 0..n-1, instead of `items`"), opt("chunksize", Count))
}
