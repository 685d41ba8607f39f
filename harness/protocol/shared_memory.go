package protocol

// The ops of the shared_memory feature, CPython's
// multiprocessing.shared_memory: SharedMemory segments (shm.*), the
// ShareableList over one (sl.*) and the SharedMemoryManager (smm.*). A
// segment or list is a declared resource (§5) or one that shm.attach,
// sl.attach or a manager op binds with `as` in the process that runs it.
// The shm.* ops but create and attach also take a shareable list: they act
// on its segment, as `sl.shm` in Python.
var sharedMemoryOps = []Op{
	{Name: "shm.create", Families: sharedMemory,
		Fields: []Field{bindAs, req("size", Int), opt("name", String).note("absent: a fresh random name")},
		Value:  "null; binds `as` to a new segment, as `SharedMemory(name, create=True, size=size)`",
		Errors: []Error{{ErrExists, "when the name is taken"}, {ErrValueError, "when `size` ≤ 0"}}},
	{Name: "shm.attach", Families: sharedMemory, OneOf: []string{"name", "on"},
		Fields: []Field{bindAs, opt("name", String), opt("on", Resource).note("a segment or list: attach by its name")},
		Value:  "null; binds `as` to the segment of that name, as `SharedMemory(name)`",
		Errors: []Error{{ErrNotFound, ""}}},
	{Name: "shm.name", Families: sharedMemory, Fields: []Field{on}, Value: "string: the name another process attaches by"},
	{Name: "shm.size", Families: sharedMemory, Fields: []Field{on},
		Value: "int: at least the size asked for (a platform may round it up to pages)"},
	{Name: "shm.write", Families: sharedMemory,
		Fields: []Field{on, req("value", Value).note("bytes or blob"), opt("offset", Count).or(0)},
		Value:  "null: `buf[offset:offset+len(value)] = value`",
		Errors: []Error{{ErrValueError, "when the bytes do not fit"}, {ErrClosed, "after `shm.close`"}}},
	{Name: "shm.read", Families: sharedMemory,
		Fields: []Field{on, opt("offset", Count).or(0), opt("n", Count).note("absent: to the end")},
		Value:  "bytes: `bytes(buf[offset:offset+n])`, cut at the end as a slice is",
		Errors: []Error{{ErrClosed, "after `shm.close`"}}},
	{Name: "shm.close", Families: sharedMemory, Fields: []Field{on},
		Value: "null: this handle's mapping is gone; the segment and other handles stay"},
	{Name: "shm.unlink", Families: sharedMemory, Fields: []Field{on},
		Value:  "null: the name is removed; mappings stay valid until closed",
		Errors: []Error{{ErrNotFound, "when the name is already unlinked"}}},

	{Name: "sl.attach", Families: sharedMemory, OneOf: []string{"name", "on"},
		Fields: []Field{bindAs, opt("name", String), opt("on", Resource).note("a list: attach by its name")},
		Value:  "null; binds `as` to the list in the segment of that name, as `ShareableList(name=name)`",
		Errors: []Error{{ErrNotFound, ""}}},
	{Name: "sl.get", Families: sharedMemory, Fields: []Field{on, req("index", Count)},
		Value: "the item", Errors: []Error{{ErrIndexError, ""}, {ErrClosed, "after `shm.close`"}}},
	{Name: "sl.set", Families: sharedMemory, Fields: []Field{on, req("index", Count), req("value", Value)},
		Value: "null. An item is an int, float, bool, str, bytes or null; a str or bytes item has the room its " +
			"slot was made with, never more",
		Errors: []Error{{ErrValueError, "when a str or bytes value is longer than its slot"}, {ErrIndexError, ""}}},
	{Name: "sl.len", Families: sharedMemory, Fields: []Field{on}, Value: "int"},
	{Name: "sl.count", Families: sharedMemory, Fields: []Field{on, req("value", Value)}, Value: "int: the items equal to it"},
	{Name: "sl.index", Families: sharedMemory, Fields: []Field{on, req("value", Value)}, Value: "int: the first such item",
		Errors: []Error{{ErrValueError, "when no item is equal to it"}}},
	{Name: "sl.format", Families: sharedMemory, Fields: []Field{on},
		Value: "string: the packing format of the stored items (its letters are the implementation's)"},
	{Name: "sl.list", Families: sharedMemory, Fields: []Field{on}, Value: "the items, as a list"},

	{Name: "smm.shared_memory", Families: sharedMemory, Fields: []Field{on.note("a shared_memory_manager"), bindAs, req("size", Int)},
		Value:  "null; binds `as` to a new segment that the manager owns",
		Errors: []Error{{ErrValueError, "when `size` ≤ 0"}, {ErrClosed, "after `smm.shutdown`"}}},
	{Name: "smm.shareable_list", Families: sharedMemory, Fields: []Field{on, bindAs, req("init", Values)},
		Value: "null; binds `as` to a new list that the manager owns", Errors: []Error{{ErrClosed, "after `smm.shutdown`"}}},
	{Name: "smm.shutdown", Families: sharedMemory, Fields: []Field{on}, Blocks: true,
		Value: "null: every segment the manager made is unlinked"},
}

var (
	sharedMemory = []Feature{SharedMemory}
	bindAs       = req("as", Ident) // the name an op binds a resource to
)
