package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	notifyN = catalogue.Add(catalogue.Behaviour{
		ID: "condition.notify-n", Profile: catalogue.Extended, Features: []string{"control", "process", "condition", "semaphore"},
		Rule:         "notify(n) wakes exactly n of the processes waiting on a Condition; notify_all wakes the rest",
		Source:       "CPython docs: Condition.notify; test_multiprocessing: test_notify, test_notify_n",
		CPythonTests: []string{"_TestCondition.test_notify", "_TestCondition.test_notify_all", "_TestCondition.test_notify_n"},
	})
	needsLock = catalogue.Add(catalogue.Behaviour{
		ID: "condition.needs-lock", Profile: catalogue.Extended, Features: []string{"condition"},
		Rule:   "wait and notify on a Condition whose lock the caller does not hold fail with NotAllowed",
		Source: "CPython docs: Condition.wait, Condition.notify ('If the calling process has not acquired the lock ... RuntimeError')",
	})
	timedOutWaiters = catalogue.Add(catalogue.Behaviour{
		ID: "condition.timed-out-waiters", Profile: catalogue.Extended, Features: []string{"process", "condition", "semaphore"},
		Rule: "waiters whose wait timed out wait no more: a later notify() wakes the process waiting then, " +
			"not one of them",
		Source: "CPython docs: Condition.notify ('wake up at most n of the threads waiting'); CPython: " +
			"multiprocessing.synchronize.Condition.notify subtracts the woken count; test_multiprocessing: " +
			"_TestCondition.test_notify_all",
		CPythonTests: []string{"_TestCondition.test_notify_all"},
	})
)

var _ = Describe("condition", func() {
	suite.Spec(notifyN, "three waiters: notify(1) wakes one, notify_all the other two", func() {
		// Each waiter signals "ready" while it holds the condition's lock, so once
		// main has three readies and the lock, all three are inside wait. The woken
		// waiter signals "woke"; main then gives any wrongly woken waiter time to
		// show itself before notify_all.
		t := suite.Run(New("condition/notify-n").
			Resource("C", "condition").
			Resource("ready", "semaphore", "value", 0).
			Resource("woke", "semaphore", "value", 0).
			Program("waiter", []string{"c", "ready", "woke"},
				On("acquire", "C"),
				On("release", "ready"),
				On("wait", "C"),
				On("release", "woke"),
				On("release", "C")).
			Main(
				Repeat(3, "", Spawn("w", "waiter", Ref("C"), Ref("ready"), Ref("woke"))), Start("w"),
				Repeat(3, "", On("acquire", "ready")),
				On("acquire", "C"), On("notify", "C", "n", 1), On("release", "C"),
				On("acquire", "woke"),
				Sleep(500),
				On("acquire", "C"), Op("notify_all", "on", "C"), On("release", "C"),
				Join("w"),
			))
		m := suite.Main(t)
		all := t.Done(m.Pid, "notify_all")
		Expect(all).To(HaveLen(1))
		var before, after int
		for _, p := range t.Children() {
			for _, w := range t.Done(p.Pid, "wait") {
				Expect(w.Value).To(Equal(true), "%s", w)
				if w.T1 < all[0].T0 {
					before++
				} else {
					after++
				}
			}
		}
		Expect(before).To(Equal(1), "waiters woken by notify(1)")
		Expect(after).To(Equal(2), "waiters woken by notify_all")
	})

	suite.Spec(needsLock, "notify and wait without the lock", func() {
		t := suite.Run(New("condition/needs-lock").
			Resource("C", "condition").
			Main(
				On("notify", "C"), On("wait", "C", "timeout", 10),
				On("acquire", "C"), On("notify", "C"), On("release", "C"),
			))
		m := suite.Main(t)
		Expect(kinds(t.Done(m.Pid, "notify"))).To(Equal([]string{"NotAllowed", ""}))
		Expect(kinds(t.Done(m.Pid, "wait"))).To(Equal([]string{"NotAllowed"}))
	})

	suite.Spec(timedOutWaiters, "two waits time out; then notify() wakes a third waiter", func() {
		// The waiter signals ready while it holds the lock, so once main has the
		// signal and the lock, the waiter is inside its wait.
		t := suite.Run(New("condition/timed-out-waiters").
			Resource("C", "condition").
			Resource("ready", "semaphore", "value", 0).
			Program("late", []string{"c"}, On("acquire", "C"), On("wait", "C", "timeout", 200), On("release", "C")).
			Program("waiter", []string{"c", "ready"},
				On("acquire", "C"), On("release", "ready"), On("wait", "C", "timeout", 20_000), On("release", "C")).
			Main(
				Spawn("a", "late", Ref("C")), Spawn("b", "late", Ref("C")),
				Start("a"), Start("b"), Join("a"), Join("b"),
				Spawn("w", "waiter", Ref("C"), Ref("ready")), Start("w"),
				On("acquire", "ready"),
				On("acquire", "C"), On("notify", "C"), On("release", "C"),
				Join("w"),
			))
		var late []any
		for _, p := range t.Children() {
			if p.Program == "late" {
				late = append(late, t.Values(p.Pid, "wait")...)
			}
		}
		Expect(late).To(Equal([]any{false, false}), "the two late waits time out")
		w := t.Done(suite.Program(t, "waiter").Pid, "wait")
		Expect(w).To(HaveLen(1))
		Expect(w[0].Value).To(Equal(true), "the notify went to the waiter: %s", w[0])
		notify := t.Done(suite.Main(t).Pid, "notify")
		Expect(notify).To(HaveLen(1))
		Expect(w[0].T1).To(BeNumerically(">=", notify[0].T0))
	})
})
