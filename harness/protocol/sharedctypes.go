package protocol

// The ops of sharedctypes: CPython's Value and Array (and RawValue, RawArray)
// in shared memory. shared.* act on a value, or on the `.value` of a 'c'
// array; array.* on an array. A synchronized value or array (made with a
// lock) is acquired and released as a lock is (synchronize.go), which is its
// get_lock()'s acquire and release; a raw one (raw_value, raw_array, or
// lock: false) has no lock, so those ops and shared.get_lock fail on it with
// Error, as any op on a resource of the wrong type (§5; CPython's
// AttributeError).
var sharedctypesOps = []Op{
	{Name: "shared.get", Families: sharedctypes, Fields: []Field{on},
		Value: "`.value`: an int, a float for 'f' and 'd', bytes of length 1 for a 'c' value; a 'c' array's " +
			"bytes up to its first NUL"},
	{Name: "shared.set", Families: sharedctypes, Fields: []Field{on, req("value", Value)}, Value: "null",
		Errors: []Error{{ErrValueError, "for a value of the wrong type (CPython's TypeError), bytes longer " +
			"than a 'c' array"}}},
	{Name: "shared.incr", Families: sharedctypes, Fields: []Field{on, opt("by", Number).or(1)},
		Value:  "the new value: `.value += by`, a read then a write, not atomic unless the lock is held",
		Errors: []Error{{ErrValueError, "for a `by` of the wrong type"}}},
	{Name: "shared.get_lock", Families: sharedctypes, Fields: []Field{on},
		Value: "`\"lock\"` or `\"rlock\"`: the type of the lock `get_lock()` returns (by default a new rlock)"},
	{Name: "array.len", Families: arrays, Fields: []Field{on}, Value: "int"},
	{Name: "array.get", Families: arrays, Fields: []Field{on, req("at", Int).note("the index; negative: from the end")},
		Value: "the item (bytes of length 1 in a 'c' array)", Errors: []Error{{ErrIndexError, ""}}},
	{Name: "array.set", Families: arrays, Fields: []Field{on, req("at", Int), req("value", Value)},
		Value: "null", Errors: []Error{{ErrIndexError, ""}, {ErrValueError, "for a value of the wrong type"}}},
	{Name: "array.slice", Families: sharedctypes, Fields: []Field{on, opt("start", Int), opt("stop", Int)},
		Value: "`a[start:stop]`, as Python slices (absent: the end; negative: from the end; clamped): a list, " +
			"bytes for a 'c' array"},
	{Name: "array.set_slice", Families: sharedctypes,
		Fields: []Field{on, opt("start", Int), opt("stop", Int), req("value", Value).note("a list, or bytes")},
		Value:  "null: `a[start:stop] = value`",
		Errors: []Error{{ErrValueError, "when `value`'s length is not the slice's, or an item is of the wrong type"}}},
	{Name: "array.raw", Families: sharedctypes, Fields: []Field{on.note("a 'c' array")},
		Value: "bytes: all of the array, NULs included (`.raw`)"},
	{Name: "shared.incr_many", Families: sharedctypes, With: bulk, Fields: []Field{on, req("n", Count)},
		Blocks: true, Value: "`n`: n increments by 1, each with the lock held (`with v.get_lock(): v.value += 1`; " +
			"a raw value: without)"},
	{Name: "array.copy_many", Families: sharedctypes, With: bulk, Fields: []Field{on, req("n", Count)},
		Blocks: true, Value: "`n`: n copies of the whole array out of shared memory (`a[:]`)"},
}

var sharedctypes = []Feature{Sharedctypes}

// arrays are the families whose arrays the item ops serve: sharedctypes' and
// a manager's (manager.array).
var arrays = []Feature{Sharedctypes, ManagerTypes}
