package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	barrierIndices = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.indices", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule:         "the k parties of a Barrier(k) get the indices 0..k-1, each once",
		Source:       "CPython docs: threading.Barrier.wait ('an integer in the range 0 to parties-1, different for each thread')",
		CPythonTests: []string{"_TestBarrier.test_wait_return"},
	})
	barrierTogether = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.together", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule:         "no party leaves a Barrier before the last one arrives",
		Source:       "CPython docs: multiprocessing.Barrier; test_multiprocessing: _TestBarrier.test_barrier",
		CPythonTests: []string{"_TestBarrier.test_barrier"},
	})
	barrierAbort = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.abort", Profile: catalogue.Extended, Features: []string{"process", "barrier"},
		Rule:         "abort breaks a Barrier: broken is True and every wait fails with Broken",
		Source:       "CPython docs: Barrier.abort; test_multiprocessing: test_abort",
		CPythonTests: []string{"_TestBarrier.test_abort"},
	})
	barrierTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.timeout-breaks", Profile: catalogue.Extended, Features: []string{"process", "barrier"},
		Rule:         "a party's wait that times out breaks the Barrier for every party",
		Source:       "CPython docs: Barrier.wait ('If the call times out, the barrier is put into the broken state'); test_multiprocessing: test_timeout",
		CPythonTests: []string{"_TestBarrier.test_timeout"},
	})
	barrierReset = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.reset", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule:         "reset returns a broken Barrier to use: broken is False and the parties pass again",
		Source:       "CPython docs: Barrier.reset; test_multiprocessing: test_abort_and_reset",
		CPythonTests: []string{"_TestBarrier.test_abort_and_reset"},
	})
	barrierActionRaises = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.action-raises", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule: "an action that raises breaks its Barrier: the other parties' waits fail with Broken, and the error " +
			"escapes the wait of the party that ran it",
		Source: "CPython docs: threading.Barrier.wait ('If the call [to action] raises an error, the barrier is put into the broken state')",
	})
)

// waits returns every completed barrier wait of the children.
func waits(t *trace.Trace) []trace.Record {
	var out []trace.Record
	for _, p := range t.Children() {
		out = append(out, t.Done(p.Pid, "wait")...)
	}
	return out
}

var _ = Describe("barrier", func() {
	three := func() *trace.Trace {
		return suite.Run(New("barrier/three").
			Resource("B", "barrier", "parties", 3).
			Program("party", []string{"b"}, On("wait", "B")).
			Main(Repeat(3, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p")))
	}

	suite.Spec(barrierIndices, "three parties get 0, 1 and 2", func() {
		var idx []any
		for _, w := range waits(three()) {
			Expect(w.OK).To(BeTrue(), "%s", w)
			idx = append(idx, w.Value)
		}
		Expect(idx).To(ConsistOf(trace.IntValue(0), trace.IntValue(1), trace.IntValue(2)))
	})

	suite.Spec(barrierTogether, "every wait returns after the last wait began", func() {
		ws := waits(three())
		Expect(ws).To(HaveLen(3))
		var last int64
		for _, w := range ws {
			last = max(last, w.T0)
		}
		for _, w := range ws {
			Expect(w.T1).To(BeNumerically(">=", last), "left before the last party arrived: %s", w)
		}
	})

	suite.Spec(barrierAbort, "after abort, broken is True and a wait fails", func() {
		t := suite.Run(New("barrier/abort").
			Resource("B", "barrier", "parties", 2).
			Program("party", []string{"b"}, On("wait", "B", "timeout", 10_000)).
			Main(On("abort", "B"), On("broken", "B"), Spawn("p", "party", Ref("B")), Start("p"), Join("p")))
		Expect(t.Values(suite.Main(t).Pid, "broken")).To(Equal([]any{true}))
		Expect(kinds(waits(t))).To(Equal([]string{"Broken"}))
	})

	suite.Spec(barrierTimeout, "one party times out; the other, without a timeout, is released as Broken", func() {
		t := suite.Run(New("barrier/timeout-breaks").
			Resource("B", "barrier", "parties", 3).
			Program("impatient", []string{"b"}, On("wait", "B", "timeout", 300)).
			Program("patient", []string{"b"}, On("wait", "B", "timeout", 20_000)).
			Main(
				Spawn("a", "impatient", Ref("B")), Spawn("b", "patient", Ref("B")),
				Start("b"), Start("a"), Join("a"),
				On("broken", "B"),
				Join("b"),
			))
		Expect(t.Values(suite.Main(t).Pid, "broken")).To(Equal([]any{true}), "broken after the timeout")
		Expect(kinds(waits(t))).To(Equal([]string{"Broken", "Broken"}))
	})

	suite.Spec(barrierReset, "abort, reset, then two parties pass", func() {
		t := suite.Run(New("barrier/reset").
			Resource("B", "barrier", "parties", 2).
			Program("party", []string{"b"}, On("wait", "B", "timeout", 20_000)).
			Main(
				On("abort", "B"), On("reset", "B"), On("broken", "B"),
				Repeat(2, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p"),
			))
		Expect(t.Values(suite.Main(t).Pid, "broken")).To(Equal([]any{false}))
		Expect(kinds(waits(t))).To(Equal([]string{"", ""}))
	})

	suite.Spec(barrierActionRaises, "Barrier(2) whose action raises: one party is Broken, the other ends with exit code 1", func() {
		t := suite.Run(New("barrier/action-raises").
			Resource("B", "barrier", "parties", 2, "action", "boom").
			Program("boom", nil, Raise("boom")).
			Program("party", []string{"b"}, On("wait", "B", "timeout", 30_000)).
			Main(
				Repeat(2, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p"),
				On("broken", "B"),
			))
		Expect(kinds(waits(t))).To(Equal([]string{"Broken"}), "the waits that returned: the party that ran the action has none")
		Expect(t.Values(suite.Main(t).Pid, "join")).To(ConsistOf(trace.IntValue(0), trace.IntValue(1)),
			"the party whose action raised exits 1")
		Expect(t.Values(suite.Main(t).Pid, "broken")).To(Equal([]any{true}))
	})
})
