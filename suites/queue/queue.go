// Package queue holds the specs for Queue, JoinableQueue and SimpleQueue shared
// between processes: bounds, order, blocking and the task protocol
// (docs/behaviours.md, area "queue").
package queue

import (
	"fmt"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	bounded = catalogue.Add(catalogue.Behaviour{
		ID: "queue.bounded", Profile: catalogue.Core, Features: []string{"control", "process", "queue"},
		Rule:   "a Queue(k) never holds more than k items: put blocks while it is full",
		Source: "tutorial, program 4 (Queue(3) producer and consumer); CPython docs: Queue(maxsize)",
	})
	fifo = catalogue.Add(catalogue.Behaviour{
		ID: "queue.fifo", Profile: catalogue.Core, Features: []string{"control", "process", "queue"},
		Rule:   "items from one producer arrive in the order they were put",
		Source: "tutorial, program 4; CPython docs: 'Queue ... FIFO'",
	})
	blockingGet = catalogue.Add(catalogue.Behaviour{
		ID: "queue.blocking-get", Profile: catalogue.Core, Features: []string{"control", "process", "queue"},
		Rule:   "get blocks until an item arrives, then returns it",
		Source: "tutorial, program 4 (the reader's q.get(True)); CPython docs: Queue.get",
	})
	putNowaitFull = catalogue.Add(catalogue.Behaviour{
		ID: "queue.put-nowait-full", Profile: catalogue.Extended, Features: []string{"queue"},
		Rule:         "put_nowait on a full Queue fails with Full; get_nowait on an empty one with Empty",
		Source:       "CPython docs: Queue.put_nowait, get_nowait; test_multiprocessing: test_put, test_get",
		CPythonTests: []string{"_TestQueue.test_put", "_TestQueue.test_get"},
	})
	getTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "queue.get-timeout", Profile: catalogue.Extended, Features: []string{"queue"},
		Rule:         "get(timeout) on an empty Queue fails with Empty, and not before the timeout",
		Source:       "CPython docs: Queue.get; test_multiprocessing: test_timeout",
		CPythonTests: []string{"_TestQueue.test_get", "_TestQueue.test_timeout"},
	})
	noLoss = catalogue.Add(catalogue.Behaviour{
		ID: "queue.no-loss", Profile: catalogue.Extended, Features: []string{"control", "process", "queue", "bulk"},
		Rule:   "4 producers and 4 consumers moving 40 000 items through one Queue: every item arrives exactly once",
		Source: "CPython docs: multiprocessing.Queue ('process and thread safe')",
	})
	fifoPerProducer = catalogue.Add(catalogue.Behaviour{
		ID: "queue.fifo-per-producer", Profile: catalogue.Extended, Features: []string{"control", "process", "queue", "bulk"},
		Rule:   "under 4×4 load, each consumer sees each producer's items in the order they were put",
		Source: "CPython docs: multiprocessing.Queue (FIFO)",
	})
	putResumes = catalogue.Add(catalogue.Behaviour{
		ID: "queue.put-resumes", Profile: catalogue.Extended, Features: []string{"control", "process", "queue"},
		Rule:   "a put on a full Queue blocks until a get makes room, then completes",
		Source: "CPython docs: Queue.put ('block if necessary until a free slot is available')",
	})
	putTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "queue.put-timeout", Profile: catalogue.Extended, Features: []string{"queue"},
		Rule:         "put(timeout) on a full Queue fails with Full, and not before the timeout",
		Source:       "CPython docs: Queue.put; test_multiprocessing: test_put",
		CPythonTests: []string{"_TestQueue.test_put"},
	})
	closed = catalogue.Add(catalogue.Behaviour{
		ID: "queue.closed", Profile: catalogue.Extended, Features: []string{"queue"},
		Rule:         "after close, put and get on that Queue fail with Closed",
		Source:       "CPython docs: Queue.close; Lib/multiprocessing/queues.py (put, get: 'Queue ... is closed')",
		CPythonTests: []string{"_TestQueue.test_closed_queue_put_get_exceptions"},
	})
	simple = catalogue.Add(catalogue.Behaviour{
		ID: "queue.simple", Profile: catalogue.Extended, Features: []string{"control", "process", "simple_queue"},
		Rule:         "a SimpleQueue carries items between processes in order; empty is true exactly when nothing is queued",
		Source:       "CPython docs: SimpleQueue (get, put, empty)",
		CPythonTests: []string{"TestSimpleQueue.test_empty"},
	})
	survivesKill = catalogue.Add(catalogue.Behaviour{
		ID: "queue.survives-kill", Profile: catalogue.Robust, Features: []string{"control", "process", "queue", "event", "bulk"},
		Rule: "a process SIGKILLed while it waits on a Queue (get or put) or works on it neither deadlocks the queue " +
			"nor makes it lose, duplicate or corrupt the items of the processes that remain",
		Source: "mpconform robust profile; CPython holds Queue._rlock while a get waits, so a killed getter blocks every other getter",
		Guarantee: "A process killed at any point of a put or a get, SIGKILL included, neither deadlocks the queue nor makes it " +
			"lose or duplicate any message but the one it was putting or getting: the put and get locks record their holder's " +
			"pid and start time, and a process that has waited 20 ms for a lock whose holder has died takes it over and repairs " +
			"what the holder left half-done. A message whose put is killed is delivered whole, exactly once, if the put had " +
			"published it (one atomic store, after the copy), and never otherwise; a message longer than the ring that had begun " +
			"to stream through it is cut short and discarded by its getter. A message whose get is killed stays in the queue for " +
			"the next get, unless the get had freed it (one atomic store, after the copy) or, for a message longer than the ring, " +
			"part of it: then it counts as delivered, to the dead process. qsize, maxsize and a JoinableQueue's count of " +
			"unfinished tasks stay consistent with the messages in the queue. put_nowait and get_nowait do not wait for a repair: " +
			"they fail with Full or Empty until a call of their process finds the same dead holder 20 ms after a first one did, " +
			"and takes the lock over. A holder that is alive but stopped (SIGSTOP) is waited for.",
	})
	stress = catalogue.Add(catalogue.Behaviour{
		ID: "queue.stress", Profile: catalogue.Robust, Features: []string{"control", "process", "queue", "bulk"},
		Rule: "4 producers and 4 consumers move 1 000 000 items through one Queue with none lost, " +
			"and no process's peak memory grows by more than half (plus 16 MiB) from a run ten times smaller",
		Source: "mpconform robust profile",
	})
	joinableJoin = catalogue.Add(catalogue.Behaviour{
		ID: "queue.joinable-join", Profile: catalogue.Extended, Features: []string{"control", "process", "joinable_queue"},
		Rule:         "JoinableQueue.join returns only after task_done was called for every item put; one task_done too many is a ValueError",
		Source:       "CPython docs: JoinableQueue.task_done, join; test_multiprocessing: test_task_done",
		CPythonTests: []string{"_TestQueue.test_task_done"},
	})
)

// ints reads a trace value list of JSON integers.
func ints(vs []any) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		n, _ := trace.Int(v)
		out[i] = int(n)
	}
	return out
}

// count returns 0..n-1.
func count(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// occupancy is the least number of items the queue must have held at some
// instant: puts that had returned minus gets that had begun.
func occupancy(puts, gets []trace.Record) (int, string) {
	type ev struct {
		t int64
		d int
	}
	var evs []ev
	for _, p := range puts {
		evs = append(evs, ev{p.T1, +1})
	}
	for _, g := range gets {
		evs = append(evs, ev{g.T0, -1})
	}
	// A get that began at the instant a put returned may take that item.
	sort.Slice(evs, func(i, j int) bool { return evs[i].t < evs[j].t || evs[i].t == evs[j].t && evs[i].d < evs[j].d })
	n, most, at := 0, 0, int64(0)
	for _, e := range evs {
		n += e.d
		if n > most {
			most, at = n, e.t
		}
	}
	return most, fmt.Sprintf("at t=%d", at)
}

// collected returns the items of a get_many record's value (collect: true).
func collected(v any) []int {
	items, _ := trace.Lookup(v, "items").([]any)
	return ints(items)
}

var _ = Describe("queue", func() {
	// The tutorial's producer and consumer, on a Queue(3): the writer puts ten
	// items as fast as it can, the reader takes them slowly.
	tutorial := func() *trace.Trace {
		return suite.Run(New("queue/tutorial").
			Resource("q", "queue", "maxsize", 3).
			Program("write", []string{"q"}, Repeat(10, "k", On("put", "q", "value", Param("k")))).
			Program("read", []string{"q"}, Repeat(10, "", Sleep(50), On("get", "q"))).
			Main(
				Spawn("w", "write", Ref("q")), Spawn("r", "read", Ref("q")),
				Start("w"), Start("r"), Join("w"), Join("r"),
			))
	}

	suite.Spec(bounded, "ten puts into a Queue(3) read slowly: never more than 3 inside", func() {
		t := tutorial()
		w, r := suite.Program(t, "write"), suite.Program(t, "read")
		puts, gets := t.Done(w.Pid, "put"),
			t.Done(r.Pid, "get")
		Expect(puts).To(HaveLen(10))
		Expect(gets).To(HaveLen(10))
		most, at := occupancy(puts, gets)
		Expect(most).To(BeNumerically("<=", 3), "the queue held at least %d items %s", most, at)
		Expect(most).To(Equal(3), "a slow reader lets the queue fill up")
	})

	suite.Spec(fifo, "the reader gets 0..9 in order", func() {
		t := tutorial()
		got := ints(t.Values(suite.Program(t, "read").Pid, "get"))
		Expect(got).To(Equal([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
	})

	suite.Spec(blockingGet, "a get that starts on an empty queue returns the item put 300 ms later", func() {
		t := suite.Run(New("queue/blocking-get").
			Resource("q", "queue").
			Program("read", []string{"q"}, On("get", "q")).
			Main(Spawn("r", "read", Ref("q")), Start("r"), Sleep(300), On("put", "q", "value", "爸爸"), Join("r")))
		r := suite.Program(t, "read")
		get := t.Done(r.Pid, "get")
		put := t.Op("put")
		Expect(get).To(HaveLen(1))
		Expect(put).To(HaveLen(1))
		Expect(get[0].OK).To(BeTrue(), "%s", get[0])
		Expect(get[0].Value).To(Equal("爸爸"))
		Expect(get[0].T1).To(BeNumerically(">=", put[0].T0), "get returned before the put began: %s", get[0])
	})

	// The first get waits: CPython's docs allow "an infinitesimal delay" before
	// an item put is visible to get_nowait (its feeder thread).
	suite.Spec(putNowaitFull, "Queue(1): put_nowait twice, get, get_nowait", func() {
		t := suite.Run(New("queue/put-nowait-full").
			Resource("q", "queue", "maxsize", 1).
			Main(
				On("put_nowait", "q", "value", 1), On("put_nowait", "q", "value", 2),
				On("get", "q", "timeout", 10_000), On("get_nowait", "q"),
			))
		m := suite.Main(t).Pid
		var kinds []string
		for _, r := range t.Of(m) {
			if !r.Pending && (r.Op == "put_nowait" || r.Op == "get_nowait" || r.Op == "get") {
				kinds = append(kinds, r.Op+":"+r.Kind())
			}
		}
		Expect(kinds).To(Equal([]string{"put_nowait:", "put_nowait:Full", "get:", "get_nowait:Empty"}))
		Expect(t.Values(m, "get")).To(Equal([]any{trace.IntValue(1)}))
	})

	suite.Spec(getTimeout, "get(timeout=300ms) on an empty queue", func() {
		t := suite.Run(New("queue/get-timeout").
			Resource("q", "queue").
			Main(On("get", "q", "timeout", 300)))
		get := t.Op("get")
		Expect(get).To(HaveLen(1))
		Expect(get[0].Kind()).To(Equal("Empty"))
		Expect(get[0].T1-get[0].T0).To(BeNumerically(">=", suite.Scale(300).Nanoseconds()-int64(1e6)), "returned before its timeout")
	})

	suite.Spec(joinableJoin, "join waits for the worker's third task_done", func() {
		t := suite.Run(New("queue/joinable-join").
			Resource("q", "joinable_queue").
			Program("work", []string{"q"}, Repeat(3, "", On("get", "q"), Sleep(100), On("task_done", "q"))).
			Main(
				Repeat(3, "k", On("put", "q", "value", Param("k"))),
				Spawn("w", "work", Ref("q")), Start("w"),
				On("join", "q"),
				Join("w"),
				On("task_done", "q"),
			))
		w := suite.Program(t, "work")
		done := t.Done(w.Pid, "task_done")
		Expect(done).To(HaveLen(3))
		m := suite.Main(t).Pid
		join := t.Filter(func(x trace.Record) bool { return x.Pid == m && x.Op == "join" && x.In["on"] == "q" && !x.Pending })
		Expect(join).To(HaveLen(1))
		Expect(join[0].T1).To(BeNumerically(">=", done[2].T0), "join returned before the last task_done")
		extra := t.Done(m, "task_done")
		Expect(extra).To(HaveLen(1))
		Expect(extra[0].Kind()).To(Equal("ValueError"), "a fourth task_done")
	})

	suite.Spec(putResumes, "Queue(1): a child's second put returns only after main's get began", func() {
		t := suite.Run(New("queue/put-resumes").
			Resource("q", "queue", "maxsize", 1).
			Program("fill", []string{"q"}, On("put", "q", "value", 2)).
			Main(
				On("put", "q", "value", 1),
				Spawn("c", "fill", Ref("q")), Start("c"),
				Sleep(300),
				On("get", "q"), Join("c"), On("get", "q", "timeout", 10_000),
			))
		m, c := suite.Main(t).Pid, suite.Program(t, "fill").Pid
		put, gets := t.Done(c, "put"), t.Done(m, "get")
		Expect(put).To(HaveLen(1))
		Expect(put[0].OK).To(BeTrue(), "%s", put[0])
		Expect(gets).To(HaveLen(2))
		Expect(put[0].T1).To(BeNumerically(">=", gets[0].T0), "the put into the full queue returned before any get: %s", put[0])
		Expect(t.Values(m, "get")).To(Equal([]any{trace.IntValue(1), trace.IntValue(2)}))
	})

	suite.Spec(putTimeout, "Queue(1) holding one item: put(timeout=300ms)", func() {
		t := suite.Run(New("queue/put-timeout").
			Resource("q", "queue", "maxsize", 1).
			Main(On("put", "q", "value", 1), On("put", "q", "value", 2, "timeout", 300), On("get_nowait", "q")))
		puts := t.Done(suite.Main(t).Pid, "put")
		Expect(puts).To(HaveLen(2))
		Expect(puts[1].Kind()).To(Equal("Full"))
		Expect(puts[1].T1-puts[1].T0).To(BeNumerically(">=", suite.Scale(300).Nanoseconds()-int64(1e6)), "returned before its timeout")
		Expect(t.Values(suite.Main(t).Pid, "get_nowait")).To(Equal([]any{trace.IntValue(1)}), "the timed-out put left nothing behind")
	})

	suite.Spec(closed, "put, close, then put and get", func() {
		t := suite.Run(New("queue/closed").
			Resource("q", "queue").
			Main(On("put", "q", "value", 1), On("close", "q"), On("put", "q", "value", 2), On("get", "q", "timeout", 1_000)))
		m := suite.Main(t).Pid
		puts, gets := t.Done(m, "put"), t.Done(m, "get")
		Expect(puts).To(HaveLen(2))
		Expect(gets).To(HaveLen(1))
		Expect([]string{puts[0].Kind(), puts[1].Kind(), gets[0].Kind()}).To(Equal([]string{"", "Closed", "Closed"}))
	})

	suite.Spec(simple, "a child puts 0..4; main sees empty, then the items in order, then empty", func() {
		t := suite.Run(New("queue/simple").
			Resource("q", "simple_queue").
			Program("fill", []string{"q"}, Repeat(5, "k", On("put", "q", "value", Param("k")))).
			Main(
				On("empty", "q"),
				Spawn("c", "fill", Ref("q")), Start("c"), Join("c"),
				On("empty", "q"),
				Repeat(5, "", On("get", "q")),
				On("empty", "q"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "empty")).To(Equal([]any{true, false, true}))
		Expect(ints(t.Values(m, "get"))).To(Equal([]int{0, 1, 2, 3, 4}))
	})

	// Three victims, then survivors that must still be served: a put waiting
	// on a full queue, a get waiting on an empty one (both deterministic), and
	// a producer and a consumer moving 4 MiB items, killed at a moment that
	// likely finds one of them copying. Every wait of the survivors is timed,
	// so a deadlocked queue fails the spec rather than hanging it; the event
	// tells main that a victim is about to wait.
	suite.Spec(survivesKill, "victims killed waiting and working; survivors move 0..9 in order", func() {
		const big, survivors = 4 << 20, 10
		t := suite.Run(New("queue/survives-kill").
			Resource("q", "queue", "maxsize", 1).
			Resource("w", "queue", "maxsize", 1).
			Resource("e", "event").
			Program("put", []string{"q", "e"}, On("set", "e"), On("put", "q", "value", "victim")).
			Program("get", []string{"q", "e"}, On("set", "e"), On("get", "q")).
			Program("fill", []string{"w"}, On("put_many", "w", "n", 1_000_000, "size", big)).
			Program("drain", []string{"w"}, On("get_many", "w", "n", 1_000_000)).
			Program("produce", []string{"q"}, Repeat(survivors, "k", On("put", "q", "value", Param("k"), "timeout", 3_000))).
			Program("consume", []string{"q"}, Repeat(survivors, "", On("get", "q", "timeout", 3_000))).
			Program("produce-w", []string{"w"}, Repeat(survivors, "k", On("put", "w", "value", Param("k"), "timeout", 3_000))).
			Program("consume-w", []string{"w"}, Repeat(survivors, "", On("get", "w", "timeout", 3_000))).
			Main(
				// A put waiting on a full queue.
				On("put", "q", "value", "first"),
				Spawn("vp", "put", Ref("q"), Ref("e")), Start("vp"), On("wait", "e"), Sleep(500), Kill("vp"), Join("vp"),
				On("get", "q", "timeout", 5_000), On("get_nowait", "q"),
				// A get waiting on an empty queue.
				On("clear", "e"),
				Spawn("vg", "get", Ref("q"), Ref("e")), Start("vg"), On("wait", "e"), Sleep(500), Kill("vg"), Join("vg"),
				// Two workers, killed mid-stream.
				Spawn("vw", "fill", Ref("w")), Spawn("vw", "drain", Ref("w")), Start("vw"), Sleep(300), Kill("vw"), Join("vw"),
				On("get", "w", "timeout", 1_000),
				// The survivors, on both queues.
				Spawn("s", "produce", Ref("q")), Spawn("s", "consume", Ref("q")),
				Spawn("s", "produce-w", Ref("w")), Spawn("s", "consume-w", Ref("w")),
				Start("s"), Join("s"),
			))
		m := suite.Main(t).Pid
		gets := t.Done(m, "get")
		Expect(gets).To(HaveLen(2))
		Expect(gets[0].Value).To(Equal("first"), "the item put before the killed put waited: %s", gets[0])
		Expect(t.Done(m, "get_nowait")[0].Kind()).To(Equal("Empty"), "the killed put's item must not appear")
		if gets[1].OK {
			Expect(trace.Field(trace.Field(gets[1].Value, "digest"), "len")).To(Equal(trace.IntValue(big)),
				"what the killed workers left in the queue is a whole item: %s", gets[1])
		} else {
			Expect(gets[1].Kind()).To(Equal("Empty"), "%s", gets[1])
		}
		for _, c := range t.Children() {
			switch c.Program {
			case "produce", "produce-w":
				for _, r := range t.Done(c.Pid, "put") {
					Expect(r.OK).To(BeTrue(), "a survivor's put failed: %s", r)
				}
			case "consume", "consume-w":
				for _, r := range t.Done(c.Pid, "get") {
					Expect(r.OK).To(BeTrue(), "a survivor's get failed: %s", r)
				}
				Expect(ints(t.Values(c.Pid, "get"))).To(Equal(count(survivors)), "a survivor received other items")
			}
		}
	})

	suite.Spec(stress, "4×4 with 100 000, then 1 000 000 items: counts, sums and peak memory", func() {
		// peak runs n items through and returns the largest peak RSS (KiB)
		// of any process, after checking that every item arrived once.
		peak := func(n int) int64 {
			GinkgoHelper()
			const producers, consumers = 4, 4
			sc := New(fmt.Sprintf("queue/stress-%d", n)).
				Resource("q", "queue").
				Program("consume", []string{"q"}, On("get_many", "q", "n", n/consumers))
			var main []Step
			var want int64
			for p := range producers {
				name := fmt.Sprintf("produce%d", p)
				start := p * 1_000_000_000
				sc.Program(name, []string{"q"}, On("put_many", "q", "n", n/producers, "start", start))
				main = append(main, Spawn("p", name, Ref("q")))
				k := int64(n / producers)
				want += k*int64(start) + k*(k-1)/2
			}
			main = append(main, Repeat(consumers, "", Spawn("c", "consume", Ref("q"))), Start("c"), Start("p"), Join("p"), Join("c"))
			t := suite.RunWithin(300_000, sc.Main(main...))
			var count, sum int64
			for _, c := range t.Processes() {
				for _, v := range t.Values(c.Pid, "get_many") {
					k, _ := trace.Int(trace.Lookup(v, "count"))
					s, _ := trace.Int(trace.Lookup(v, "sum"))
					count, sum = count+k, sum+s
				}
			}
			Expect(count).To(Equal(int64(n)), "items received")
			Expect(sum).To(Equal(want), "the sum of the items received")
			return t.PeakRSS()
		}
		small, large := peak(100_000), peak(1_000_000)
		suite.Figures("peak RSS of the largest process: %d KiB for 100 000 items, %d KiB for 1 000 000", small, large)
		Expect(large).To(BeNumerically("<=", small*3/2+16<<10), "peak memory grew with the number of items (KiB)")
	})

	Describe("under load", func() {
		const producers, consumers, each = 4, 4, 10_000
		var got [][]int // per consumer, in the order received; run once for both specs
		load := func() [][]int {
			GinkgoHelper()
			if got != nil {
				return got
			}
			sc := New("queue/4x4").
				Resource("q", "queue").
				Program("consume", []string{"q"}, On("get_many", "q", "n", each, "collect", true))
			var main []Step
			for p := range producers {
				name := fmt.Sprintf("produce%d", p)
				sc.Program(name, []string{"q"}, On("put_many", "q", "n", each, "start", p*1_000_000))
				main = append(main, Spawn("p", name, Ref("q")))
			}
			main = append(main, Repeat(consumers, "", Spawn("c", "consume", Ref("q"))),
				Start("c"), Start("p"), Join("p"), Join("c"))
			t := suite.Run(sc.Main(main...))
			for _, c := range t.Children() {
				if c.Program == "consume" {
					for _, v := range t.Values(c.Pid, "get_many") {
						got = append(got, collected(v))
					}
				}
			}
			return got
		}

		suite.Spec(noLoss, "every one of 40 000 items once", func() {
			got := load()
			Expect(got).To(HaveLen(consumers))
			seen := map[int]int{}
			for _, items := range got {
				for _, x := range items {
					seen[x]++
				}
			}
			var lost, dup []int
			for p := range producers {
				for k := range each {
					switch x := p*1_000_000 + k; seen[x] {
					case 0:
						lost = append(lost, x)
					case 1:
					default:
						dup = append(dup, x)
					}
				}
			}
			Expect(lost).To(BeEmpty(), "items lost")
			Expect(dup).To(BeEmpty(), "items delivered twice")
			Expect(len(seen)).To(Equal(producers*each), "items that nobody put")
		})

		suite.Spec(fifoPerProducer, "each consumer's items from one producer increase", func() {
			got := load()
			Expect(got).To(HaveLen(consumers))
			for c, items := range got {
				last := map[int]int{}
				for _, x := range items {
					p := x / 1_000_000
					if prev, ok := last[p]; ok {
						Expect(x).To(BeNumerically(">", prev), "consumer %d got %d after %d from producer %d", c, x, prev, p)
					}
					last[p] = x
				}
			}
		})
	})
})
