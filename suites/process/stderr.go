package process

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var raiseStderr = catalogue.Add(catalogue.Behaviour{
	ID: "process.raise-stderr", Profile: catalogue.Extended, Features: []string{"control", "process"},
	Rule: "a child whose program raises exits 1 and, before it ends, writes its name and the exception's message " +
		"to stderr, which its parent shares",
	Source: "CPython docs: Process.run, Process.exitcode; Lib/multiprocessing/process.py BaseProcess._bootstrap " +
		"('Process %s:' and the traceback, then sys.stderr.flush()); CPython test: _test_multiprocessing.py " +
		"_TestSubclassingProcess.test_stderr_flush (bpo-13812)",
	CPythonTests: []string{"_TestSubclassingProcess.test_stderr_flush"},
})

var _ = Describe("process, a raise in a child", func() {
	suite.Spec(raiseStderr, "a named child raises: exitcode 1, its name and the message on stderr", func() {
		const message = "marker: no such luck"
		res, err := suite.RunAllowingErrors(New("process/raise-stderr").
			Program("bad", nil, Raise(message)).
			Main(Spawn("c", "bad").With("name", "unlucky-child"), Start("c"), Join("c")))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Leaks).To(BeEmpty())
		t := res.Trace
		Expect(ints(t.Values(suite.Main(t).Pid, "join"))).To(Equal([]any{1}), "the exit code")
		Expect(string(res.Stderr)).To(ContainSubstring("unlucky-child"), "the child's name on stderr")
		Expect(string(res.Stderr)).To(ContainSubstring(message), "the exception's message on stderr")
	})
})
