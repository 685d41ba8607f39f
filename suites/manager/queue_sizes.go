package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// A manager Queue is a queue.Queue in the server, with no feeder thread:
// unlike a multiprocessing.Queue, its qsize, empty and full are exact as soon
// as a put returns, in every process.
var queueSizes = catalogue.Add(catalogue.Behaviour{
	ID: "manager.queue-sizes", Profile: catalogue.Extended,
	Features: []string{"process", "manager", "manager.types"},
	Rule: "a manager Queue(2) holding two items reports qsize 2, full and not empty, in main and in a child; once the " +
		"child has got both, empty and not full, in both",
	Source: "CPython docs: SyncManager.Queue ('Create a shared queue.Queue object'), queue.Queue.qsize, empty, full; " +
		"CPython test: _test_multiprocessing.py TestSyncManagerTypes.test_queue",
	CPythonTests: []string{"TestSyncManagerTypes.test_queue", "TestSyncManagerTypes.test_joinable_queue"},
})

var _ = Describe("manager queue sizes", func() {
	suite.Spec(queueSizes, "main puts 5 and 6 on a manager Queue(2); a child reads the sizes and gets both", func() {
		sizes := []Step{On("qsize", "q"), On("full", "q"), On("empty", "q")}
		t := suite.Run(New("manager/queue-sizes").
			Resource("m", "manager").
			Resource("q", "manager.queue", "manager", "m", "maxsize", 2).
			Program("child", []string{"q"}, append(sizes, On("get", "q"), On("get", "q"), On("empty", "q"), On("full", "q"))...).
			Main(append(append([]Step{On("put", "q", "value", 5), On("put", "q", "value", 6)}, sizes...),
				Spawn("c", "child", Ref("q")), Start("c"), Join("c"), On("empty", "q"), On("full", "q"))...))
		two := trace.IntValue(2)
		for _, pid := range []int{suite.Main(t).Pid, suite.Program(t, "child").Pid} {
			Expect(t.Values(pid, "qsize")).To(Equal([]any{two}), "two items in a Queue(2)")
			Expect(t.Values(pid, "full")).To(Equal([]any{true, false}), "full with two, then not")
			Expect(t.Values(pid, "empty")).To(Equal([]any{false, true}), "not empty with two, then empty")
		}
		Expect(t.Values(suite.Program(t, "child").Pid, "get")).To(Equal([]any{trace.IntValue(5), trace.IntValue(6)}))
	})
})
