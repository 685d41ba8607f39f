package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// A SyncManager's RLock and Condition. CPython's server owns their lock in
// the thread serving the connection that acquired it, which is one per
// client process: a process owns what it acquired.
var (
	proxyCondition = catalogue.Add(catalogue.Behaviour{
		ID: "manager.condition-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "event", "manager", "manager.types"},
		Rule: "two children waiting on a manager Condition both wake on main's notify_all, not before it; " +
			"a timed wait nobody notifies is False and gives the lock back; wait or notify without the lock is NotAllowed",
		Source: "CPython docs: SyncManager.Condition, threading.Condition.wait ('If the calling thread has not " +
			"acquired the lock when this method is called, a RuntimeError is raised'); " +
			"CPython test: _test_multiprocessing.py TestSyncManagerTypes.test_condition",
		CPythonTests: []string{"TestSyncManagerTypes.test_condition"},
	})
	proxyLock = catalogue.Add(catalogue.Behaviour{
		ID: "manager.lock-proxy", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule: "a manager Lock a child acquired and left held is held for main too, and main may release it " +
			"(a lock has no owner); a release of it free is NotAllowed (threading.Lock's RuntimeError)",
		Source: "CPython docs: SyncManager.Lock ('Create a shared threading.Lock object'), threading.Lock.release " +
			"('When invoked on an unlocked lock, a RuntimeError is raised'); CPython test: _test_multiprocessing.py " +
			"TestSyncManagerTypes.test_lock, test_rlock (which, as written, tests a Lock)",
		CPythonTests: []string{"TestSyncManagerTypes.test_lock", "TestSyncManagerTypes.test_rlock"},
	})
	proxyRLock = catalogue.Add(catalogue.Behaviour{
		ID: "manager.rlock-proxy", Profile: catalogue.Extended,
		Features: []string{"control", "process", "manager", "manager.types"},
		Rule: "a manager RLock is acquired twice by the process that holds it and by no other; " +
			"another process's release, and a release once it is free, are NotAllowed",
		Source: "CPython docs: SyncManager.RLock, threading.RLock.release ('Only call this method when the calling " +
			"thread owns the lock. A RuntimeError is raised if this method is called when the lock is unlocked'); " +
			"CPython test: _test_multiprocessing.py _TestLock.test_rlock (run on a manager's RLock)",
	})
)

// waiter takes the condition c, sets the event e and waits on c.
func waiter(e string) []Step {
	return []Step{On("acquire", "c"), On("set", e), On("wait", "c"), On("release", "c")}
}

var _ = Describe("manager condition and rlock", func() {
	suite.Spec(proxyCondition, "two children wait on a manager Condition; main notifies all", func() {
		t := suite.Run(New("manager/condition-proxy").
			Resource("m", "manager").
			Resource("c", "manager.condition", "manager", "m").
			Resource("e1", "event").Resource("e2", "event").
			// The waiter holds the lock from before it sets its event until
			// its wait releases it: once main holds the lock, both wait.
			Program("waiter1", []string{"c", "e1"}, waiter("e1")...).
			Program("waiter2", []string{"c", "e2"}, waiter("e2")...).
			Main(
				On("notify", "c"), On("wait", "c", "timeout", 100),
				On("acquire", "c"), On("wait", "c", "timeout", 100), On("release", "c"),
				Spawn("w", "waiter1", Ref("c"), Ref("e1")), Spawn("w", "waiter2", Ref("c"), Ref("e2")), Start("w"),
				On("wait", "e1"), On("wait", "e2"),
				On("acquire", "c"), On("notify_all", "c"), On("release", "c"),
				Join("w"),
			))
		m := suite.Main(t).Pid
		Expect(kindsOf(t.Done(m, "notify"))).To(Equal([]string{"NotAllowed"}), "notify without the lock")
		waits := t.Filter(func(r trace.Record) bool { return r.Pid == m && !r.Pending && r.Op == "wait" && r.In["on"] == "c" })
		Expect(kindsOf(waits)).To(Equal([]string{"NotAllowed", ""}), "wait without the lock, then with it")
		Expect(waits[1].Value).To(Equal(false), "a timed wait nobody notifies")
		Expect(kindsOf(t.Done(m, "release"))).To(Equal([]string{"", ""}), "the lock is held again after a wait")
		all := t.Done(m, "notify_all")
		Expect(all).To(HaveLen(1))
		Expect(all[0].OK).To(BeTrue(), "%s", all[0])
		kids := t.Children()
		Expect(kids).To(HaveLen(2))
		for _, p := range kids {
			w := t.Done(p.Pid, "wait")
			Expect(w).To(HaveLen(1))
			Expect(w[0].Value).To(Equal(true), "%s", w[0])
			Expect(w[0].T1).To(BeNumerically(">=", all[0].T0), "a child's wait returned before notify_all")
			Expect(kindsOf(t.Done(p.Pid, "release"))).To(Equal([]string{""}), "a woken waiter holds the lock")
		}
	})

	suite.Spec(proxyLock, "a child acquires a manager Lock and exits; main tries it, releases it, and releases it again", func() {
		t := suite.Run(New("manager/lock-proxy").
			Resource("m", "manager").
			Resource("L", "manager.lock", "manager", "m").
			Program("take", []string{"L"}, On("acquire", "L")).
			Main(
				Spawn("c", "take", Ref("L")), Start("c"), Join("c"),
				On("acquire", "L", "block", false), On("acquire", "L", "timeout", 50),
				On("release", "L"), On("release", "L"),
				On("acquire", "L", "block", false), On("release", "L"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(suite.Program(t, "take").Pid, "acquire")).To(Equal([]any{true}))
		Expect(t.Values(m, "acquire")).To(Equal([]any{false, false, true}), "held by the child, then free")
		Expect(kindsOf(t.Done(m, "release"))).To(Equal([]string{"", "NotAllowed", ""}),
			"main releases the child's hold; a second release finds it free")
	})

	suite.Spec(proxyRLock, "main acquires a manager RLock twice; a child tries to take and release it", func() {
		t := suite.Run(New("manager/rlock-proxy").
			Resource("m", "manager").
			Resource("r", "manager.rlock", "manager", "m").
			Program("other", []string{"r"}, On("acquire", "r", "block", false), On("release", "r")).
			Program("later", []string{"r"}, On("acquire", "r", "block", false), On("release", "r")).
			Main(
				On("acquire", "r"), On("acquire", "r", "block", false),
				Spawn("o", "other", Ref("r")), Start("o"), Join("o"),
				On("release", "r"), On("release", "r"), On("release", "r"),
				Spawn("l", "later", Ref("r")), Start("l"), Join("l"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "acquire")).To(Equal([]any{true, true}), "the owner acquires it again")
		Expect(kindsOf(t.Done(m, "release"))).To(Equal([]string{"", "", "NotAllowed"}), "two releases free it; a third is too many")
		first, second := suite.Program(t, "other").Pid, suite.Program(t, "later").Pid
		Expect(t.Values(first, "acquire")).To(Equal([]any{false}), "another process acquires a held RLock")
		Expect(kindsOf(t.Done(first, "release"))).To(Equal([]string{"NotAllowed"}), "another process releases it")
		Expect(t.Values(second, "acquire")).To(Equal([]any{true}), "once free, another process acquires it")
	})
})
