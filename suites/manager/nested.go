package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// Proxies nested in managed containers, beyond manager.nested's list in a
// dict: dicts in a dict and in a list, and a queue in a list and in a dict.
var (
	nestedDicts = catalogue.Add(catalogue.Behaviour{
		ID: "manager.nested-dicts", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule: "a dict proxy stored in a managed dict or list reads back as that dict, in main and in a child, and a " +
			"child's write to it shows in it; deleting the entry leaves the dict; a plain list stored beside it stays a list",
		Source: "CPython docs: 'Changed in version 3.6: Shared objects are capable of being nested'; " +
			"CPython test: _test_multiprocessing.py _TestContainers.test_dict_proxy_nested",
		CPythonTests: []string{"_TestContainers.test_dict_proxy_nested"},
	})
	nestedQueue = catalogue.Add(catalogue.Behaviour{
		ID: "manager.nested-queue", Profile: catalogue.Extended,
		Features: []string{"process", "manager", "manager.types"},
		Rule:     "a manager Queue stored in a managed list and in a managed dict reads back as that queue: an item a child puts on it is got from it",
		Source: "CPython docs: SyncManager.Queue, 'Shared objects are capable of being nested'; " +
			"CPython test: _test_multiprocessing.py _TestContainers.test_nested_queue",
		CPythonTests: []string{"_TestContainers.test_nested_queue"},
	})
)

var _ = Describe("manager nested containers", func() {
	suite.Spec(nestedDicts, "pets and supplies stored in d and in l; a child writes to supplies", func() {
		t := suite.Run(New("manager/nested-dicts").
			Resource("m", "manager").
			Resource("pets", "manager.dict", "manager", "m", "init", Dict([2]any{"ferrets", 2}, [2]any{"hamsters", 4})).
			Resource("supplies", "manager.dict", "manager", "m", "init", Dict([2]any{"water", 10}, [2]any{"feed", 3})).
			Resource("d", "manager.dict", "manager", "m").
			Resource("l", "manager.list", "manager", "m").
			Resource("outer", "manager.list", "manager", "m").
			Program("water", []string{"d", "supplies"},
				On("dict.get", "d", "key", "supplies"), On("dict.set", "supplies", "key", "water", "value", 7)).
			Main(
				On("dict.set", "d", "key", "pets", "value", Ref("pets")),
				On("dict.set", "d", "key", "supplies", "value", Ref("supplies")),
				Spawn("c", "water", Ref("d"), Ref("supplies")), Start("c"), Join("c"),
				On("dict.get", "d", "key", "supplies"), On("dict.get", "d", "key", "pets"),
				On("dict.get", "supplies", "key", "water"),
				On("dict.del", "d", "key", "supplies"), On("dict.len", "d"),
				On("dict.copy", "supplies"),
				On("list.append", "l", "value", Ref("pets")), On("list.get", "l", "index", 0),
				On("list.extend", "outer", "value", []any{[]any{88, 99}, Ref("l")}),
				On("list.get", "outer", "index", 0), On("list.get", "outer", "index", 1),
			))
		m, c := suite.Main(t).Pid, suite.Program(t, "water").Pid
		ref := func(name string) any { return map[string]any{"ref": name} }
		Expect(t.Values(c, "dict.get")).To(Equal([]any{ref("supplies")}), "in the child, d['supplies'] is supplies")
		Expect(t.Values(m, "dict.get")).To(Equal([]any{ref("supplies"), ref("pets"), trace.IntValue(7)}),
			"d's entries are the dicts themselves, and the child's write shows in supplies")
		Expect(t.Values(m, "dict.len")).To(Equal([]any{trace.IntValue(1)}))
		copies := t.Values(m, "dict.copy")
		Expect(copies).To(HaveLen(1))
		Expect(pairs(copies[0])).To(Equal(map[string]string{`"water"`: "7", `"feed"`: "3"}),
			"supplies outlives its entry in d")
		Expect(t.Values(m, "list.get")).To(Equal([]any{ref("pets"),
			[]any{trace.IntValue(88), trace.IntValue(99)}, ref("l")}),
			"l[0] is pets; outer[0] is a plain list, outer[1] the list l")
	})

	suite.Spec(nestedQueue, "a manager Queue stored in a list and in a dict; a child puts on it", func() {
		t := suite.Run(New("manager/nested-queue").
			Resource("m", "manager").
			Resource("q", "manager.queue", "manager", "m").
			Resource("a", "manager.list", "manager", "m").
			Resource("b", "manager.dict", "manager", "m").
			Program("put", []string{"a", "q"}, On("list.get", "a", "index", 0), On("put", "q", "value", 123)).
			Main(
				On("list.append", "a", "value", Ref("q")),
				On("dict.set", "b", "key", 0, "value", Ref("q")),
				Spawn("c", "put", Ref("a"), Ref("q")), Start("c"), Join("c"),
				On("list.get", "a", "index", 0), On("dict.get", "b", "key", 0),
				On("get", "q", "timeout", 10_000),
			))
		m, c := suite.Main(t).Pid, suite.Program(t, "put").Pid
		q := map[string]any{"ref": "q"}
		Expect(t.Values(c, "list.get")).To(Equal([]any{q}), "in the child, a[0] is the queue")
		Expect(t.Values(m, "list.get")).To(Equal([]any{q}), "a[0] is the queue itself")
		Expect(t.Values(m, "dict.get")).To(Equal([]any{q}), "b[0] is the queue itself")
		Expect(t.Values(m, "get")).To(Equal([]any{trace.IntValue(123)}), "the child's item")
	})
})
