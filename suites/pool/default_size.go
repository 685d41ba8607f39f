package pool

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// Pool()'s default size changed in CPython 3.13, from the CPUs the machine
// has to the CPUs the process may use. The two rules differ only when the
// process may use fewer CPUs than the machine has, so both specs run the
// driver on one CPU of the harness's: with every CPU allowed no driver could
// fail either.
var (
	defaultSize = catalogue.Add(catalogue.Behaviour{
		ID: "pool.default-size", Profile: catalogue.Extended, Features: []string{"control", "process", "pool"},
		Versions: "<3.13",
		Rule: "Pool() has os.cpu_count() workers, the CPUs online, even when the process may run on fewer of them " +
			"(its affinity), as cpu_count() says",
		Source: "CPython 3.11 docs: Pool ('If processes is None then the number returned by os.cpu_count() is used'); " +
			"Lib/multiprocessing/pool.py Pool.__init__ (3.11: processes = os.cpu_count() or 1)",
	})
	defaultSizeAffinity = catalogue.Add(catalogue.Behaviour{
		ID: "pool.default-size-affinity", Profile: catalogue.Extended, Features: []string{"control", "process", "pool"},
		Versions: ">=3.13",
		Rule: "Pool() has os.process_cpu_count() workers: as many as the CPUs the process may run on (its affinity), " +
			"fewer than cpu_count() when that is restricted",
		Source: "CPython 3.13 docs: Pool ('If processes is None then the number returned by os.process_cpu_count() is used'; " +
			"'Changed in version 3.13') https://docs.python.org/3.13/library/multiprocessing.html#multiprocessing.pool.Pool",
	})
)

// defaultPool runs a default Pool on the first of the harness's CPUs and
// returns its trace and the driver's cpu_count(). Eight tasks that sleep
// keep every worker the pool made busy, so that each records a task.
func defaultPool() (*trace.Trace, int) {
	GinkgoHelper()
	t := suite.RunOnCPUs(func(own []int) []int { return own[:1] }, New("pool/default-size").
		Resource("p", "pool").
		Program("work", []string{"x"}, Sleep(100), Return(Param("x"))).
		Main(
			Op("cpu_count"),
			On("pool.map", "p", "program", "work", "range", 8),
			On("pool.close", "p"), On("pool.join", "p"),
		))
	maps := done(t, "pool.map")
	Expect(maps).To(HaveLen(1))
	Expect(ints(maps[0].Value)).To(Equal(count(8)), "map's results")
	counts := t.Values(suite.Main(t).Pid, "cpu_count")
	Expect(counts).To(HaveLen(1))
	n, ok := trace.Int(counts[0])
	Expect(ok).To(BeTrue(), "cpu_count's value: %v", counts[0])
	suite.Figures("a default Pool on 1 CPU of %d made %d workers", n, len(t.Children()))
	return t, int(n)
}

var _ = Describe("pool, its default size", func() {
	suite.Spec(defaultSize, "a default Pool run on one CPU has cpu_count() workers", func() {
		t, cpus := defaultPool()
		Expect(len(t.Children())).To(Equal(cpus), "workers of a default Pool, on 1 CPU of the %d online", cpus)
	})

	suite.Spec(defaultSizeAffinity, "a default Pool run on one CPU has one worker", func() {
		t, cpus := defaultPool()
		Expect(len(t.Children())).To(Equal(1), "workers of a default Pool, on 1 CPU of the %d online", cpus)
		for _, x := range tasks(t, "work") {
			Expect(x.Pid).To(Equal(t.Children()[0].Pid), "a task ran outside the one worker: %s", x.Begin)
		}
	})
})
