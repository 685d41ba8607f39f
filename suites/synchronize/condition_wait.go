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
	conditionWaitResult = catalogue.Add(catalogue.Behaviour{
		ID: "condition.wait-result", Profile: catalogue.Extended, Features: []string{"control", "process", "condition"},
		Rule:         "Condition.wait returns False when its timeout runs out (at once for 0, not before the timeout) and True when notified",
		Source:       "CPython docs: Condition.wait ('The return value is True unless a given timeout expired'); test_multiprocessing: _TestCondition.test_timeout, test_wait_result",
		CPythonTests: []string{"_TestCondition.test_timeout", "_TestCondition.test_wait_result"},
	})
	conditionWaitReleases = catalogue.Add(catalogue.Behaviour{
		ID: "condition.wait-releases", Profile: catalogue.Extended, Features: []string{"control", "process", "condition"},
		Rule: "Condition.wait frees its RLock however often the caller acquired it, so another process can take it, " +
			"and gives it back at the same recursion level",
		Source: "CPython docs: threading.Condition.wait ('When the underlying lock is an RLock ... restores its recursion level " +
			"when the lock is reacquired'), multiprocessing.Condition ('an alias for threading.Condition')",
	})
	conditionWaitFor = catalogue.Add(catalogue.Behaviour{
		ID: "condition.wait-for", Profile: catalogue.Extended, Features: []string{"control", "process", "condition", "event", "semaphore"},
		Rule: "wait_for returns the predicate's value at once when it is true, and otherwise waits through the notifications " +
			"until it becomes true",
		Source:       "CPython docs: Condition.wait_for ('Return the last return value of the predicate'); test_multiprocessing: _TestCondition.test_waitfor",
		CPythonTests: []string{"_TestCondition.test_waitfor"},
	})
	conditionWaitForTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "condition.wait-for-timeout", Profile: catalogue.Extended, Features: []string{"control", "process", "condition", "event"},
		Rule:         "wait_for(timeout) whose predicate stays false through notifications returns its false value, not before the timeout",
		Source:       "CPython docs: Condition.wait_for ('will evaluate to False if the method timed out'); test_multiprocessing: _TestCondition.test_waitfor_timeout",
		CPythonTests: []string{"_TestCondition.test_waitfor_timeout"},
	})
)

// notifier is a program that notifies the condition c times, taking its lock each time.
func notifier(times int) []Step {
	return []Step{Repeat(times, "", On("acquire", "C"), On("notify", "C"), On("release", "C"))}
}

var _ = Describe("condition wait", func() {
	suite.Spec(conditionWaitResult, "wait(0) and wait(300 ms) time out; a child's notify ends wait(60 s)", func() {
		// Main holds the lock from before the child starts until its wait, so the
		// child's notify comes while main waits.
		t := suite.Run(New("condition/wait-result").
			Resource("C", "condition").
			Program("notifier", []string{"c"}, notifier(1)...).
			Main(
				On("acquire", "C"),
				On("wait", "C", "timeout", 0), On("wait", "C", "timeout", 300),
				Spawn("n", "notifier", Ref("C")), Start("n"),
				On("wait", "C", "timeout", 60_000),
				On("release", "C"), Join("n"),
			))
		w := t.Done(suite.Main(t).Pid, "wait")
		Expect(w).To(HaveLen(3))
		Expect([]any{w[0].Value, w[1].Value, w[2].Value}).To(Equal([]any{false, false, true}))
		lastedAtLeast(w[1], suite.Scale(300).Nanoseconds())
	})

	suite.Spec(conditionWaitReleases, "main holds the RLock twice and waits; a child takes it and notifies", func() {
		t := suite.Run(New("condition/wait-releases").
			Resource("C", "condition").
			Program("taker", []string{"c"},
				On("acquire", "C", "timeout", 20_000), On("notify", "C"), On("release", "C")).
			Main(
				On("acquire", "C"), On("acquire", "C"),
				Spawn("t", "taker", Ref("C")), Start("t"),
				On("wait", "C", "timeout", 60_000),
				Repeat(3, "", On("release", "C")),
				Join("t"),
			))
		c := suite.Program(t, "taker")
		Expect(t.Values(c.Pid, "acquire")).To(Equal([]any{true}), "the child took the lock main waits with")
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "wait")).To(Equal([]any{true}))
		Expect(kinds(t.Done(m.Pid, "release"))).To(Equal([]string{"", "", "NotAllowed"}),
			"after the wait main holds the RLock twice again, not more")
	})

	suite.Spec(conditionWaitFor, "a true predicate returns its value; a false one waits for the child's set", func() {
		// The child notifies three times before it sets E, so main's wait_for
		// wakes with the predicate still false.
		t := suite.Run(New("condition/wait-for").
			Resource("C", "condition").
			Resource("E", "event").
			Resource("S", "semaphore", "value", 2).
			Program("setter", []string{"c", "e"}, append(notifier(3),
				On("acquire", "C"), On("set", "E"), On("notify", "C"), On("release", "C"))...).
			Main(
				On("acquire", "C"),
				On("wait_for", "C", "until", On("get_value", "S")),
				Spawn("s", "setter", Ref("C"), Ref("E")), Start("s"),
				On("wait_for", "C", "until", On("is_set", "E")),
				On("release", "C"), Join("s"),
			))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "wait_for")).To(Equal([]any{trace.IntValue(2), true}),
			"the predicate's own value, then True once the event is set")
		set := t.Done(suite.Program(t, "setter").Pid, "set")
		Expect(set).To(HaveLen(1))
		Expect(t.Done(m.Pid, "wait_for")[1].T1).To(BeNumerically(">=", set[0].T0), "wait_for returned before the set")
	})

	suite.Spec(conditionWaitForTimeout, "wait_for(300 ms) on an unset event while a child notifies three times", func() {
		t := suite.Run(New("condition/wait-for-timeout").
			Resource("C", "condition").
			Resource("E", "event").
			Program("notifier", []string{"c"}, notifier(3)...).
			Main(
				On("acquire", "C"),
				Spawn("n", "notifier", Ref("C")), Start("n"),
				On("wait_for", "C", "until", On("is_set", "E"), "timeout", 300),
				On("release", "C"), Join("n"),
			))
		w := t.Done(suite.Main(t).Pid, "wait_for")
		Expect(w).To(HaveLen(1))
		Expect(w[0].Value).To(Equal(false))
		lastedAtLeast(w[0], suite.Scale(300).Nanoseconds())
	})
})
