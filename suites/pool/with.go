package pool

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// `with pool:` and the pool's constructor arguments.
var (
	withTerminates = catalogue.Add(catalogue.Behaviour{
		ID: "pool.with-terminates", Profile: catalogue.Extended, Features: []string{"control", "process", "pool"},
		Rule:         "leaving `with pool:` terminates the pool: a task still running is stopped, never to end, the with-statement does not wait for it, and no worker is left",
		Source:       "CPython docs: Pool ('__exit__() calls terminate()'); CPython test: _test_multiprocessing.py _TestPool.test_context",
		CPythonTests: []string{"_TestPool.test_context"},
	})
	withAfter = catalogue.Add(catalogue.Behaviour{
		ID: "pool.with-after", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "after `with pool:`, apply, apply_async and another with on the pool fail with NotAllowed; a with on a closed pool fails so too, and its body does not run",
		Source:       "CPython docs: Pool; CPython: Pool.__enter__ and _check_running ('Pool not running')",
		CPythonTests: []string{"_TestPool.test_context", "_TestPool.test_enter"},
	})
	badArguments = catalogue.Add(catalogue.Behaviour{
		ID: "pool.bad-arguments", Profile: catalogue.Extended, Features: []string{"control", "pool"},
		Rule:         "Pool(processes=0 or -1) and Pool(maxtasksperchild=0 or -1) are refused with ValueError: every op on such a pool fails with it, and the run goes on",
		Source:       "CPython docs: Pool ('maxtasksperchild ... must be a positive int'); CPython: Pool.__init__ ('Number of processes must be at least 1')",
		CPythonTests: []string{"_TestPool.test_make_pool", "_TestPoolWorkerLifetime.test_pool_maxtasksperchild_invalid"},
	})
)

var _ = Describe("pool, with and the constructor's arguments", func() {
	suite.Spec(withTerminates, "a 60 s task submitted inside `with pool:` is stopped on leaving it", func() {
		t := suite.RunWithin(20_000, New("pool/with-terminates").
			Resource("p", "pool", "processes", 2).
			Program("warm", []string{"x"}, Return(Param("x"))).
			Program("long", []string{"x"}, Sleep(60_000), Return(Param("x"))).
			Main(
				On("pool.with", "p", "body", []Step{
					apply("w", "warm", 0), get("w", 10_000),
					apply("l", "long", 1), Sleep(300),
				}),
				Op("active_children"),
			))
		with := done(t, "pool.with")
		Expect(with).To(HaveLen(1))
		Expect(with[0].OK).To(BeTrue(), "%s", with[0])
		long := tasks(t, "long")
		Expect(long).To(HaveLen(1), "the long task began")
		Expect(long[0].End).To(BeNil(), "the long task ran to its end: %s", long[0].End)
		Expect(with[0].T1).To(BeNumerically("<", long[0].Begin.T0+suite.Scale(30_000).Nanoseconds()),
			"leaving the with-statement waited for the running task")
		Expect(t.Values(suite.Main(t).Pid, "active_children")).To(Equal([]any{[]any{}}), "children left after the with-statement")
	})

	suite.Spec(withAfter, "apply, apply_async and with after a with: NotAllowed; with on a closed pool: NotAllowed, body not run", func() {
		t := suite.Run(New("pool/with-after").
			Resource("p", "pool", "processes", 1).
			Resource("q", "pool", "processes", 1).
			Program("one", []string{"x"}, Return(Param("x"))).
			Main(
				On("pool.with", "p", "body", []Step{On("pool.apply", "p", "program", "one", "args", []any{1})}),
				On("pool.apply", "p", "program", "one", "args", []any{2}),
				apply("late", "one", 3),
				On("pool.with", "p", "body", []Step{Emit("again")}),
				On("pool.close", "q"), On("pool.join", "q"),
				On("pool.with", "q", "body", []Step{Emit("closed")}),
			))
		applies := done(t, "pool.apply")
		Expect(applies).To(HaveLen(2))
		Expect(applies[0].Value).To(BeEquivalentTo("1"), "apply inside the with: %s", applies[0])
		Expect(applies[1].Kind()).To(Equal("NotAllowed"), "apply after the with: %s", applies[1])
		Expect(kinds(done(t, "pool.apply_async"))).To(HaveExactElements(HavePrefix("NotAllowed")), "apply_async after the with")
		withs := done(t, "pool.with")
		Expect(withs).To(HaveLen(3))
		Expect(withs[0].OK).To(BeTrue(), "%s", withs[0])
		Expect(withs[1].Kind()).To(Equal("NotAllowed"), "a second with: %s", withs[1])
		Expect(withs[2].Kind()).To(Equal("NotAllowed"), "a with on a closed pool: %s", withs[2])
		Expect(done(t, "emit")).To(BeEmpty(), "the body of a refused with ran")
	})

	suite.Spec(badArguments, "processes 0 and -1, maxtasksperchild 0 and -1: ValueError on every op; a good pool beside them works", func() {
		bad := []string{"zero", "negative", "tasks0", "tasks_neg"}
		s := New("pool/bad-arguments").
			Resource("zero", "pool", "processes", 0).
			Resource("negative", "pool", "processes", -1).
			Resource("tasks0", "pool", "processes", 1, "maxtasksperchild", 0).
			Resource("tasks_neg", "pool", "processes", 1, "maxtasksperchild", -1).
			Resource("p", "pool", "processes", 1).
			Program("one", []string{"x"}, Return(Param("x")))
		var main []Step
		for _, name := range bad {
			main = append(main, On("pool.apply", name, "program", "one", "args", []any{1}),
				On("pool.with", name, "body", []Step{Emit("never")}))
		}
		main = append(main, On("pool.apply", "p", "program", "one", "args", []any{2}), Emit("goes on"))
		t := suite.Run(s.Main(main...))
		applies := done(t, "pool.apply")
		Expect(applies).To(HaveLen(len(bad) + 1))
		for i, name := range bad {
			Expect(applies[i].Kind()).To(Equal("ValueError"), "pool.apply on %s: %s", name, applies[i])
		}
		Expect(applies[len(bad)].Value).To(BeEquivalentTo("2"), "the good pool: %s", applies[len(bad)])
		for _, w := range done(t, "pool.with") {
			Expect(w.Kind()).To(Equal("ValueError"), "pool.with on a refused pool: %s", w)
		}
		Expect(t.Values(suite.Main(t).Pid, "emit")).To(Equal([]any{"goes on"}), "main's output")
	})
})
