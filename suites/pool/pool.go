// Package pool holds the specs for Pool: dispatch of tasks to a bounded set of
// worker processes, results in order or as they come, errors, time-outs, the
// close/join/terminate life cycle, and workers that die under a task
// (docs/behaviours.md, area "pool").
//
// A task is a program that a worker runs between a task.begin record (whose
// "in" holds the task's args) and a task.end record (docs/protocol.md §6
// "pool"); the specs read tasks from those records, paired per worker.
package pool

import (
	"fmt"
	"runtime"
	"slices"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	allOnce = catalogue.Add(catalogue.Behaviour{
		ID: "pool.all-once", Profile: catalogue.Core, Features: []string{"control", "pool"},
		Rule:   "each of 40 tasks submitted with apply_async runs exactly once, to its end",
		Source: "tutorial, program 8 (Pool: 40 × apply_async, close, join)",
	})
	sizeBound = catalogue.Add(catalogue.Behaviour{
		ID: "pool.size-bound", Profile: catalogue.Core, Features: []string{"control", "pool"},
		Rule: "no more than `processes` tasks run at once, in no more than `processes` workers; " +
			"the default is the CPU count",
		Source: "tutorial, program 8 (Pool() on a 4-core machine runs 4 tasks at a time); " +
			"CPython docs: Pool(processes) ('If processes is None then the number returned by os.cpu_count() is used')",
		CPythonTests: []string{"_TestPool.test_make_pool"},
	})
	fifoDispatch = catalogue.Add(catalogue.Behaviour{
		ID: "pool.fifo-dispatch", Profile: catalogue.Core, Features: []string{"control", "pool"},
		Rule:   "tasks start in the order submitted, up to the workers' race: when task j starts, at least j−(P−1) earlier tasks have started",
		Source: "tutorial, program 8 (tasks 0..3 start first, task 4 when one of them ends); CPython: Pool's task queue is a FIFO",
	})
	closeJoin = catalogue.Add(catalogue.Behaviour{
		ID: "pool.close-join", Profile: catalogue.Core, Features: []string{"control", "pool"},
		Rule: "after close and join every task has finished and the workers have exited: " +
			"join returns, and main's next record comes, after every task.end",
		Source: "tutorial, program 8 ('All subprocesses done.' last); CPython docs: Pool.join ('Wait for the worker processes to exit')",
	})
	mapOrder = catalogue.Add(catalogue.Behaviour{
		ID: "pool.map-order", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "map returns the results in the order of its input, even when later items finish first",
		Source:       "CPython docs: Pool.map ('blocks until the result is ready'; results in order, as the built-in map)",
		CPythonTests: []string{"_TestPool.test_map"},
	})
	imapOrder = catalogue.Add(catalogue.Behaviour{
		ID: "pool.imap-order", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "imap yields the results in the order of its input, even when later items finish first",
		Source:       "CPython docs: Pool.imap ('A lazier version of map()')",
		CPythonTests: []string{"_TestPool.test_imap"},
	})
	imapUnordered = catalogue.Add(catalogue.Behaviour{
		ID: "pool.imap-unordered", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "imap_unordered yields each result as it comes: fast items before a slow first item, which comes last",
		Source:       "CPython docs: Pool.imap_unordered ('the ordering of the results from the returned iterator should be considered arbitrary')",
		CPythonTests: []string{"_TestPool.test_imap_unordered"},
	})
	chunksize = catalogue.Add(catalogue.Behaviour{
		ID: "pool.chunksize", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "map with chunksize k hands items i..i+k−1 of each chunk to one worker in one piece: same worker, one after another, in order",
		Source:       "CPython docs: Pool.map ('chops the iterable into a number of chunks which it submits to the process pool as separate tasks')",
		CPythonTests: []string{"_TestPool.test_map"},
	})
	maxTasks = catalogue.Add(catalogue.Behaviour{
		ID: "pool.maxtasksperchild", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "with maxtasksperchild=1 each task runs in a worker of its own (distinct pids), and the pool still completes every task",
		Source:       "CPython docs: Pool(maxtasksperchild) ('the number of tasks a worker process can complete before it will exit and be replaced with a fresh worker process')",
		CPythonTests: []string{"_TestPoolWorkerLifetime.test_pool_worker_lifetime"},
	})
	initializer = catalogue.Add(catalogue.Behaviour{
		ID: "pool.initializer", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "the initializer runs once in each worker process, with initargs, before that worker's first task",
		Source:       "CPython docs: Pool(initializer, initargs) ('each worker process will call initializer(*initargs) when it starts')",
		CPythonTests: []string{"TestInitializers.test_pool_initializer"},
	})
	taskError = catalogue.Add(catalogue.Behaviour{
		ID: "pool.task-error", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "a task that raises gives TaskError with its message from result.get, apply and map (map once every item has finished); " +
			"callback gets results and error_callback errors, in the caller's process",
		Source: "CPython docs: AsyncResult.get ('If the remote call raised an exception then that exception will be reraised by get()'), " +
			"Pool.apply_async (callback, error_callback); Lib/multiprocessing/pool.py MapResult._set ('only consider the result ready once all jobs are done')",
		CPythonTests: []string{"_TestPool.test_wrapped_exception", "_TestPool.test_map_no_failfast", "_TestPoolWorkerErrors.test_async_error_callback"},
	})
	getTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "pool.get-timeout", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "result.get(timeout) on a task still running fails with Timeout, not before the timeout, and the task still completes",
		Source:       "CPython docs: AsyncResult.get ('If timeout is not None and the result does not arrive within timeout seconds then multiprocessing.TimeoutError is raised')",
		CPythonTests: []string{"_TestPool.test_async_timeout", "_TestPoolWorkerLifetime.test_worker_finalization_via_atexit_handler_of_multiprocessing"},
	})
	terminate = catalogue.Add(catalogue.Behaviour{
		ID: "pool.terminate", Profile: catalogue.Extended, Features: []string{"control", "pool", "process"},
		Rule:         "terminate stops the workers at once: running tasks never end, join then returns, and no worker is left among the active children",
		Source:       "CPython docs: Pool.terminate ('Stops the worker processes immediately without completing outstanding work')",
		CPythonTests: []string{"_TestPool.test_terminate"},
	})
	misuse = catalogue.Add(catalogue.Behaviour{
		ID: "pool.misuse", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:   "join before close, and apply or apply_async after close, fail with NotAllowed; result.successful before the result is ready fails with ValueError",
		Source: "CPython docs: Pool.join ('One must call close() or terminate() before using join()'), Pool.close, AsyncResult.successful ('If the result is not ready, ValueError is raised')",
	})
	stress = catalogue.Add(catalogue.Behaviour{
		ID: "pool.stress", Profile: catalogue.Robust, Features: []string{"control", "pool"},
		Rule: "a Pool(8) runs 10 000, then 100 000 tasks in maps of 1 000: every result comes back in order, " +
			"and no process's peak memory grows by more than half (plus 16 MiB) with the work",
		Source: "mpconform robust profile",
	})
	workerKilled = catalogue.Add(catalogue.Behaviour{
		ID: "pool.worker-killed", Profile: catalogue.Robust, Features: []string{"control", "pool"},
		Rule: "a task that kills its worker with SIGKILL fails, alone, with WorkerLost; the pool replaces the worker, " +
			"finishes every other task, and close and join return",
		Source: "CPython waits for the lost result for ever (gh-66587); test_multiprocessing: test_pool_worker_lifetime_early_close",
	})
	workerExit = catalogue.Add(catalogue.Behaviour{
		ID: "pool.worker-exit", Profile: catalogue.Robust, Features: []string{"control", "pool"},
		Rule: "a task that exits its worker (sys.exit) fails, alone, with WorkerLost; the pool replaces the worker, " +
			"finishes every other task, and close and join return",
		Source: "CPython waits for the lost result for ever (gh-66587)",
	})
)

// task is one task as its worker recorded it.
type task struct {
	Pid   int
	Args  []any
	Begin trace.Record
	End   *trace.Record // nil when the task never ended
	last  int64         // the worker's last timestamp, the end of a task that never ended
}

// arg is the task's first argument as an int (-1 when it is none).
func (x task) arg() int {
	if len(x.Args) == 0 {
		return -1
	}
	n, ok := trace.Int(x.Args[0])
	if !ok {
		return -1
	}
	return int(n)
}

// span is the time the task ran, task.begin to task.end (to the worker's
// last record when it never ended).
func (x task) span() check.Interval {
	end := x.last
	if x.End != nil {
		end = x.End.T1
	}
	return check.Interval{T0: x.Begin.T0, T1: end, Rec: x.Begin}
}

// tasks pairs each worker's task.begin records with their task.end, and
// returns the tasks of program (every task when program is ""), in the order
// they began.
func tasks(t *trace.Trace, program string) []task {
	var out []task
	for _, p := range t.Processes() {
		recs := t.Of(p.Pid)
		var last int64
		for _, r := range recs {
			last = max(last, r.T0, r.T1)
		}
		open := -1
		for i, r := range recs {
			switch r.Op {
			case "task.begin":
				args, _ := r.In["args"].([]any)
				prog, _ := r.In["program"].(string)
				open = -1
				if program == "" || prog == program {
					out = append(out, task{Pid: r.Pid, Args: args, Begin: r, last: last})
					open = len(out) - 1
				}
			case "task.end":
				if open >= 0 {
					out[open].End = &recs[i]
					open = -1
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Begin.T0 < out[j].Begin.T0 })
	return out
}

func spans(ts []task) []check.Interval {
	out := make([]check.Interval, len(ts))
	for i, x := range ts {
		out[i] = x.span()
	}
	return out
}

// busiest is the most tasks that ran at one instant.
func busiest(ts []task) int {
	for k := 1; ; k++ {
		if check.AtMost(spans(ts), k) == nil {
			return k
		}
	}
}

// ints reads a list of JSON integers; anything else stays as it is, so that
// it fails an equality with ints.
func ints(v any) []any {
	list, _ := v.([]any)
	out := make([]any, len(list))
	for i, x := range list {
		if n, ok := trace.Int(x); ok {
			out[i] = int(n)
		} else {
			out[i] = x
		}
	}
	return out
}

func intOf(v any) any {
	if n, ok := trace.Int(v); ok {
		return int(n)
	}
	return v
}

func count(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// ms converts milliseconds at time scale 1 into an int number of
// milliseconds at the configured scale, for durations that travel as task
// arguments (Scaled only scales the "ms" and "timeout" fields of steps).
func ms(x float64) int { return int(suite.Scale(x).Milliseconds()) }

// done returns main's completed records of op.
func done(t *trace.Trace, op string) []trace.Record {
	return t.Done(suite.Main(t).Pid, op)
}

// byStep returns the completed records of op written at step.
func byStep(t *trace.Trace, op, step string) []trace.Record {
	return t.Filter(func(r trace.Record) bool { return r.Op == op && r.Step == step && !r.Pending })
}

func kinds(recs []trace.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Kind()
		if r.Error != nil {
			out[i] += ": " + r.Error.Message
		}
	}
	return out
}

// apply submits program(args...) with apply_async, binding its result to as.
func apply(as, program string, args ...any) Step {
	if args == nil {
		args = []any{}
	}
	return On("pool.apply_async", "p", "program", program, "args", args, "as", as)
}

func get(result string, timeout float64) Step {
	return Op("result.get", "result", result, "timeout", timeout)
}

var _ = Describe("pool", func() {
	Describe("the tutorial", func() {
		// The tutorial's last program: a default Pool, 40 tasks submitted with
		// apply_async, each printing its line, sleeping a little and returning
		// its argument; close, join, and main's last line. Run once for the
		// four core specs.
		const n = 40
		var tut *trace.Trace
		tutorial := func() *trace.Trace {
			GinkgoHelper()
			if tut == nil {
				tut = suite.Run(New("pool/tutorial").
					Resource("p", "pool").
					Program("long_time_task", []string{"name"},
						Emit([]any{"Run task", Param("name")}), Sleep(50), Return(Param("name"))).
					Main(
						Repeat(n, "i", apply("r", "long_time_task", Param("i"))),
						Emit("Waiting for all subprocesses done..."),
						On("pool.close", "p"),
						On("pool.join", "p"),
						Emit("All subprocesses done."),
					))
			}
			return tut
		}

		suite.Spec(allOnce, "40 apply_async: 40 task.begin with args 0..39, each ended with its result", func() {
			t := tutorial()
			ts := tasks(t, "")
			var args []any
			for _, x := range ts {
				args = append(args, x.arg())
			}
			Expect(args).To(ConsistOf(count(n)...), "the args of the tasks that began")
			for _, x := range ts {
				Expect(x.End).NotTo(BeNil(), "task %d never ended: %s", x.arg(), x.Begin)
				Expect(x.End.OK).To(BeTrue(), "%s", *x.End)
				Expect(intOf(x.End.Value)).To(Equal(x.arg()), "task %d's result: %s", x.arg(), *x.End)
			}
		})

		suite.Spec(sizeBound, "a default Pool on this machine's CPUs runs at most that many tasks at once, in that many workers", func() {
			t := tutorial()
			p := runtime.NumCPU()
			ts := tasks(t, "")
			Expect(len(ts)).To(Equal(n), "tasks that began")
			Expect(check.AtMost(spans(ts), p)).To(Succeed(), "a default Pool has %d workers (the CPU count)", p)
			pids := map[int]bool{}
			for _, x := range ts {
				pids[x.Pid] = true
			}
			Expect(len(pids)).To(BeNumerically("<=", p), "worker processes that ran tasks")
			// The default is not less than the CPU count: the pool made p
			// workers (main starts no other process), and with 40 tasks
			// queued they run side by side.
			Expect(len(t.Children())).To(Equal(p), "worker processes of a default Pool")
			most := busiest(ts)
			suite.Figures("%d workers ran the 40 tasks, at most %d at once (%d CPUs)", len(pids), most, p)
			Expect(most).To(BeNumerically(">=", min(p, 2)), "tasks never ran side by side")
		})

		suite.Spec(fifoDispatch, "task j starts after at least j−(P−1) of tasks 0..j−1", func() {
			t := tutorial()
			p := runtime.NumCPU()
			ts := tasks(t, "")
			Expect(len(ts)).To(Equal(n), "tasks that began")
			for _, x := range ts {
				j, before := x.arg(), 0
				for _, y := range ts {
					if y.arg() < j && y.Begin.T0 <= x.Begin.T0 {
						before++
					}
				}
				Expect(before).To(BeNumerically(">=", j-(p-1)),
					"task %d began when only %d of tasks 0..%d had begun (P=%d): %s", j, before, j-1, p, x.Begin)
			}
		})

		suite.Spec(closeJoin, "join returns after every task.end and worker exit; main's last line comes after them", func() {
			t := tutorial()
			m := suite.Main(t).Pid
			join := t.Done(m, "pool.join")
			Expect(join).To(HaveLen(1))
			Expect(join[0].OK).To(BeTrue(), "%s", join[0])
			// main's next record after the join
			var next *trace.Record
			recs := t.Of(m)
			for i, r := range recs {
				if r.Seq > join[0].Seq && !r.Pending {
					next = &recs[i]
					break
				}
			}
			Expect(next).NotTo(BeNil(), "main recorded nothing after pool.join")
			Expect(next.Value).To(Equal("All subprocesses done."), "main's next record: %s", *next)
			returned := join[0]
			returned.T0 = returned.T1 // the instant join returned
			ts := tasks(t, "")
			var ends []trace.Record
			for _, x := range ts {
				Expect(x.End).NotTo(BeNil(), "task %d never ended, yet join returned: %s", x.arg(), x.Begin)
				ends = append(ends, *x.End)
			}
			Expect(check.Before(ends, []trace.Record{returned})).To(Succeed(), "join returned before a task ended")
			Expect(check.Before(ends, []trace.Record{*next})).To(Succeed(), "main went on before a task ended")
			Expect(len(ts)).To(Equal(n), "tasks that began before join returned")
			for _, w := range t.Children() {
				Expect(w.End).NotTo(BeNil(), "worker %s (pid %d) did not end", w.Name, w.Pid)
				Expect(check.Before([]trace.Record{*w.End}, []trace.Record{returned})).To(Succeed(),
					"join returned before worker %s exited", w.Name)
			}
		})
	})

	// Items are a task's sleep in ms (the task returns its item): the first
	// is slow, the other five fast, and two workers run them, so the fast
	// ones finish first.
	slowFirst := func() []any {
		items := []any{ms(1000)}
		for k := range 5 {
			items = append(items, ms(float64(20+10*k)))
		}
		return items
	}
	nap := func(sc *Scenario) *Scenario {
		return sc.Resource("p", "pool", "processes", 2).
			Program("nap", []string{"ms"}, Sleep(0).With("ms", Param("ms")), Return(Param("ms")))
	}
	// overtaken checks that the spec did what it means to: some later item
	// ended before the first one did.
	overtaken := func(t *trace.Trace, items []any) {
		GinkgoHelper()
		var first *task
		var ts = tasks(t, "nap")
		for i := range ts {
			if ts[i].arg() == items[0] {
				first = &ts[i]
			}
		}
		Expect(first).NotTo(BeNil(), "the slow item's task never began")
		Expect(first.End).NotTo(BeNil(), "the slow item's task never ended")
		for _, x := range ts {
			if x.End != nil && x.arg() != items[0] && x.End.T1 < first.End.T0 {
				return
			}
		}
		Fail("the scenario did not do what it means to: no fast item ended before the slow first one (a worker was too slow to start?)")
	}

	suite.Spec(mapOrder, "map over [1000 ms, 20 ms, ... 60 ms] on 2 workers returns the items in input order", func() {
		items := slowFirst()
		t := suite.Run(nap(New("pool/map-order")).Main(On("pool.map", "p", "program", "nap", "items", items)))
		maps := done(t, "pool.map")
		Expect(maps).To(HaveLen(1))
		Expect(maps[0].OK).To(BeTrue(), "%s", maps[0])
		Expect(ints(maps[0].Value)).To(Equal(items), "map's results")
		overtaken(t, items)
	})

	suite.Spec(imapOrder, "imap over [1000 ms, 20 ms, ... 60 ms] on 2 workers yields the items in input order", func() {
		items := slowFirst()
		t := suite.Run(nap(New("pool/imap-order")).Main(On("pool.imap", "p", "program", "nap", "items", items)))
		got := done(t, "pool.imap.item")
		var yielded []any
		for k, r := range got {
			Expect(r.OK).To(BeTrue(), "%s", r)
			Expect(ints(r.Value)).To(HaveLen(2), "%s", r)
			Expect(ints(r.Value)[0]).To(Equal(k), "item %d's index: %s", k, r)
			yielded = append(yielded, ints(r.Value)[1])
		}
		Expect(yielded).To(Equal(items), "imap's items in the order yielded")
		imap := done(t, "pool.imap")
		Expect(imap).To(HaveLen(1))
		Expect(ints(imap[0].Value)).To(Equal(items), "imap's value")
		overtaken(t, items)
	})

	suite.Spec(imapUnordered, "imap_unordered over [1000 ms, 20 ms, ... 60 ms] on 2 workers yields the fast items first", func() {
		items := slowFirst()
		t := suite.Run(nap(New("pool/imap-unordered")).Main(On("pool.imap_unordered", "p", "program", "nap", "items", items)))
		got := done(t, "pool.imap.item")
		var yielded []any
		for k, r := range got {
			Expect(r.OK).To(BeTrue(), "%s", r)
			Expect(ints(r.Value)).To(HaveLen(2), "%s", r)
			Expect(ints(r.Value)[0]).To(Equal(k), "item %d's index: %s", k, r)
			yielded = append(yielded, ints(r.Value)[1])
		}
		Expect(yielded).To(ConsistOf(items...), "imap_unordered yields each item once")
		overtaken(t, items)
		// Every item that ended before the slow one began to end is yielded
		// before it, and so without waiting for it.
		var slowEnd int64
		for _, x := range tasks(t, "nap") {
			if x.arg() == items[0] && x.End != nil {
				slowEnd = x.End.T0
			}
		}
		Expect(yielded[len(yielded)-1]).To(Equal(items[0]), "the slow first item is yielded last")
		Expect(got[0].T1).To(BeNumerically("<", slowEnd), "the first item was yielded only after the slow one ended: %s", got[0])
		imap := done(t, "pool.imap_unordered")
		Expect(imap).To(HaveLen(1))
		Expect(ints(imap[0].Value)).To(Equal(yielded), "imap_unordered's value is its items in the order yielded")
	})

	suite.Spec(chunksize, "map over 0..11 with chunksize 3 on 2 workers: each chunk in one worker, in order, uninterrupted", func() {
		const items, k = 12, 3
		t := suite.Run(New("pool/chunksize").
			Resource("p", "pool", "processes", 2).
			Program("work", []string{"x"}, Sleep(50), Return(Param("x"))).
			Main(On("pool.map", "p", "program", "work", "range", items, "chunksize", k)))
		maps := done(t, "pool.map")
		Expect(maps).To(HaveLen(1))
		Expect(ints(maps[0].Value)).To(Equal(count(items)), "map's results")
		ts := tasks(t, "work")
		Expect(len(ts)).To(Equal(items), "tasks that began")
		// Each worker's tasks in the order it ran them.
		ran := map[int][]int{}
		pidOf := map[int]int{}
		for _, x := range ts {
			ran[x.Pid] = append(ran[x.Pid], x.arg())
			pidOf[x.arg()] = x.Pid
		}
		for c := 0; c < items; c += k {
			pid := pidOf[c]
			i := slices.Index(ran[pid], c)
			Expect(i).To(BeNumerically(">=", 0))
			Expect(ran[pid][i:min(i+k, len(ran[pid]))]).To(Equal([]int{c, c + 1, c + 2}),
				"chunk %d..%d: worker %d ran %v", c, c+k-1, pid, ran[pid])
		}
		Expect(len(ran)).To(BeNumerically(">=", 2),
			"the scenario did not do what it means to: one worker ran every chunk (the other was too slow to start?)")
	})

	suite.Spec(maxTasks, "maxtasksperchild=1: six tasks run in six distinct workers, with their results", func() {
		t := suite.Run(New("pool/maxtasksperchild").
			Resource("p", "pool", "processes", 2, "maxtasksperchild", 1).
			Program("work", []string{"x"}, Sleep(50), Return(Param("x"))).
			Main(
				Repeat(6, "k", apply("r", "work", Param("k"))),
				get("r", 10_000),
				On("pool.close", "p"), On("pool.join", "p"),
			))
		var values []any
		for _, r := range done(t, "result.get") {
			Expect(r.OK).To(BeTrue(), "%s", r)
			values = append(values, intOf(r.Value))
		}
		Expect(values).To(Equal(count(6)), "the results")
		ts := tasks(t, "work")
		Expect(len(ts)).To(Equal(6), "tasks that began")
		pids := map[int]int{}
		for _, x := range ts {
			if prev, dup := pids[x.Pid]; dup {
				Fail(fmt.Sprintf("tasks %d and %d ran in the same worker (pid %d)", prev, x.arg(), x.Pid))
			}
			pids[x.Pid] = x.arg()
		}
	})

	suite.Spec(initializer, "initializer emits its initarg once per worker, before the worker's first task", func() {
		t := suite.Run(New("pool/initializer").
			Resource("p", "pool", "processes", 2, "initializer", "init", "initargs", []any{"ready"}).
			Program("init", []string{"word"}, Emit(Param("word"))).
			Program("work", []string{"x"}, Sleep(100), Return(Param("x"))).
			Main(On("pool.map", "p", "program", "work", "range", 6), On("pool.close", "p"), On("pool.join", "p")))
		maps := done(t, "pool.map")
		Expect(maps).To(HaveLen(1))
		Expect(ints(maps[0].Value)).To(Equal(count(6)), "map's results")
		Expect(done(t, "emit")).To(BeEmpty(), "the initializer ran in main")
		ts := tasks(t, "work")
		Expect(len(ts)).To(Equal(6), "tasks that began")
		ranTasks := map[int]bool{}
		for _, x := range ts {
			ranTasks[x.Pid] = true
		}
		for _, w := range t.Children() {
			emits := t.Done(w.Pid, "emit")
			Expect(emits).To(HaveLen(1), "worker %s (pid %d) ran the initializer %d times", w.Name, w.Pid, len(emits))
			Expect(emits[0].Value).To(Equal("ready"), "the initializer's arg")
			for _, r := range t.Of(w.Pid) {
				if r.Op == "task.begin" {
					Expect(r.Seq).To(BeNumerically(">", emits[0].Seq), "worker %s began a task before its initializer: %s", w.Name, r)
				}
			}
			delete(ranTasks, w.Pid)
		}
		Expect(ranTasks).To(BeEmpty(), "tasks ran in processes that recorded no process.begin")
	})

	suite.Spec(taskError, "raise in apply_async, apply and map: TaskError with its message; callbacks in main", func() {
		t := suite.Run(New("pool/task-error").
			Resource("p", "pool", "processes", 2).
			Program("fail", []string{"x"}, Raise("no such luck")).
			Program("ok", []string{"x"}, Sleep(100), Return(Param("x"))).
			// Item x raises when x is 1 (a repeat of x raises), else sleeps.
			Program("maybe", []string{"x"}, Op("repeat", "times", Param("x"), "body", []Step{Raise("item failed")}),
				Sleep(300), Return(Param("x"))).
			Main(
				apply("e", "fail", 1).With("callback", true).With("error_callback", true), // main/0
				apply("g", "ok", 7).With("callback", true).With("error_callback", true),   // main/1
				get("e", 10_000),
				get("g", 10_000),
				Op("result.successful", "result", "e"),
				Op("result.successful", "result", "g"),
				On("pool.apply", "p", "program", "fail", "args", []any{2}),
				On("pool.map", "p", "program", "maybe", "items", []any{1, 0, 0}),
			))
		m := suite.Main(t).Pid
		gets := done(t, "result.get")
		Expect(gets).To(HaveLen(2))
		Expect(kinds(gets)).To(Equal([]string{"TaskError: no such luck", ""}), "result.get of the failing and the good task")
		Expect(intOf(gets[1].Value)).To(Equal(7))
		Expect(t.Values(m, "result.successful")).To(Equal([]any{false, true}))
		Expect(kinds(done(t, "pool.apply"))).To(Equal([]string{"TaskError: no such luck"}), "apply of the failing task")

		maps := done(t, "pool.map")
		Expect(maps).To(HaveLen(1))
		Expect(kinds(maps)).To(Equal([]string{"TaskError: item failed"}), "map with a failing item")
		others := 0
		for _, x := range tasks(t, "maybe") {
			if x.arg() == 0 {
				others++
				Expect(x.End).NotTo(BeNil(), "map failed before item %v ended (it never did): %s", x.Args, x.Begin)
				Expect(x.End.T1).To(BeNumerically("<=", maps[0].T1), "map failed before its other items ended: %s", *x.End)
			}
		}
		Expect(others).To(Equal(2), "the map's other items began")

		cb, ecb := byStep(t, "pool.callback", "main/1"), byStep(t, "pool.error_callback", "main/0")
		Expect(cb).To(HaveLen(1), "callback of the good task")
		Expect(cb[0].Pid).To(Equal(m), "the callback runs in the caller's process")
		Expect(intOf(cb[0].Value)).To(Equal(7))
		Expect(ecb).To(HaveLen(1), "error_callback of the failing task")
		Expect(ecb[0].Pid).To(Equal(m), "the error_callback runs in the caller's process")
		Expect(kinds(ecb)).To(Equal([]string{"TaskError: no such luck"}))
		Expect(byStep(t, "pool.callback", "main/0")).To(BeEmpty(), "callback called for the failing task")
		Expect(byStep(t, "pool.error_callback", "main/1")).To(BeEmpty(), "error_callback called for the good task")
	})

	suite.Spec(getTimeout, "get(timeout=200ms) on a 1 s task: Timeout, not ready; then the task completes", func() {
		t := suite.Run(New("pool/get-timeout").
			Resource("p", "pool", "processes", 1).
			Program("slow", []string{"x"}, Sleep(1_000), Return(Param("x"))).
			Main(
				apply("s", "slow", 5),
				get("s", 200),
				Op("result.ready", "result", "s"),
				get("s", 10_000),
			))
		gets := done(t, "result.get")
		Expect(gets).To(HaveLen(2))
		Expect(gets[0].Kind()).To(Equal("Timeout"), "%s", gets[0])
		Expect(gets[0].T1-gets[0].T0).To(BeNumerically(">=", suite.Scale(200).Nanoseconds()-int64(1e6)), "returned before its timeout")
		Expect(done(t, "result.ready")).To(HaveLen(1))
		Expect(done(t, "result.ready")[0].Value).To(Equal(false), "ready after the timeout")
		Expect(gets[1].OK).To(BeTrue(), "%s", gets[1])
		Expect(intOf(gets[1].Value)).To(Equal(5))
		ts := tasks(t, "slow")
		Expect(len(ts)).To(Equal(1), "tasks that began")
		Expect(ts[0].End).NotTo(BeNil(), "the task never ended")
		Expect(ts[0].End.T1).To(BeNumerically(">", gets[0].T1), "the task ended before the get timed out")
	})

	suite.Spec(terminate, "terminate while two 60 s tasks run: they never end, join returns, no worker is left", func() {
		t := suite.RunWithin(20_000, New("pool/terminate").
			Resource("p", "pool", "processes", 2).
			Program("warm", []string{"x"}, Sleep(100), Return(Param("x"))).
			Program("long", []string{"x"}, Sleep(60_000), Return(Param("x"))).
			Main(
				Repeat(2, "k", apply("w", "warm", Param("k"))), get("w", 10_000),
				Repeat(2, "k", apply("l", "long", Param("k"))),
				Sleep(300),
				Op("active_children"),
				On("pool.terminate", "p"),
				On("pool.join", "p"),
				Op("active_children"),
				Emit("after"),
			))
		m := suite.Main(t).Pid
		term, join := done(t, "pool.terminate"), done(t, "pool.join")
		Expect(term).To(HaveLen(1))
		Expect(term[0].OK).To(BeTrue(), "%s", term[0])
		Expect(join).To(HaveLen(1))
		Expect(join[0].OK).To(BeTrue(), "join after terminate: %s", join[0])
		long := tasks(t, "long")
		Expect(len(long)).To(Equal(2), "long tasks that began")
		for _, x := range long {
			Expect(x.Begin.T0).To(BeNumerically("<", term[0].T0), "a long task began only after terminate: %s", x.Begin)
			Expect(x.End).To(BeNil(), "a task ran to its end after terminate: %s", x.End)
		}
		active := t.Values(m, "active_children")
		Expect(active).To(HaveLen(2))
		Expect(active[0]).To(HaveLen(2), "the pool's two workers before terminate")
		Expect(active[1]).To(BeEmpty(), "children left after terminate and join")
	})

	suite.Spec(misuse, "join before close, apply_async and apply after close: NotAllowed; successful before ready: ValueError", func() {
		t := suite.Run(New("pool/misuse").
			Resource("p", "pool", "processes", 1).
			Program("nap", []string{"x"}, Sleep(500), Return(Param("x"))).
			Main(
				On("pool.join", "p"),
				apply("r", "nap", 1),
				Op("result.successful", "result", "r"),
				get("r", 10_000),
				Op("result.successful", "result", "r"),
				On("pool.close", "p"),
				apply("late", "nap", 2),
				On("pool.apply", "p", "program", "nap", "args", []any{3}),
				On("pool.join", "p"),
			))
		joins := done(t, "pool.join")
		Expect(joins).To(HaveLen(2))
		Expect(joins[0].Kind()).To(Equal("NotAllowed"), "join before close: %s", joins[0])
		Expect(joins[1].OK).To(BeTrue(), "join after close: %s", joins[1])
		succ := done(t, "result.successful")
		Expect(succ).To(HaveLen(2))
		Expect(succ[0].Kind()).To(Equal("ValueError"), "successful before ready: %s", succ[0])
		Expect(succ[1].Value).To(Equal(true), "successful once ready: %s", succ[1])
		applies := done(t, "pool.apply_async")
		Expect(applies).To(HaveLen(2))
		Expect(applies[0].OK).To(BeTrue(), "%s", applies[0])
		Expect(applies[1].Kind()).To(Equal("NotAllowed"), "apply_async after close: %s", applies[1])
		Expect(kinds(done(t, "pool.apply"))).To(HaveExactElements(HavePrefix("NotAllowed")), "apply after close")
		var args []any
		for _, x := range tasks(t, "nap") {
			args = append(args, x.arg())
		}
		Expect(args).To(Equal([]any{1}), "tasks that ran")
	})

	// A task kills its worker (die) while the other worker runs a longer
	// task; four more tasks wait behind them, then two that must run side by
	// side, which needs the dead worker replaced. Every wait is bounded, so
	// that a pool that waits for the lost result for ever (CPython) fails
	// with Timeout rather than hang; the pool is terminated at the end. Only
	// when that passes is the same run made again with close and join, which
	// must return.
	lost := func(name string, death Step) func() {
		return func() {
			build := func(end ...Step) *Scenario {
				return New(name).
					Resource("p", "pool", "processes", 2).
					Program("long", []string{"x"}, Sleep(500), Return(Param("x"))).
					Program("die", nil, Sleep(100), death).
					Program("work", []string{"x"}, Sleep(100), Return(Param("x"))).
					Program("pair", []string{"x"}, Sleep(500), Return(Param("x"))).
					Main(append([]Step{
						apply("a", "long", 100),
						apply("d", "die"),
						Repeat(4, "k", apply("r", "work", Param("k"))),
						get("d", 10_000),
						get("a", 10_000),
						get("r", 10_000),
						Repeat(2, "k", apply("h", "pair", Param("k"))),
						get("h", 10_000),
					}, end...)...)
			}
			t := suite.RunWithin(30_000, build(On("pool.terminate", "p"), On("pool.join", "p")))
			m := suite.Main(t).Pid
			gets := t.Done(m, "result.get")
			Expect(gets).To(HaveLen(8))
			var values []any
			for _, r := range gets[1:] {
				Expect(r.OK).To(BeTrue(), "a task of a live worker failed: %s", r)
				values = append(values, intOf(r.Value))
			}
			Expect(values).To(Equal([]any{100, 0, 1, 2, 3, 0, 1}), "the other tasks' results")
			Expect(len(tasks(t, "die"))).To(Equal(1), "times the task that kills its worker began")
			for _, prog := range []string{"long", "work", "pair"} {
				seen := map[int]int{}
				for _, x := range tasks(t, prog) {
					seen[x.arg()]++
				}
				for a, k := range seen {
					Expect(k).To(Equal(1), "task %s(%d) ran %d times", prog, a, k)
				}
			}
			pair := tasks(t, "pair")
			Expect(len(pair)).To(Equal(2), "tasks of the pair that began")
			Expect(check.CommonPoint(spans(pair))).To(Succeed(),
				"two tasks on a pool of 2 after a worker died did not run side by side: the worker was not replaced")
			Expect(gets[0].Kind()).To(Equal("WorkerLost"), "the task whose worker died: %s", gets[0])

			t = suite.RunWithin(30_000, build(On("pool.close", "p"), On("pool.join", "p"), Emit("joined")))
			join := done(t, "pool.join")
			Expect(join).To(HaveLen(1))
			Expect(join[0].OK).To(BeTrue(), "join after a worker died: %s", join[0])
			Expect(t.Values(suite.Main(t).Pid, "emit")).To(Equal([]any{"joined"}))
		}
	}
	suite.Spec(workerKilled, "a task SIGKILLs its worker: WorkerLost for it alone, every other task done, the worker replaced", lost("pool/worker-killed", Crash("SIGKILL")))
	suite.Spec(workerExit, "a task exits its worker: WorkerLost for it alone, every other task done, the worker replaced", lost("pool/worker-exit", Exit(3)))

	suite.Spec(stress, "Pool(8): 10 then 100 maps of 1 000 items: results and peak memory", func() {
		peak := func(maps int) int64 {
			GinkgoHelper()
			t := suite.RunWithin(300_000, New(fmt.Sprintf("pool/stress-%d", maps)).
				Resource("p", "pool", "processes", 8).
				Program("id", []string{"x"}, Return(Param("x"))).
				Main(Repeat(maps, "", On("pool.map", "p", "program", "id", "range", 1000)), On("pool.close", "p"), On("pool.join", "p")))
			got := t.Done(suite.Main(t).Pid, "pool.map")
			Expect(got).To(HaveLen(maps))
			for _, m := range got {
				Expect(m.OK).To(BeTrue(), "%s", m)
				results, _ := m.Value.([]any)
				Expect(results).To(HaveLen(1000), "results of %s", m.Step)
				for i, r := range results {
					if k, _ := trace.Int(r); k != int64(i) {
						Fail(fmt.Sprintf("%s: result %d is %v", m.Step, i, r))
					}
				}
			}
			return t.PeakRSS()
		}
		small, large := peak(10), peak(100)
		suite.Figures("peak RSS of the largest process: %d KiB for 10 000 tasks, %d KiB for 100 000", small, large)
		Expect(large).To(BeNumerically("<=", small*3/2+16<<10), "peak memory grew with the number of tasks (KiB)")
	})
})
