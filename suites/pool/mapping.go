package pool

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// starmap, maps over nothing, and map_async's callbacks.
var (
	starmap = catalogue.Add(catalogue.Behaviour{
		ID: "pool.starmap", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "starmap and starmap_async call the task with each item's elements as its arguments, " +
			"and give the results in the order of the items",
		Source: "CPython docs: Pool.starmap ('Like map() except that the elements of the iterable are expected to be iterables that are unpacked as arguments'), Pool.starmap_async; " +
			"CPython test: _test_multiprocessing.py _TestPool.test_starmap, test_starmap_async",
		CPythonTests: []string{"_TestPool.test_starmap", "_TestPool.test_starmap_async"},
	})
	emptyIterable = catalogue.Add(catalogue.Behaviour{
		ID: "pool.empty-iterable", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "map, starmap, imap, imap_unordered and map_async (with a chunksize) over no items give an empty list, " +
			"and run no task",
		Source:       "CPython docs: Pool.map (as the built-in map()); CPython test: _test_multiprocessing.py _TestPool.test_empty_iterable, test_map_chunksize",
		CPythonTests: []string{"_TestPool.test_empty_iterable", "_TestPool.test_map_chunksize"},
	})
	emptyCallback = catalogue.Add(catalogue.Behaviour{
		ID: "pool.empty-callback", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "map_async and starmap_async over no items are ready at once, and their callback runs, once, " +
			"in the caller's process, with the empty list",
		Source: "CPython docs: Pool.map_async ('When the result becomes ready callback is applied to it'); " +
			"Lib/multiprocessing/pool.py MapResult.__init__ (an empty map is made ready without its callback)",
	})
	mapAsyncCallbacks = catalogue.Add(catalogue.Behaviour{
		ID: "pool.map-async-callbacks", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "map_async's callback runs once, in the caller's process, with the list of results in input order; " +
			"when an item raises, error_callback runs once instead, with its error, once every item has finished",
		Source: "CPython docs: Pool.map_async ('If callback is specified then it should be a callable which accepts a single argument. When the result becomes ready callback is applied to it, " +
			"that is unless the call failed, in which case the error_callback is applied instead'); Lib/multiprocessing/pool.py MapResult._set; " +
			"CPython test: _test_multiprocessing.py _TestPool.test_map_async_callbacks",
		CPythonTests: []string{"_TestPool.test_map_async", "_TestPool.test_map_async_callbacks"},
	})
)

var _ = Describe("pool, its maps", func() {
	suite.Spec(starmap, "starmap and starmap_async of [x, y] pairs: each task gets x and y, the results in order", func() {
		items := []any{[]any{4, "a"}, []any{3, "b"}, []any{2, "c"}, []any{1, "d"}}
		want := []any{[]any{"a", 4}, []any{"b", 3}, []any{"c", 2}, []any{"d", 1}}
		t := suite.Run(New("pool/starmap").
			Resource("p", "pool", "processes", 2).
			// A task sleeps x times 20 ms: the first items longest, so that later ones finish first.
			Program("swap", []string{"x", "y"}, Op("repeat", "times", Param("x"), "body", []Step{Sleep(20)}),
				Return([]any{Param("y"), Param("x")})).
			Main(
				On("pool.starmap", "p", "program", "swap", "items", items),
				On("pool.starmap_async", "p", "program", "swap", "items", items, "as", "s"),
				get("s", 10_000),
			))
		maps := done(t, "pool.starmap")
		Expect(maps).To(HaveLen(1))
		Expect(maps[0].OK).To(BeTrue(), "%s", maps[0])
		Expect(pairs(maps[0].Value)).To(Equal(want), "starmap's results")
		gets := done(t, "result.get")
		Expect(gets).To(HaveLen(1))
		Expect(gets[0].OK).To(BeTrue(), "%s", gets[0])
		Expect(pairs(gets[0].Value)).To(Equal(want), "starmap_async's results")
		ts := tasks(t, "swap")
		Expect(ts).To(HaveLen(8), "tasks that began")
		for _, x := range ts {
			Expect(x.Args).To(HaveLen(2), "a task's args are its item's elements: %s", x.Begin)
		}
	})

	suite.Spec(emptyIterable, "each map op over no items: [], and no task began", func() {
		none := []any{}
		t := suite.Run(New("pool/empty-iterable").
			Resource("p", "pool", "processes", 1).
			Program("work", []string{"x"}, Return(Param("x"))).
			Main(
				On("pool.map", "p", "program", "work", "items", none),
				On("pool.starmap", "p", "program", "work", "items", none),
				On("pool.imap", "p", "program", "work", "items", none),
				On("pool.imap_unordered", "p", "program", "work", "items", none),
				On("pool.map_async", "p", "program", "work", "items", none, "as", "m", "chunksize", 1),
				get("m", 10_000),
				On("pool.close", "p"), On("pool.join", "p"),
			))
		for _, op := range []string{"pool.map", "pool.starmap", "pool.imap", "pool.imap_unordered", "result.get"} {
			recs := done(t, op)
			Expect(recs).To(HaveLen(1), op)
			Expect(recs[0].OK).To(BeTrue(), "%s", recs[0])
			Expect(recs[0].Value).To(Equal(none), "%s over no items", op)
		}
		Expect(tasks(t, "")).To(BeEmpty(), "tasks that began")
	})

	suite.Spec(emptyCallback, "map_async and starmap_async over no items, with callbacks: each callback once, with []", func() {
		none := []any{}
		t := suite.Run(New("pool/empty-callback").
			Resource("p", "pool", "processes", 1).
			Program("work", []string{"x"}, Return(Param("x"))).
			Main(
				On("pool.map_async", "p", "program", "work", "items", none, "as", "m", // main/0
					"callback", true, "error_callback", true),
				On("pool.starmap_async", "p", "program", "work", "items", none, "as", "s", // main/1
					"callback", true, "error_callback", true),
				Op("result.wait", "result", "m", "timeout", 10_000),
				Op("result.wait", "result", "s", "timeout", 10_000),
				Op("result.ready", "result", "m"), Op("result.ready", "result", "s"),
				On("pool.close", "p"), On("pool.join", "p"),
			))
		Expect(t.Values(suite.Main(t).Pid, "result.ready")).To(Equal([]any{true, true}), "the empty maps are ready")
		for _, step := range []string{"main/0", "main/1"} {
			cb := byStep(t, "pool.callback", step)
			Expect(cb).To(HaveLen(1), "callbacks of the empty map at %s", step)
			Expect(cb[0].Pid).To(Equal(suite.Main(t).Pid), "the callback runs in the caller's process")
			Expect(cb[0].Value).To(Equal(none), "the callback's list")
			Expect(byStep(t, "pool.error_callback", step)).To(BeEmpty(), "error_callback of the empty map at %s", step)
		}
	})

	suite.Spec(mapAsyncCallbacks, "map_async with callbacks: one callback with the list; one error_callback after every item ended", func() {
		t := suite.Run(New("pool/map-async-callbacks").
			Resource("p", "pool", "processes", 2).
			Program("nap", []string{"x"}, Op("repeat", "times", Param("x"), "body", []Step{Sleep(30)}), Return(Param("x"))).
			// Item x raises when x is 1, else sleeps.
			Program("maybe", []string{"x"}, Op("repeat", "times", Param("x"), "body", []Step{Raise("item failed")}),
				Sleep(300), Return(Param("x"))).
			Main(
				On("pool.map_async", "p", "program", "nap", "items", []any{5, 3, 1, 0}, "as", "m", // main/0
					"callback", true, "error_callback", true),
				On("pool.map_async", "p", "program", "maybe", "items", []any{1, 0, 0}, "as", "e", // main/1
					"callback", true, "error_callback", true),
				get("m", 10_000),
				get("e", 10_000),
			))
		m := suite.Main(t).Pid
		gets := done(t, "result.get")
		Expect(gets).To(HaveLen(2))
		Expect(ints(gets[0].Value)).To(Equal([]any{5, 3, 1, 0}), "the good map's results: %s", gets[0])
		Expect(kinds(gets[1:])).To(Equal([]string{"TaskError: item failed"}), "the failing map's get")

		cb := byStep(t, "pool.callback", "main/0")
		Expect(cb).To(HaveLen(1), "callbacks of the good map")
		Expect(cb[0].Pid).To(Equal(m), "the callback runs in the caller's process")
		Expect(ints(cb[0].Value)).To(Equal([]any{5, 3, 1, 0}), "the callback's list")
		Expect(byStep(t, "pool.error_callback", "main/0")).To(BeEmpty(), "error_callback of the good map")

		ecb := byStep(t, "pool.error_callback", "main/1")
		Expect(ecb).To(HaveLen(1), "error_callbacks of the failing map")
		Expect(ecb[0].Pid).To(Equal(m), "the error_callback runs in the caller's process")
		Expect(kinds(ecb)).To(Equal([]string{"TaskError: item failed"}))
		Expect(byStep(t, "pool.callback", "main/1")).To(BeEmpty(), "callback of the failing map")
		ended := 0
		for _, x := range tasks(t, "maybe") {
			if x.arg() == 0 {
				Expect(x.End).NotTo(BeNil(), "item %v never ended: %s", x.Args, x.Begin)
				Expect(x.End.T1).To(BeNumerically("<=", ecb[0].T0), "error_callback ran before item %v ended: %s", x.Args, *x.End)
				ended++
			}
		}
		Expect(ended).To(Equal(2), "the failing map's other items")
	})
})

// pairs reads a list of two-element lists, the ints among them as ints.
func pairs(v any) []any {
	list, _ := v.([]any)
	out := make([]any, len(list))
	for i, x := range list {
		out[i] = ints(x)
	}
	return out
}
