package queue

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The corners of the queues that CPython's docs and tests check: sizes, a
// second close, the queues after close, a bound of zero or less, and a child
// that puts on a queue its parent has already put on.

var (
	sizes = catalogue.Add(catalogue.Behaviour{
		ID: "queue.size", Profile: catalogue.Extended, Features: []string{"control", "process", "queue"},
		Rule: "qsize counts the items put and not yet got, full is true while maxsize items are in, " +
			"empty is false once the items of a child that has ended are in, and true when all are got",
		Source: "CPython docs: Queue.qsize, empty, full ('After putting an object on an empty queue there may be an " +
			"infinitesimal delay before the queue's empty() method returns False'); test_multiprocessing: test_qsize, test_put",
		CPythonTests: []string{"_TestQueue.test_qsize", "_TestQueue.test_put"},
	})
	closeTwice = catalogue.Add(catalogue.Behaviour{
		ID: "queue.close-twice", Profile: catalogue.Extended, Features: []string{"queue", "joinable_queue", "simple_queue"},
		Rule:         "closing a Queue, a JoinableQueue or a SimpleQueue a second time does nothing: no error",
		Source:       "CPython docs: Queue.close, SimpleQueue.close; test_multiprocessing: TestSimpleQueue.test_close ('closing a queue twice should not fail')",
		CPythonTests: []string{"TestSimpleQueue.test_close"},
	})
	simpleClosed = catalogue.Add(catalogue.Behaviour{
		ID: "queue.simple-closed", Profile: catalogue.Extended, Features: []string{"simple_queue"},
		Rule:         "after close, put, get and empty on that SimpleQueue fail with Closed: both of its ends are closed",
		Source:       "CPython docs: SimpleQueue.close ('Close the queue: release internal resources'); Lib/multiprocessing/queues.py SimpleQueue.close (closes _reader and _writer: OSError 'handle is closed')",
		CPythonTests: []string{"TestSimpleQueue.test_closed"},
	})
	joinableClosed = catalogue.Add(catalogue.Behaviour{
		ID: "queue.joinable-closed", Profile: catalogue.Extended, Features: []string{"joinable_queue"},
		Rule:         "after close, put and get on that JoinableQueue fail with Closed",
		Source:       "CPython docs: Queue.close (JoinableQueue is a Queue subclass); test_multiprocessing: test_closed_queue_put_get_exceptions",
		CPythonTests: []string{"_TestQueue.test_closed_queue_put_get_exceptions"},
	})
	unbounded = catalogue.Add(catalogue.Behaviour{
		ID: "queue.unbounded", Profile: catalogue.Extended, Features: []string{"control", "queue"},
		Rule:   "a Queue whose maxsize is 0 or less is unbounded: 100 put_nowait succeed and it is never full",
		Source: "CPython docs: Queue([maxsize]), queue.Queue ('If maxsize is less than or equal to zero, the queue size is infinite'); Lib/multiprocessing/queues.py Queue.__init__",
	})
	childAfterParent = catalogue.Add(catalogue.Behaviour{
		ID: "queue.child-after-parent", Profile: catalogue.Extended, Features: []string{"control", "process", "queue"},
		Rule:         "a child started after main has put on a Queue puts on it too: main gets every item once, each producer's in order, then Empty",
		Source:       "test_multiprocessing: _TestQueue.test_fork ('a new feeder thread for a forked process if the original process had its own')",
		CPythonTests: []string{"_TestQueue.test_fork"},
	})
)

// okKinds returns op:kind for each completed record of main's ops in ops.
func okKinds(t *trace.Trace, ops ...string) []string {
	var out []string
	for _, r := range t.Of(suite.Main(t).Pid) {
		for _, op := range ops {
			if !r.Pending && r.Op == op {
				out = append(out, r.Op+":"+r.Kind())
			}
		}
	}
	return out
}

var _ = Describe("queue corners", func() {
	// empty is asked only where the docs promise its answer: before any put,
	// after a child that put has ended (its items are in), after every get.
	suite.Spec(sizes, "Queue(3): qsize, empty, full before and after puts and gets, and after a child's put", func() {
		t := suite.Run(New("queue/size").
			Resource("q", "queue", "maxsize", 3).
			Program("fill", []string{"q"}, On("put", "q", "value", "x")).
			Main(
				On("qsize", "q"), On("empty", "q"), On("full", "q"),
				On("put", "q", "value", 1), On("qsize", "q"), On("full", "q"),
				On("put", "q", "value", 2), On("put", "q", "value", 3), On("qsize", "q"), On("full", "q"),
				Repeat(3, "", On("get", "q", "timeout", 10_000)),
				On("qsize", "q"), On("empty", "q"), On("full", "q"),
				Spawn("c", "fill", Ref("q")), Start("c"), Join("c"),
				On("empty", "q"), On("qsize", "q"),
				On("get", "q", "timeout", 10_000), On("empty", "q"),
			))
		m := suite.Main(t).Pid
		Expect(ints(t.Values(m, "qsize"))).To(Equal([]int{0, 1, 3, 0, 1}), "qsize")
		Expect(t.Values(m, "full")).To(Equal([]any{false, false, true, false}), "full")
		Expect(t.Values(m, "empty")).To(Equal([]any{true, true, false, true}), "empty")
		Expect(t.Values(m, "get")).To(Equal([]any{trace.IntValue(1), trace.IntValue(2), trace.IntValue(3), "x"}))
	})

	// A put first, so that CPython's close has a feeder thread to stop.
	suite.Spec(closeTwice, "each kind of queue: put, close, close", func() {
		t := suite.Run(New("queue/close-twice").
			Resource("q", "queue").Resource("j", "joinable_queue").Resource("s", "simple_queue").
			Main(
				On("put", "q", "value", 1), On("close", "q"), On("close", "q"),
				On("put", "j", "value", 1), On("close", "j"), On("close", "j"),
				On("put", "s", "value", 1), On("close", "s"), On("close", "s"),
			))
		Expect(okKinds(t, "close")).To(Equal([]string{"close:", "close:", "close:", "close:", "close:", "close:"}))
	})

	suite.Spec(simpleClosed, "SimpleQueue: put, close, then put, get, empty", func() {
		t := suite.Run(New("queue/simple-closed").
			Resource("s", "simple_queue").
			Main(On("put", "s", "value", 1), On("close", "s"),
				On("put", "s", "value", 2), On("get", "s"), On("empty", "s")))
		Expect(okKinds(t, "put", "get", "empty")).To(Equal([]string{"put:", "put:Closed", "get:Closed", "empty:Closed"}))
	})

	suite.Spec(joinableClosed, "JoinableQueue: put, close, then put and get", func() {
		t := suite.Run(New("queue/joinable-closed").
			Resource("j", "joinable_queue").
			Main(On("put", "j", "value", 1), On("close", "j"), On("put", "j", "value", 2), On("get", "j", "timeout", 1_000)))
		Expect(okKinds(t, "put", "get")).To(Equal([]string{"put:", "put:Closed", "get:Closed"}))
	})

	suite.Spec(unbounded, "Queue(0) and Queue(-1): 100 put_nowait each, full, qsize", func() {
		t := suite.Run(New("queue/unbounded").
			Resource("z", "queue", "maxsize", 0).Resource("n", "queue", "maxsize", -1).
			Main(
				Repeat(100, "k", On("put_nowait", "z", "value", Param("k"))), On("full", "z"), On("qsize", "z"),
				Repeat(100, "k", On("put_nowait", "n", "value", Param("k"))), On("full", "n"), On("qsize", "n"),
			))
		m := suite.Main(t).Pid
		for _, r := range t.Done(m, "put_nowait") {
			Expect(r.OK).To(BeTrue(), "a put_nowait on an unbounded queue: %s", r)
		}
		Expect(t.Done(m, "put_nowait")).To(HaveLen(200))
		Expect(t.Values(m, "full")).To(Equal([]any{false, false}))
		Expect(ints(t.Values(m, "qsize"))).To(Equal([]int{100, 100}))
	})

	suite.Spec(childAfterParent, "main puts 0..9, then a child puts [child, 0..9]; main gets 20, then get_nowait", func() {
		t := suite.Run(New("queue/child-after-parent").
			Resource("q", "queue").
			Program("more", []string{"q"}, Repeat(10, "k", On("put", "q", "value", []any{"child", Param("k")}))).
			Main(
				Repeat(10, "k", On("put", "q", "value", Param("k"))),
				Spawn("c", "more", Ref("q")), Start("c"),
				Repeat(20, "", On("get", "q", "timeout", 10_000)),
				Join("c"), On("get_nowait", "q"),
			))
		m := suite.Main(t).Pid
		gets := t.Done(m, "get")
		Expect(gets).To(HaveLen(20))
		var mains, childs []int
		for _, g := range gets {
			Expect(g.OK).To(BeTrue(), "%s", g)
			if pair, ok := g.Value.([]any); ok && len(pair) == 2 && pair[0] == "child" {
				n, _ := trace.Int(pair[1])
				childs = append(childs, int(n))
			} else {
				n, ok := trace.Int(g.Value)
				Expect(ok).To(BeTrue(), "an item nobody put: %s", g)
				mains = append(mains, int(n))
			}
		}
		Expect(mains).To(Equal(count(10)), "main's items, in order")
		Expect(childs).To(Equal(count(10)), "the child's items, in order")
		Expect(t.Done(m, "get_nowait")[0].Kind()).To(Equal("Empty"))
	})
})
