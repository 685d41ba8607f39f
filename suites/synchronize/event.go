package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	eventTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "event.wait-timeout", Profile: catalogue.Extended, Features: []string{"event"},
		Rule:         "wait(timeout) on an Event nobody sets returns False, and not before the timeout",
		Source:       "CPython docs: Event.wait; test_multiprocessing: test_event",
		CPythonTests: []string{"_TestEvent.test_event"},
	})
	eventWakeup = catalogue.Add(catalogue.Behaviour{
		ID: "event.wakeup", Profile: catalogue.Extended, Features: []string{"control", "process", "event"},
		Rule:         "a process waiting on an Event returns True once another process sets it, and not before",
		Source:       "CPython docs: Event.set; test_multiprocessing: test_event",
		CPythonTests: []string{"_TestEvent.test_event"},
	})
	eventSetClear = catalogue.Add(catalogue.Behaviour{
		ID: "event.set-clear", Profile: catalogue.Extended, Features: []string{"event"},
		Rule:         "an Event starts unset; set makes is_set True and every wait return True at once; clear makes it unset again",
		Source:       "CPython docs: threading.Event (is_set, set, clear, wait); test_multiprocessing: _TestEvent.test_event",
		CPythonTests: []string{"_TestEvent.test_event"},
	})
)

var _ = Describe("event", func() {
	suite.Spec(eventTimeout, "wait(300 ms) on an unset event", func() {
		t := suite.Run(New("event/wait-timeout").
			Resource("E", "event").
			Main(On("is_set", "E"), On("wait", "E", "timeout", 300)))
		m := suite.Main(t)
		w := t.Done(m.Pid, "wait")
		Expect(w).To(HaveLen(1))
		Expect(w[0].Value).To(Equal(false))
		lastedAtLeast(w[0], suite.Scale(300).Nanoseconds())
		Expect(t.Values(m.Pid, "is_set")).To(Equal([]any{false}))
	})

	suite.Spec(eventWakeup, "a child waits; main sets the event 500 ms later", func() {
		t := suite.Run(New("event/wakeup").
			Resource("E", "event").
			Program("waiter", []string{"e"}, On("wait", "E"), On("is_set", "E")).
			Main(Spawn("c", "waiter", Ref("E")), Start("c"), Sleep(500), On("set", "E"), Join("c")))
		c := suite.Program(t, "waiter")
		w := t.Done(c.Pid, "wait")
		set := t.Done(suite.Main(t).Pid, "set")
		Expect(w).To(HaveLen(1))
		Expect(w[0].Value).To(Equal(true))
		Expect(set).To(HaveLen(1))
		Expect(w[0].T1).To(BeNumerically(">=", set[0].T0), "the wait returned before the set began: %s", w[0])
		Expect(t.Values(c.Pid, "is_set")).To(Equal([]any{true}), "the set is visible in the child")
	})

	suite.Spec(eventSetClear, "unset, set, cleared: is_set and wait", func() {
		t := suite.Run(New("event/set-clear").
			Resource("E", "event").
			Main(
				On("is_set", "E"), On("wait", "E", "timeout", 0),
				On("set", "E"), On("is_set", "E"), On("wait", "E"), On("wait", "E", "timeout", 20_000),
				On("clear", "E"), On("is_set", "E"), On("wait", "E", "timeout", 0),
			))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "is_set")).To(Equal([]any{false, true, false}))
		w := t.Done(m.Pid, "wait")
		Expect(w).To(HaveLen(4))
		Expect([]any{w[0].Value, w[1].Value, w[2].Value, w[3].Value}).To(Equal([]any{false, true, true, false}))
		Expect(w[2].T1-w[2].T0).To(BeNumerically("<", suite.Scale(20_000).Nanoseconds()),
			"a wait on a set event waited for its timeout: %s", w[2])
	})
})
