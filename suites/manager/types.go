package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The other types a SyncManager serves, as proxies passed to children, and
// a custom type registered with BaseManager.register.
var (
	proxyQueue = catalogue.Add(catalogue.Behaviour{
		ID: "manager.queue-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "a manager Queue carries the items two child processes put to main, each child's in its order; " +
			"get_nowait on it empty is Empty",
		Source: "CPython docs: SyncManager.Queue ('Create a shared queue.Queue object and return a proxy for it'); " +
			"CPython test: _test_multiprocessing.py _TestQueue (run with the manager type)",

		CPythonTests: []string{"TestSyncManagerTypes.test_queue"},
	})
	proxyJoinable = catalogue.Add(catalogue.Behaviour{
		ID: "manager.joinable-queue-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "join on a manager JoinableQueue returns once a child has called task_done for every item put; " +
			"one task_done too many is a ValueError",
		Source: "CPython docs: SyncManager.JoinableQueue, queue.Queue.task_done; " +
			"CPython test: _test_multiprocessing.py _TestQueue.test_task_done",

		CPythonTests: []string{"TestSyncManagerTypes.test_joinable_queue"},
	})
	proxyEvent = catalogue.Add(catalogue.Behaviour{
		ID: "manager.event-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "a manager Event set by main wakes a child waiting on it, not before the set; " +
			"a timed wait on it clear returns False",
		Source: "CPython docs: SyncManager.Event; CPython test: _test_multiprocessing.py _TestEvent.test_event",

		CPythonTests: []string{"TestSyncManagerTypes.test_event"},
	})
	proxySemaphore = catalogue.Add(catalogue.Behaviour{
		ID: "manager.semaphore-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "a manager BoundedSemaphore(2) shared by four processes never has more than two holders, and has two; " +
			"a release above its value is a ValueError",
		Source: "CPython docs: SyncManager.BoundedSemaphore, SyncManager.Semaphore; " +
			"CPython test: _test_multiprocessing.py _TestSemaphore",

		CPythonTests: []string{"TestSyncManagerTypes.test_semaphore", "TestSyncManagerTypes.test_bounded_semaphore"},
	})
	proxyBarrier = catalogue.Add(catalogue.Behaviour{
		ID: "manager.barrier-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "a manager Barrier(3) releases three processes together: no wait returns before the last began, " +
			"and they get the indices 0, 1 and 2",
		Source: "CPython docs: SyncManager.Barrier; CPython test: _test_multiprocessing.py _TestBarrier.test_barrier",

		CPythonTests: []string{"TestSyncManagerTypes.test_barrier"},
	})
	proxyArray = catalogue.Add(catalogue.Behaviour{
		ID: "manager.array-proxy", Profile: catalogue.Extended,
		Features: []string{"process", "manager", "manager.types"},
		Rule: "items of a manager Array set by two children are read by main, its length fixed; " +
			"an index past its end is an IndexError",
		Source: "CPython docs: SyncManager.Array; CPython test: _test_multiprocessing.py _TestContainers",

		CPythonTests: []string{"TestSyncManagerTypes.test_array"},
	})
	registered = catalogue.Add(catalogue.Behaviour{
		ID: "manager.register", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.register"},
		Rule: "a type registered with exposed=['increment', 'get'] serves one object to four processes: " +
			"25 increments each make get() 100; secret, not exposed, fails with NotAllowed",
		Source: "CPython docs: BaseManager.register (typeid, callable, exposed), 'Customized managers'; " +
			"CPython test: _test_multiprocessing.py TestManagerRestart, _TestMyManager",
	})
)

// kindsOf lists the error kinds of records ("" for a success).
func kindsOf(rs []trace.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Kind()
	}
	return out
}

var _ = Describe("manager types", func() {
	suite.Spec(proxyQueue, "two producers put [tag, 0..9] on a manager Queue; main gets twenty", func() {
		t := suite.Run(New("manager/queue-proxy").
			Resource("m", "manager").
			Resource("q", "manager.queue", "manager", "m").
			Program("produce", []string{"q", "tag"},
				Repeat(10, "i", On("put", "q", "value", []any{Param("tag"), Param("i")}))).
			Main(
				Spawn("p", "produce", Ref("q"), "a"), Spawn("p", "produce", Ref("q"), "b"),
				Start("p"),
				Repeat(20, "", On("get", "q")),
				Join("p"),
				On("get_nowait", "q"),
			))
		m := suite.Main(t).Pid
		gets := t.Done(m, "get")
		Expect(gets).To(HaveLen(20))
		got := map[string][]string{}
		for _, g := range gets {
			Expect(g.OK).To(BeTrue(), "%s", g)
			item, _ := g.Value.([]any)
			Expect(item).To(HaveLen(2), "%s", g)
			tag, _ := item[0].(string)
			got[tag] = append(got[tag], trace.JSON(item[1]))
		}
		want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
		Expect(got).To(Equal(map[string][]string{"a": want, "b": want}), "each producer's items, in the order main got them")
		Expect(kindsOf(t.Done(m, "get_nowait"))).To(Equal([]string{"Empty"}))
	})

	suite.Spec(proxyJoinable, "a child gets three items and calls task_done for each; main's join waits for it", func() {
		t := suite.Run(New("manager/joinable-queue-proxy").
			Resource("m", "manager").
			Resource("q", "manager.joinable_queue", "manager", "m").
			Program("work", []string{"q"},
				Repeat(3, "", On("get", "q"), On("task_done", "q"))).
			Main(
				Repeat(3, "i", On("put", "q", "value", Param("i"))),
				Spawn("w", "work", Ref("q")), Start("w"),
				On("join", "q"),
				Join("w"),
				On("task_done", "q"),
			))
		m, w := suite.Main(t).Pid, suite.Program(t, "work").Pid
		joins := t.Filter(func(r trace.Record) bool { return r.Pid == m && !r.Pending && r.Op == "join" && r.In["on"] == "q" })
		Expect(joins).To(HaveLen(1))
		Expect(joins[0].OK).To(BeTrue(), "%s", joins[0])
		dones := t.Done(w, "task_done")
		Expect(dones).To(HaveLen(3))
		Expect(joins[0].T1).To(BeNumerically(">=", dones[2].T0), "join returned before the last task_done")
		Expect(kindsOf(t.Done(m, "task_done"))).To(Equal([]string{"ValueError"}))
	})

	suite.Spec(proxyEvent, "a child waits on a manager Event that main sets after a timed wait", func() {
		t := suite.Run(New("manager/event-proxy").
			Resource("m", "manager").
			Resource("e", "manager.event", "manager", "m").
			Program("waiter", []string{"e"}, On("wait", "e"), On("is_set", "e")).
			Main(
				Spawn("w", "waiter", Ref("e")), Start("w"),
				On("wait", "e", "timeout", 100),
				On("set", "e"),
				Join("w"),
			))
		m, w := suite.Main(t).Pid, suite.Program(t, "waiter").Pid
		Expect(t.Values(m, "wait")).To(Equal([]any{false}), "a timed wait on a clear event")
		Expect(t.Values(w, "wait")).To(Equal([]any{true}))
		Expect(t.Values(w, "is_set")).To(Equal([]any{true}))
		set, waited := t.Done(m, "set"), t.Done(w, "wait")
		Expect(set).To(HaveLen(1))
		Expect(waited[0].T1).To(BeNumerically(">=", set[0].T0), "the child's wait returned before main's set")
	})

	suite.Spec(proxySemaphore, "four processes hold a manager BoundedSemaphore(2) in turn", func() {
		t := suite.Run(New("manager/semaphore-proxy").
			Resource("m", "manager").
			Resource("S", "manager.bounded_semaphore", "manager", "m", "value", 2).
			Program("hold", []string{"s"}, On("acquire", "S"), Sleep(200), On("release", "S")).
			Main(
				Repeat(4, "", Spawn("w", "hold", Ref("S"))), Start("w"), Join("w"),
				On("release", "S"),
			))
		held := check.Held(t, "S")
		Expect(held).To(HaveLen(4))
		Expect(check.AtMost(held, 2)).To(Succeed())
		Expect(check.Disjoint(held)).NotTo(Succeed(), "a BoundedSemaphore(2) admits two at once")
		Expect(kindsOf(t.Done(suite.Main(t).Pid, "release"))).To(Equal([]string{"ValueError"}))
	})

	suite.Spec(proxyBarrier, "three processes wait on a manager Barrier(3)", func() {
		t := suite.Run(New("manager/barrier-proxy").
			Resource("m", "manager").
			Resource("B", "manager.barrier", "manager", "m", "parties", 3).
			Program("party", []string{"b"}, On("wait", "B")).
			Main(
				Repeat(3, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p"),
				On("parties", "B"), On("broken", "B"),
			))
		var ws []trace.Record
		var idx []any
		for _, p := range t.Children() {
			for _, w := range t.Done(p.Pid, "wait") {
				Expect(w.OK).To(BeTrue(), "%s", w)
				ws = append(ws, w)
				idx = append(idx, w.Value)
			}
		}
		Expect(idx).To(ConsistOf(trace.IntValue(0), trace.IntValue(1), trace.IntValue(2)))
		Expect(check.CommonPoint(check.Spans(ws))).To(Succeed(), "a party left before the last arrived")
		m := suite.Main(t).Pid
		Expect(t.Values(m, "parties")).To(Equal([]any{trace.IntValue(3)}))
		Expect(t.Values(m, "broken")).To(Equal([]any{false}))
	})

	suite.Spec(proxyArray, "two children set items of a manager Array('i', [0, 0, 0, 0])", func() {
		t := suite.Run(New("manager/array-proxy").
			Resource("m", "manager").
			Resource("a", "manager.array", "manager", "m", "typecode", "i", "init", []any{0, 0, 0, 0}).
			Program("setter", []string{"a", "i"}, On("array.set", "a", "at", Param("i"), "value", 7)).
			Main(
				Spawn("s", "setter", Ref("a"), 0), Spawn("s", "setter", Ref("a"), -1), Start("s"), Join("s"),
				On("array.copy", "a"), On("array.len", "a"), On("array.get", "a", "at", 3),
				On("array.get", "a", "at", 4),
			))
		m := suite.Main(t).Pid
		seven, zero := trace.IntValue(7), trace.IntValue(0)
		Expect(t.Values(m, "array.copy")).To(Equal([]any{[]any{seven, zero, zero, seven}}))
		Expect(t.Values(m, "array.len")).To(Equal([]any{trace.IntValue(4)}))
		Expect(kindsOf(t.Done(m, "array.get"))).To(Equal([]string{"", "IndexError"}))
	})

	suite.Spec(registered, "four processes increment a registered counter 25 times each", func() {
		t := suite.Run(New("manager/register").
			Resource("m", "manager").
			Resource("c", "manager.custom", "manager", "m", "typeid", "counter").
			Program("inc", []string{"c"}, Repeat(25, "", On("custom.call", "c", "method", "increment"))).
			Main(
				Repeat(4, "", Spawn("p", "inc", Ref("c"))), Start("p"), Join("p"),
				On("custom.call", "c", "method", "increment", "args", []any{0}),
				On("custom.call", "c", "method", "get"),
				On("custom.call", "c", "method", "secret"),
			))
		m := suite.Main(t).Pid
		calls := t.Done(m, "custom.call")
		Expect(kindsOf(calls)).To(Equal([]string{"", "", "NotAllowed"}))
		Expect(calls[1].Value).To(Equal(trace.IntValue(100)), "increments lost or doubled")
		for _, p := range t.Children() {
			for _, r := range t.Done(p.Pid, "custom.call") {
				Expect(r.OK).To(BeTrue(), "%s", r)
			}
		}
	})
})
