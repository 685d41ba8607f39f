package pool

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// A pool that is no longer running: what it refuses, and what it still gives.
var (
	notRunning = catalogue.Add(catalogue.Behaviour{
		ID: "pool.not-running", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "after close, map, map_async, starmap, starmap_async, imap and imap_unordered fail with NotAllowed; " +
			"after terminate, apply, apply_async and map do too; no task runs, and join returns",
		Source: "CPython docs: Pool.close ('Prevents any more tasks from being submitted to the pool'), Pool.terminate; " +
			"Lib/multiprocessing/pool.py Pool._check_running (ValueError: 'Pool not running')",
	})
	resultsAfterJoin = catalogue.Add(catalogue.Behaviour{
		ID: "pool.results-after-join", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule: "closed right after six apply_async on Pool(3, maxtasksperchild=1), the pool still runs every task, " +
			"each in a fresh worker; join returns, and then every result is ready with its value",
		Source: "CPython docs: Pool.close ('Once all the tasks have been completed the worker processes will exit'); " +
			"CPython test: _test_multiprocessing.py _TestPoolWorkerLifetime.test_pool_worker_lifetime_early_close (bpo-10332: join hung)",
		CPythonTests: []string{"_TestPoolWorkerLifetime.test_pool_worker_lifetime_early_close"},
	})
)

var _ = Describe("pool, not running", func() {
	suite.Spec(notRunning, "every map op after close, and apply, apply_async and map after terminate: NotAllowed", func() {
		star := []any{[]any{1}}
		t := suite.Run(New("pool/not-running").
			Resource("p", "pool", "processes", 1).
			Resource("q", "pool", "processes", 1).
			Program("work", []string{"x"}, Return(Param("x"))).
			Main(
				On("pool.close", "p"),
				On("pool.map", "p", "program", "work", "range", 2),
				On("pool.map_async", "p", "program", "work", "range", 2, "as", "m"),
				On("pool.starmap", "p", "program", "work", "items", star),
				On("pool.starmap_async", "p", "program", "work", "items", star, "as", "s"),
				On("pool.imap", "p", "program", "work", "range", 2),
				On("pool.imap_unordered", "p", "program", "work", "range", 2),
				On("pool.join", "p"),
				On("pool.terminate", "q"),
				On("pool.apply", "q", "program", "work", "args", []any{1}),
				apply("a", "work", 2).With("on", "q"),
				On("pool.map", "q", "program", "work", "range", 2),
				On("pool.join", "q"),
			))
		refused := map[string]int{}
		for _, r := range t.Filter(func(r trace.Record) bool { return r.Pid == suite.Main(t).Pid && !r.Pending }) {
			switch r.Op {
			case "pool.close", "pool.terminate", "pool.join":
				Expect(r.OK).To(BeTrue(), "%s", r)
			default:
				if r.Op == "process.begin" || r.Op == "process.end" {
					continue
				}
				Expect(r.Kind()).To(Equal("NotAllowed"), "%s on a pool not running: %s", r.Op, r)
				refused[r.In["on"].(string)+" "+r.Op]++
			}
		}
		Expect(refused).To(HaveLen(9), "ops refused: %v", refused)
		Expect(tasks(t, "")).To(BeEmpty(), "tasks that began")
	})

	suite.Spec(resultsAfterJoin, "six apply_async, close, join: six fresh workers ran them; every result ready after join", func() {
		t := suite.Run(New("pool/results-after-join").
			Resource("p", "pool", "processes", 3, "maxtasksperchild", 1).
			Program("work", []string{"x"}, Sleep(300), Return(Param("x"))).
			Main(
				Repeat(6, "k", apply("r", "work", Param("k"))),
				On("pool.close", "p"),
				On("pool.join", "p"),
				Op("result.ready", "result", "r"),
				get("r", 0),
			))
		join := done(t, "pool.join")
		Expect(join).To(HaveLen(1))
		Expect(join[0].OK).To(BeTrue(), "%s", join[0])
		ts := tasks(t, "work")
		Expect(ts).To(HaveLen(6), "tasks that began")
		pids := map[int]bool{}
		for _, x := range ts {
			Expect(x.End).NotTo(BeNil(), "task %d never ended: %s", x.arg(), x.Begin)
			Expect(x.End.T1).To(BeNumerically("<=", join[0].T1), "join returned before task %d ended", x.arg())
			Expect(pids[x.Pid]).To(BeFalse(), fmt.Sprintf("two tasks ran in worker %d", x.Pid))
			pids[x.Pid] = true
		}
		Expect(t.Values(suite.Main(t).Pid, "result.ready")).To(Equal([]any{true, true, true, true, true, true}), "results ready after join")
		var values []any
		for _, r := range done(t, "result.get") {
			Expect(r.OK).To(BeTrue(), "%s", r)
			values = append(values, intOf(r.Value))
		}
		Expect(values).To(Equal(count(6)), "the results, got after join")
	})
})
