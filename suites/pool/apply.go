package pool

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var applyResult = catalogue.Add(catalogue.Behaviour{
	ID: "pool.apply", Profile: catalogue.Extended, Features: []string{"control", "pool"},
	Rule: "apply runs the task in a worker and returns its result once the task has ended; " +
		"apply_async's result.get returns the result as apply does",
	Source: "CPython docs: Pool.apply ('Call func with arguments args and keyword arguments kwds. It blocks until the result is ready'), " +
		"Pool.apply_async, AsyncResult.get; CPython test: _test_multiprocessing.py _TestPool.test_apply, test_async",
	CPythonTests: []string{"_TestPool.test_apply", "_TestPool.test_async"},
})

var _ = Describe("pool, apply", func() {
	suite.Spec(applyResult, "apply and apply_async of a 200 ms task: its result, after it ended, from a worker", func() {
		t := suite.Run(New("pool/apply").
			Resource("p", "pool", "processes", 1).
			Program("nap", []string{"x"}, Sleep(200), Return([]any{"got", Param("x")})).
			Main(
				On("pool.apply", "p", "program", "nap", "args", []any{5}),
				apply("r", "nap", 6), get("r", 10_000),
				On("pool.close", "p"), On("pool.join", "p"),
			))
		m := suite.Main(t).Pid
		applies, gets := done(t, "pool.apply"), done(t, "result.get")
		Expect(applies).To(HaveLen(1))
		Expect(applies[0].OK).To(BeTrue(), "%s", applies[0])
		Expect(ints(applies[0].Value)).To(Equal([]any{"got", 5}), "apply's result")
		Expect(gets).To(HaveLen(1))
		Expect(gets[0].OK).To(BeTrue(), "%s", gets[0])
		Expect(ints(gets[0].Value)).To(Equal([]any{"got", 6}), "apply_async's result")
		ts := tasks(t, "nap")
		Expect(ts).To(HaveLen(2), "tasks that began")
		for i, x := range ts {
			Expect(x.Pid).NotTo(Equal(m), "the task ran in main: %s", x.Begin)
			Expect(x.End).NotTo(BeNil(), "task %d never ended", x.arg())
			end := []int64{applies[0].T1, gets[0].T1}[i]
			Expect(x.End.T1).To(BeNumerically("<=", end), "the result came before task %d ended", x.arg())
		}
	})
})
