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
	barrierPasses = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.passes", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule: "a Barrier is used again after each pass: in every pass its parties leave together with the indices " +
			"0..k-1, and afterwards n_waiting is 0 and broken False",
		Source: "CPython docs: Barrier ('can be reused any number of times'); test_multiprocessing: _TestBarrier.test_barrier, " +
			"test_barrier_10, test_thousand",
		CPythonTests: []string{"_TestBarrier.test_barrier", "_TestBarrier.test_barrier_10", "_TestBarrier.test_thousand"},
	})
	barrierSingle = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.single-party", Profile: catalogue.Extended, Features: []string{"barrier"},
		Rule:         "a Barrier(1) lets each wait through at once, with index 0",
		Source:       "CPython docs: Barrier.wait; test_multiprocessing: _TestBarrier.test_single_thread",
		CPythonTests: []string{"_TestBarrier.test_single_thread"},
	})
	barrierDefaultTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.default-timeout", Profile: catalogue.Extended, Features: []string{"barrier"},
		Rule:         "a wait without a timeout on a Barrier made with one times out after it: it fails with Broken and breaks the Barrier",
		Source:       "CPython docs: Barrier ('timeout is the default timeout value if none is specified for the wait() method'); test_multiprocessing: _TestBarrier.test_default_timeout",
		CPythonTests: []string{"_TestBarrier.test_default_timeout"},
	})
	barrierResetWaiters = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.reset-breaks-waiters", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier", "event"},
		Rule: "reset while a party waits makes its wait fail with Broken and leaves the Barrier unbroken and empty, " +
			"ready for the next pass; n_waiting counted the waiting party",
		Source: "CPython docs: Barrier.reset ('any threads waiting on it will receive the BrokenBarrierError'), Barrier.n_waiting; " +
			"test_multiprocessing: _TestBarrier.test_reset",
		CPythonTests: []string{"_TestBarrier.test_reset"},
	})
	barrierAction = catalogue.Add(catalogue.Behaviour{
		ID: "barrier.action", Profile: catalogue.Extended, Features: []string{"control", "process", "barrier"},
		Rule:         "a Barrier's action runs once per pass, in one of the parties, after the last one arrives and before any leaves",
		Source:       "CPython docs: Barrier ('action ... will be called by one of the threads when they are released'); test_multiprocessing: _TestBarrier.test_action",
		CPythonTests: []string{"_TestBarrier.test_action"},
	})
)

var _ = Describe("barrier passes", func() {
	suite.Spec(barrierPasses, "three parties pass a Barrier(3) five times", func() {
		const parties, passes = 3, 5
		t := suite.Run(New("barrier/passes").
			Resource("B", "barrier", "parties", parties).
			Program("party", []string{"b"}, Repeat(passes, "", On("wait", "B", "timeout", 30_000))).
			Main(
				Repeat(parties, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p"),
				On("n_waiting", "B"), On("broken", "B"), On("parties", "B"),
			))
		byPass := make([][]trace.Record, passes)
		for _, p := range t.Children() {
			ws := t.Done(p.Pid, "wait")
			Expect(ws).To(HaveLen(passes), "%s's waits", p.Name)
			for i, w := range ws {
				Expect(w.OK).To(BeTrue(), "%s", w)
				byPass[i] = append(byPass[i], w)
			}
		}
		for i, ws := range byPass {
			var idx []any
			var last int64
			for _, w := range ws {
				idx = append(idx, w.Value)
				last = max(last, w.T0)
			}
			Expect(idx).To(ConsistOf(trace.IntValue(0), trace.IntValue(1), trace.IntValue(2)), "the indices of pass %d", i)
			for _, w := range ws {
				Expect(w.T1).To(BeNumerically(">=", last), "pass %d: left before the last party arrived: %s", i, w)
			}
		}
		m := suite.Main(t).Pid
		Expect(t.Values(m, "n_waiting")).To(Equal([]any{trace.IntValue(0)}))
		Expect(t.Values(m, "broken")).To(Equal([]any{false}))
		Expect(t.Values(m, "parties")).To(Equal([]any{trace.IntValue(parties)}))
	})

	suite.Spec(barrierSingle, "Barrier(1): two waits in main", func() {
		t := suite.Run(New("barrier/single-party").
			Resource("B", "barrier", "parties", 1).
			Main(On("wait", "B", "timeout", 10_000), On("wait", "B", "timeout", 10_000), On("broken", "B")))
		m := suite.Main(t).Pid
		Expect(kinds(t.Done(m, "wait"))).To(Equal([]string{"", ""}))
		Expect(t.Values(m, "wait")).To(Equal([]any{trace.IntValue(0), trace.IntValue(0)}))
		Expect(t.Values(m, "broken")).To(Equal([]any{false}))
	})

	suite.Spec(barrierDefaultTimeout, "Barrier(2, timeout=300 ms): main's plain wait", func() {
		t := suite.RunWithin(20_000, New("barrier/default-timeout").
			Resource("B", "barrier", "parties", 2, "timeout", 300).
			Main(On("wait", "B"), On("broken", "B")))
		m := suite.Main(t).Pid
		w := t.Done(m, "wait")
		Expect(kinds(w)).To(Equal([]string{"Broken"}))
		lastedAtLeast(w[0], suite.Scale(300).Nanoseconds())
		Expect(t.Values(m, "broken")).To(Equal([]any{true}))
	})

	suite.Spec(barrierResetWaiters, "a child waits on a Barrier(2); main resets it, then they pass it together", func() {
		// The child sets ready just before its wait; the sleep lets it get there
		// (n_waiting shows that it did).
		t := suite.Run(New("barrier/reset-breaks-waiters").
			Resource("B", "barrier", "parties", 2).
			Resource("ready", "event").
			Program("party", []string{"b", "ready"},
				On("set", "ready"), On("wait", "B", "timeout", 30_000), On("wait", "B", "timeout", 10_000)).
			Main(
				Spawn("p", "party", Ref("B"), Ref("ready")), Start("p"),
				On("wait", "ready"), Sleep(1000),
				On("n_waiting", "B"), On("reset", "B"), On("broken", "B"),
				On("wait", "B", "timeout", 30_000), Join("p"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "n_waiting")).To(Equal([]any{trace.IntValue(1)}), "the child waits when main resets")
		Expect(t.Values(m, "broken")).To(Equal([]any{false}), "a reset barrier is not broken")
		Expect(kinds(t.Done(suite.Program(t, "party").Pid, "wait"))).To(Equal([]string{"Broken", ""}),
			"the child's wait broken by the reset, then its pass with main")
		Expect(kinds(t.Done(m, "wait"))).To(Equal([]string{"", ""}), "main's wait for ready, then its pass")
	})

	suite.Spec(barrierAction, "Barrier(3) with an action that emits: two passes", func() {
		t := suite.Run(New("barrier/action").
			Resource("B", "barrier", "parties", 3, "action", "act").
			Program("act", nil, Emit("action")).
			Program("party", []string{"b"}, Repeat(2, "", On("wait", "B", "timeout", 30_000))).
			Main(Repeat(3, "", Spawn("p", "party", Ref("B"))), Start("p"), Join("p")))
		acts := t.Op("emit")
		Expect(acts).To(HaveLen(2), "one action per pass")
		byPass := make([][]trace.Record, 2)
		for _, p := range t.Children() {
			ws := t.Done(p.Pid, "wait")
			Expect(kinds(ws)).To(Equal([]string{"", ""}), "%s's waits", p.Name)
			for i, w := range ws {
				byPass[i] = append(byPass[i], w)
			}
		}
		for i, a := range acts {
			for _, w := range byPass[i] {
				Expect(a.T0).To(BeNumerically(">=", w.T0), "pass %d: the action ran before every party arrived: %s", i, w)
				Expect(a.T1).To(BeNumerically("<=", w.T1), "pass %d: a party left before the action ended: %s", i, w)
			}
		}
	})
})
