package process

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// A Process before start, and the children that active_children lists.
var (
	joinBeforeStart = catalogue.Add(catalogue.Behaviour{
		ID: "process.join-before-start", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule: "join() of a process not yet started fails with NotAllowed, and its exitcode is None; " +
			"the process can still be started, and then joins with exitcode 0",
		Source: "CPython docs: Process.join, Process.exitcode ('The child's exit code. This will be None if the process has not yet terminated'); " +
			"Lib/multiprocessing/process.py BaseProcess.join (assert self._popen is not None, 'can only join a started process')",
		CPythonTests: []string{"_TestProcess.test_process"},
	})
	signalBeforeStart = catalogue.Add(catalogue.Behaviour{
		ID: "process.signal-before-start", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule: "terminate() and kill() of a process not yet started fail with NotAllowed, as join() does, and change nothing: " +
			"the process can still be started, and runs to its end with exitcode 0",
		Source: "CPython docs: Process.terminate, Process.kill (a method of a started process); " +
			"Lib/multiprocessing/process.py BaseProcess.terminate (self._popen.terminate(), with _popen None before start)",
	})
	activeChildren = catalogue.Add(catalogue.Behaviour{
		ID: "process.active-children", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule: "active_children() lists the started children that are alive: not one before its start, " +
			"nor one joined, nor one that ended without a join (the call joins it)",
		Source: "CPython docs: multiprocessing.active_children ('Calling this has the side effect of “joining” any processes which have already finished'); " +
			"CPython test: _test_multiprocessing.py _TestProcess.test_active_children",
		CPythonTests: []string{"_TestProcess.test_active_children"},
	})
)

var _ = Describe("process before start", func() {
	suite.Spec(joinBeforeStart, "join before start: NotAllowed, exitcode None; start and join then succeed", func() {
		t := suite.Run(New("process/join-before-start").
			Program("quick", nil, Emit("ran")).
			Main(
				Spawn("c", "quick"),
				Join("c"), ExitCode("c"), IsAlive("c"),
				Start("c"), Join("c"), ExitCode("c"),
			))
		m := suite.Main(t).Pid
		joins := t.Done(m, "join")
		Expect(joins).To(HaveLen(2))
		Expect(joins[0].Kind()).To(Equal("NotAllowed"), "join before start: %s", joins[0])
		Expect(joins[1].OK).To(BeTrue(), "join after start: %s", joins[1])
		Expect(ints([]any{joins[1].Value})).To(Equal([]any{0}), "join's exit code after start")
		Expect(ints(t.Values(m, "exitcode"))).To(Equal([]any{nil, 0}), "exitcode before start, then after the join")
		Expect(t.Values(m, "is_alive")).To(Equal([]any{false}), "is_alive after the refused join")
		c := suite.Program(t, "quick")
		Expect(t.Values(c.Pid, "emit")).To(Equal([]any{"ran"}), "the child ran")
	})

	suite.Spec(signalBeforeStart, "terminate and kill before start: NotAllowed; the process then runs to its end", func() {
		t := suite.Run(New("process/signal-before-start").
			Program("nap", nil, Sleep(200), Emit("ran")).
			Main(
				Spawn("c", "nap"),
				Op("terminate", "proc", "c"), Op("kill", "proc", "c"),
				ExitCode("c"),
				Start("c"), Join("c"), ExitCode("c"),
			))
		m := suite.Main(t).Pid
		for _, op := range []string{"terminate", "kill"} {
			recs := t.Done(m, op)
			Expect(recs).To(HaveLen(1))
			Expect(recs[0].Kind()).To(Equal("NotAllowed"), "%s before start: %s", op, recs[0])
		}
		Expect(ints(t.Values(m, "exitcode"))).To(Equal([]any{nil, 0}), "exitcode before start, then after the join")
		c := suite.Program(t, "nap")
		Expect(t.Values(c.Pid, "emit")).To(Equal([]any{"ran"}), "the child ran to its end")
	})

	suite.Spec(activeChildren, "not before start, while running, not after join, not once ended unjoined", func() {
		t := suite.Run(New("process/active-children").
			Program("nap", nil, Sleep(1_500)).
			Program("quick", nil, Emit("ran")).
			Main(
				Spawn("a", "nap").With("name", "a"), Spawn("b", "quick").With("name", "b"),
				Spawn("c", "quick").With("name", "c"),
				Op("active_children"),
				Start("a"), Start("b"), Op("active_children"),
				Join("b"), Op("active_children"),
				// The sentinel is ready as c's descriptors close, a moment
				// before the kernel lets its parent reap it: the sleep
				// lets c end for good.
				Start("c"), Op("wait_sentinel", "proc", "c", "timeout", 10_000), Sleep(300), Op("active_children"),
				Join("a"), Op("active_children"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "wait_sentinel")).To(Equal([]any{true}), "c ended within the wait")
		active := t.Values(m, "active_children")
		Expect(active).To(HaveLen(5))
		Expect(active[0]).To(BeEmpty(), "before any start")
		Expect(active[1]).To(ContainElement("a"), "a is running")
		Expect(active[2]).To(Equal([]any{"a"}), "after b's join, with a running")
		Expect(active[3]).To(Equal([]any{"a"}), "once c ended, without a join, with a running")
		Expect(active[4]).To(BeEmpty(), "after every join")
	})
})
