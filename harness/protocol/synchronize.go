package protocol

// The ops of the synchronization primitives: lock, rlock, semaphore, event,
// condition, barrier. A manager's lock proxy (manager.lock) is acquired and
// released as a lock is, so the manager feature offers those ops too.
var synchronizeOps = []Op{
	{Name: "acquire", Families: lockers, Fields: []Field{on, opt("block", Bool).or(true), opt("timeout", Timeout)},
		Blocks: true,
		Value: "bool (false when a non-blocking or timed acquire fails; that is no error). With `block` false the " +
			"`timeout` is ignored. On a condition: its lock"},
	{Name: "release", Families: lockers, Fields: []Field{on},
		Value: "null. A lock has no owner: any process may release it",
		Errors: []Error{
			{ErrValueError, "when released too many times (a free lock, a bounded semaphore at its initial value)"},
			{ErrNotAllowed, "for an rlock the caller does not hold: another process's, or one it released as often as it " +
				"acquired it; for a manager's lock or rlock released when free (threading's RuntimeError, where a " +
				"multiprocessing lock's is ValueError)"}}},
	{Name: "get_value", Families: []Feature{Semaphore}, Fields: []Field{on},
		Value: "int: the initial value, less the acquires that succeeded, plus the releases"},
	{Name: "set", Families: served(event), Fields: []Field{on}, Value: "null"},
	{Name: "clear", Families: served(event), Fields: []Field{on}, Value: "null"},
	{Name: "is_set", Families: served(event), Fields: []Field{on}, Value: "bool"},
	{Name: "wait", Families: served([]Feature{Event, Condition, Barrier}), Fields: []Field{on, opt("timeout", Timeout)},
		Blocks: true,
		Value: "event, condition: bool (false on timeout); barrier: the party's index. A condition's wait frees its " +
			"lock however often the caller holds it, and takes it back at the same depth. A barrier wait without " +
			"`timeout` uses the barrier's own",
		Errors: []Error{
			{ErrNotAllowed, "on a condition without its lock held"},
			{ErrBroken, "when the barrier is or becomes broken (a barrier wait that times out breaks it and " +
				"fails with `Broken`, not `Timeout`)"}}},
	{Name: "wait_for", Families: condition,
		Fields: []Field{on, req("until", Step).note("its value is the predicate"), opt("timeout", Timeout)},
		Blocks: true,
		Value: "the predicate's last value. The `until` step records nothing itself; its error is the " +
			"`wait_for`'s error",
		Errors: []Error{{ErrNotAllowed, "without the lock held"}}},
	{Name: "notify", Families: served(condition), Fields: []Field{on, opt("n", Count).or(1)}, Value: "null",
		Errors: []Error{{ErrNotAllowed, "without the lock held"}}},
	{Name: "notify_all", Families: served(condition), Fields: []Field{on}, Value: "null",
		Errors: []Error{{ErrNotAllowed, "without the lock held"}}},
	{Name: "abort", Families: served(barrier), Fields: []Field{on}, Value: "null"},
	{Name: "reset", Families: served(barrier), Fields: []Field{on}, Value: "null"},
	{Name: "parties", Families: served(barrier), Fields: []Field{on}, Value: "int"},
	{Name: "n_waiting", Families: served(barrier), Fields: []Field{on}, Value: "int"},
	{Name: "broken", Families: served(barrier), Fields: []Field{on}, Value: "bool"},
	{Name: "acquire_release_many", Families: lockers, With: bulk, Fields: []Field{on, req("n", Count)},
		Blocks: true, Value: "`n`: n acquire+release pairs in a native loop"},
}

var (
	lockers   = []Feature{Lock, RLock, Semaphore, Condition, Manager, Sharedctypes}
	event     = []Feature{Event}
	condition = []Feature{Condition}
	barrier   = []Feature{Barrier}
	bulk      = []Feature{Bulk}
)
