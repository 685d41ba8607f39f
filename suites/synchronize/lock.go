package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	mutualExclusion = catalogue.Add(catalogue.Behaviour{
		ID: "lock.mutual-exclusion", Profile: catalogue.Core, Features: []string{"control", "process", "lock"},
		Rule:   "critical sections of N processes holding one Lock never overlap",
		Source: "tutorial, program 3 (Lock): ten processes print under one lock",
	})
	allEnter = catalogue.Add(catalogue.Behaviour{
		ID: "lock.all-enter", Profile: catalogue.Core, Features: []string{"control", "process", "lock"},
		Rule:   "each of N processes contending for one Lock enters exactly once",
		Source: "tutorial, program 3 (Lock)",
	})
	nonBlocking = catalogue.Add(catalogue.Behaviour{
		ID: "lock.nonblocking", Profile: catalogue.Extended, Features: []string{"process", "lock"},
		Rule:         "acquire(block=False) returns False on a Lock held by another process and True on a free one",
		Source:       "CPython docs: Lock.acquire; test_multiprocessing: test_lock",
		CPythonTests: []string{"_TestLock.test_lock"},
	})
	acquireTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "lock.acquire-timeout", Profile: catalogue.Extended, Features: []string{"process", "lock"},
		Rule:   "acquire(timeout) on a Lock held elsewhere returns False, and not before the timeout",
		Source: "CPython docs: Lock.acquire; test_multiprocessing: test_timeout (_TestLock)",
	})
	releaseByOther = catalogue.Add(catalogue.Behaviour{
		ID: "lock.release-by-other", Profile: catalogue.Extended, Features: []string{"process", "lock"},
		Rule:   "a Lock has no owner: a process may release a Lock that another process acquired",
		Source: "CPython docs: multiprocessing.Lock ('a non-recursive lock object: a close analog of threading.Lock')",
	})
	releaseUnlocked = catalogue.Add(catalogue.Behaviour{
		ID: "lock.release-unlocked", Profile: catalogue.Extended, Features: []string{"lock"},
		Rule:         "releasing an unlocked Lock fails with ValueError",
		Source:       "CPython: SemLock.release ('semaphore or lock released too many times'); test_multiprocessing: test_lock",
		CPythonTests: []string{"_TestLock.test_lock"},
	})
	rlockRecursion = catalogue.Add(catalogue.Behaviour{
		ID: "rlock.recursion", Profile: catalogue.Extended, Features: []string{"process", "rlock", "event"},
		Rule:         "an RLock acquired n times by its owner stays held until the n-th release",
		Source:       "CPython docs: multiprocessing.RLock; test_multiprocessing: test_rlock",
		CPythonTests: []string{"_TestLock.test_rlock"},
	})
	rlockOwner = catalogue.Add(catalogue.Behaviour{
		ID: "rlock.owner-only", Profile: catalogue.Extended, Features: []string{"process", "rlock"},
		Rule:   "only the owner may release an RLock: another process's release fails with NotAllowed",
		Source: "CPython docs: RLock.release ('AssertionError ... when invoked on an unlocked lock or one owned by another')",
	})
)

var _ = Describe("lock", func() {
	// The tutorial's program: ten processes print "hello world i" under one lock.
	tutorial := func() *trace.Trace {
		return suite.Run(New("lock/tutorial").
			Resource("L", "lock").
			Program("f", []string{"l", "i"},
				On("acquire", "L"),
				Emit([]any{"hello world", Param("i")}),
				Sleep(50),
				On("release", "L")).
			Main(
				Repeat(10, "k", Spawn("w", "f", Ref("L"), Param("k"))),
				Start("w"), Join("w"),
			))
	}

	suite.Spec(mutualExclusion, "ten processes hold the lock one at a time", func() {
		t := tutorial()
		held := check.Held(t, "L")
		Expect(held).To(HaveLen(10), "ten critical sections")
		Expect(check.Disjoint(held)).To(Succeed())
	})

	suite.Spec(allEnter, "each of ten processes acquires once and prints its line", func() {
		t := tutorial()
		var lines []any
		for _, p := range t.Children() {
			Expect(t.Values(p.Pid, "acquire")).To(Equal([]any{true}), "%s's acquire", p.Name)
			lines = append(lines, t.Values(p.Pid, "emit")...)
		}
		var want []any
		for i := range 10 {
			want = append(want, []any{"hello world", trace.IntValue(i)})
		}
		Expect(lines).To(ConsistOf(want...))
	})

	suite.Spec(nonBlocking, "held: False; free: True", func() {
		t := suite.Run(New("lock/nonblocking").
			Resource("L", "lock").
			Program("try", []string{"l"}, On("acquire", "L", "block", false)).
			Main(
				On("acquire", "L"),
				Spawn("a", "try", Ref("L")), Start("a"), Join("a"),
				On("release", "L"),
				Spawn("b", "try", Ref("L")), Start("b"), Join("b"),
			))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "join")).To(HaveLen(2))
		var got []any
		for _, p := range t.Children() {
			got = append(got, t.Values(p.Pid, "acquire")...)
		}
		Expect(got).To(Equal([]any{false, true}), "while main holds the lock, then after it released it")
	})

	suite.Spec(acquireTimeout, "acquire(timeout=300ms) on a held lock gives False after the timeout", func() {
		t := suite.Run(New("lock/acquire-timeout").
			Resource("L", "lock").
			Program("try", []string{"l"}, On("acquire", "L", "timeout", 300)).
			Main(On("acquire", "L"), Spawn("c", "try", Ref("L")), Start("c"), Join("c"), On("release", "L")))
		c := suite.Program(t, "try")
		acq := t.Done(c.Pid, "acquire")
		Expect(acq).To(HaveLen(1))
		Expect(acq[0].Value).To(Equal(false))
		lastedAtLeast(acq[0], suite.Scale(300).Nanoseconds())
	})

	suite.Spec(releaseByOther, "a child releases main's lock; main can take it again", func() {
		t := suite.Run(New("lock/release-by-other").
			Resource("L", "lock").
			Program("free", []string{"l"}, On("release", "L")).
			Main(
				On("acquire", "L"),
				Spawn("c", "free", Ref("L")), Start("c"), Join("c"),
				On("acquire", "L", "block", false),
			))
		c := suite.Program(t, "free")
		Expect(kinds(t.Done(c.Pid, "release"))).To(Equal([]string{""}), "the child's release")
		Expect(t.Values(suite.Main(t).Pid, "acquire")).To(Equal([]any{true, true}), "main's acquires")
	})

	suite.Spec(releaseUnlocked, "release of a free lock is a ValueError", func() {
		t := suite.Run(New("lock/release-unlocked").
			Resource("L", "lock").
			Main(On("release", "L"), On("acquire", "L"), On("release", "L"), On("release", "L")))
		Expect(kinds(t.Done(suite.Main(t).Pid, "release"))).To(Equal([]string{"ValueError", "", "ValueError"}))
	})

	suite.Spec(rlockRecursion, "held after the 1st and 2nd of three releases, free after the 3rd", func() {
		t := suite.Run(New("rlock/recursion").
			Resource("R", "rlock").
			Resource("held", "event").Resource("go1", "event").
			Resource("once", "event").Resource("go2", "event").
			Program("owner", []string{"r", "a", "b", "c", "d"},
				On("acquire", "R"), On("acquire", "R"), On("acquire", "R"),
				On("set", "held"), On("wait", "go1"),
				On("release", "R"), On("release", "R"),
				On("set", "once"), On("wait", "go2"),
				On("release", "R")).
			Main(
				Spawn("o", "owner", Ref("R"), Ref("held"), Ref("go1"), Ref("once"), Ref("go2")), Start("o"),
				On("wait", "held"), On("acquire", "R", "block", false),
				On("set", "go1"),
				On("wait", "once"), On("acquire", "R", "block", false),
				On("set", "go2"),
				Join("o"), On("acquire", "R", "block", false),
			))
		o := suite.Program(t, "owner")
		Expect(t.Values(o.Pid, "acquire")).To(Equal([]any{true, true, true}), "the owner's recursive acquires")
		Expect(kinds(t.Done(o.Pid, "release"))).To(Equal([]string{"", "", ""}), "the owner's releases")
		Expect(t.Values(suite.Main(t).Pid, "acquire")).To(Equal([]any{false, false, true}),
			"main's try: held 3 times, held once, free after the owner ended")
	})

	suite.Spec(rlockOwner, "a child's release of main's RLock fails with NotAllowed", func() {
		t := suite.Run(New("rlock/owner-only").
			Resource("R", "rlock").
			Program("steal", []string{"r"}, On("release", "R")).
			Main(On("acquire", "R"), Spawn("c", "steal", Ref("R")), Start("c"), Join("c"), On("release", "R")))
		c := suite.Program(t, "steal")
		Expect(kinds(t.Done(c.Pid, "release"))).To(Equal([]string{"NotAllowed"}))
		Expect(kinds(t.Done(suite.Main(t).Pid, "release"))).To(Equal([]string{""}), "the owner's release")
	})
})
