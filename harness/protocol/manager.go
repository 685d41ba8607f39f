package protocol

import "slices"

// The ops on a manager's proxies (manager.dict, manager.list,
// manager.namespace, manager.value) and on managers. Each proxy op is one
// request to the server, except *.incr, which reads and then writes (not atomic,
// as `d[k] += 1` in Python) unless lock names a lock to hold around it. A
// manager's lock proxy takes the ops of a lock (synchronize.go).
var managerOps = []Op{
	{Name: "dict.set", Families: manager, Fields: []Field{on, req("key", Value), req("value", Value)}, Value: "null"},
	{Name: "dict.get", Families: manager, Fields: []Field{on, req("key", Value), opt("default", Value)},
		Value: "the value", Errors: []Error{{ErrKeyError, "when missing without `default`"}}},
	{Name: "dict.del", Families: manager, Fields: []Field{on, req("key", Value)}, Value: "null",
		Errors: []Error{{ErrKeyError, ""}}},
	{Name: "dict.pop", Families: manager, Fields: []Field{on, req("key", Value)}, Value: "the value",
		Errors: []Error{{ErrKeyError, ""}}},
	{Name: "dict.setdefault", Families: manager, Fields: []Field{on, req("key", Value), req("value", Value)},
		Value: "the value now stored"},
	{Name: "dict.update", Families: manager, Fields: []Field{on, req("value", Value).note("a dict")}, Value: "null"},
	{Name: "dict.len", Families: manager, Fields: []Field{on}, Value: "int"},
	{Name: "dict.contains", Families: manager, Fields: []Field{on, req("key", Value)}, Value: "bool"},
	{Name: "dict.copy", Families: manager, Fields: []Field{on}, Value: "a dict value"},
	{Name: "dict.incr", Families: manager, Fields: []Field{on, req("key", Value), by, lock}, Blocks: true,
		Value: "the new value"},
	{Name: "list.append", Families: manager, Fields: []Field{on, req("value", Value)}, Value: "null"},
	{Name: "list.extend", Families: manager, Fields: []Field{on, req("value", Value)}, Value: "null"},
	{Name: "list.get", Families: manager, Fields: []Field{on, req("index", Count)}, Value: "the item",
		Errors: []Error{{ErrIndexError, ""}}},
	{Name: "list.set", Families: manager, Fields: []Field{on, req("index", Count), req("value", Value)},
		Value: "null", Errors: []Error{{ErrIndexError, ""}}},
	{Name: "list.pop", Families: manager, Fields: []Field{on, opt("index", Count).note("absent: the last")},
		Value: "the item", Errors: []Error{{ErrIndexError, ""}}},
	{Name: "list.insert", Families: manager, Fields: []Field{on, req("index", Count), req("value", Value)},
		Value: "null"},
	{Name: "list.remove", Families: manager, Fields: []Field{on, req("value", Value)}, Value: "null",
		Errors: []Error{{ErrValueError, "when the value is not in the list"}}},
	{Name: "list.reverse", Families: manager, Fields: []Field{on}, Value: "null"},
	{Name: "list.len", Families: manager, Fields: []Field{on}, Value: "int"},
	{Name: "list.copy", Families: manager, Fields: []Field{on}, Value: "a list"},
	{Name: "ns.set", Families: manager, Fields: []Field{on, req("attr", Ident), req("value", Value)}, Value: "null"},
	{Name: "ns.get", Families: manager, Fields: []Field{on, req("attr", Ident)}, Value: "the value",
		Errors: []Error{{ErrKeyError, "for a missing attribute"}}},
	{Name: "value.get", Families: manager, Fields: []Field{on}, Value: "the value"},
	{Name: "value.set", Families: manager, Fields: []Field{on, req("value", Value)}, Value: "null"},
	{Name: "value.incr", Families: manager, Fields: []Field{on, by, lock}, Blocks: true, Value: "the new value"},
	{Name: "manager.shutdown", Families: manager, Fields: []Field{on}, Blocks: true,
		Value: "null; afterwards every proxy op fails with `Closed`"},
	{Name: "manager.connect", Families: remote,
		Fields: []Field{on.note("a manager with `serve`"), req("as", Ident), opt("authkey", String)}, Blocks: true,
		Value:  "null. `as` names a connection resource usable as `on` for `manager.proxy`",
		Errors: []Error{{ErrAuthError, "for a wrong key"}}},
	{Name: "manager.restart", Families: remote, Fields: []Field{on.note("a manager with `serve`")}, Blocks: true,
		Value: "null: the manager is shut down and a new one started on the same address with the same authkey " +
			"(`BaseManager(address, authkey).start()`); in this process the resource names the new one, which " +
			"serves none of the old objects (their proxies fail with `Closed`)"},
	{Name: "manager.proxy", Families: remote,
		Fields: []Field{on.note("a connection"), req("name", String).note("a proxy resource served by that manager"),
			req("as", Ident)},
		Value: "null; binds `as` as a proxy resource to the same object"},
	{Name: "array.copy", Families: served(nil), Fields: []Field{on}, Value: "a list of the items (`a[:]`)"},
	{Name: "custom.call", Families: []Feature{ManagerRegister}, Blocks: true,
		Fields: []Field{on.note("a `manager.custom`"), req("method", String), opt("args", Values)},
		Value:  "the method's result (§5, custom types)",
		Errors: []Error{{ErrNotAllowed, "for a method its type does not expose"}}},
	{Name: "dict.set_many", Families: manager, With: bulk, Fields: manyKeys, Blocks: true, Value: "`n`: keys `start+k`, each set acknowledged before the next"},
	{Name: "dict.get_many", Families: manager, With: bulk, Fields: manyKeys, Blocks: true, Value: "`n`: keys `start+k`, each got before the next"},
}

var (
	manager = []Feature{Manager}
	remote  = []Feature{ManagerRemote}

	// by and lock are the fields of an increment.
	by   = opt("by", Number).or(1)
	lock = opt("lock", Resource).note("a lock to hold around the read and the write")

	// served adds manager.types to the features of an op of a primitive:
	// the proxies of a manager's queue, event, barrier... take its ops.
	served = func(fs []Feature) []Feature { return append(slices.Clip(fs), ManagerTypes) }

	// manyKeys are the fields of the bulk dict ops.
	manyKeys = []Field{on, req("n", Count), opt("start", Int).or(0)}
)
