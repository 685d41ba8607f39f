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
	semaphoreBound = catalogue.Add(catalogue.Behaviour{
		ID: "semaphore.bound", Profile: catalogue.Extended, Features: []string{"control", "process", "semaphore"},
		Rule:   "a Semaphore(k) never admits more than k holders at once, and admits k",
		Source: "CPython docs: multiprocessing.Semaphore; test_multiprocessing: test_semaphore",
	})
	boundedOverRelease = catalogue.Add(catalogue.Behaviour{
		ID: "semaphore.bounded-over-release", Profile: catalogue.Extended, Features: []string{"semaphore"},
		Rule:   "releasing a BoundedSemaphore above its initial value fails with ValueError; a Semaphore's value just grows",
		Source: "CPython docs: multiprocessing.BoundedSemaphore; test_multiprocessing: test_bounded_semaphore",
	})
	semaphoreValue = catalogue.Add(catalogue.Behaviour{
		ID: "semaphore.get-value", Profile: catalogue.Extended, Features: []string{"semaphore"},
		Rule: "get_value is the initial value less the successful acquires plus the releases; a failed acquire leaves it",
		Source: "CPython docs: multiprocessing.Semaphore; test_multiprocessing: _TestSemaphore.test_semaphore, " +
			"test_bounded_semaphore",
		CPythonTests: []string{"_TestSemaphore.test_semaphore", "_TestSemaphore.test_bounded_semaphore"},
	})
	semaphoreFails = catalogue.Add(catalogue.Behaviour{
		ID: "semaphore.acquire-fails", Profile: catalogue.Extended, Features: []string{"semaphore"},
		Rule: "acquire on a Semaphore(0) returns False: at once when non-blocking (a timeout then is ignored) or " +
			"with a zero timeout, not before the timeout when blocking",
		Source: "CPython docs: multiprocessing.Lock.acquire ('a negative value for timeout [is] equivalent to a timeout of zero'; " +
			"with block False the timeout 'is thus ignored'), as Semaphore.acquire; " +
			"test_multiprocessing: _TestSemaphore.test_timeout",
		CPythonTests: []string{"_TestSemaphore.test_timeout"},
	})
	semaphoreNegative = catalogue.Add(catalogue.Behaviour{
		ID: "semaphore.negative-refused", Profile: catalogue.Extended, Features: []string{"semaphore"},
		Rule: "a Semaphore or BoundedSemaphore with a negative value is refused: every op on it fails with ValueError",
		Source: "CPython docs: multiprocessing.Semaphore ('a close analog of threading.Semaphore'), " +
			"threading.Semaphore ('If the value given is less than zero, ValueError is raised')",
	})
)

var _ = Describe("semaphore", func() {
	suite.Spec(semaphoreBound, "five processes share a Semaphore(2)", func() {
		t := suite.Run(New("semaphore/bound").
			Resource("S", "semaphore", "value", 2).
			Program("hold", []string{"s"}, On("acquire", "S"), Sleep(200), On("release", "S")).
			Main(Repeat(5, "", Spawn("w", "hold", Ref("S"))), Start("w"), Join("w")))
		held := check.Held(t, "S")
		Expect(held).To(HaveLen(5))
		Expect(check.AtMost(held, 2)).To(Succeed())
		Expect(check.Disjoint(held)).NotTo(Succeed(), "a Semaphore(2) admits two at once")
	})

	suite.Spec(boundedOverRelease, "BoundedSemaphore(1).release() is a ValueError; Semaphore(1) goes to 2", func() {
		t := suite.Run(New("semaphore/bounded-over-release").
			Resource("B", "bounded_semaphore", "value", 1).
			Resource("S", "semaphore", "value", 1).
			Main(
				On("release", "B"),
				On("release", "S"),
				On("acquire", "S", "block", false), On("acquire", "S", "block", false), On("acquire", "S", "block", false),
			))
		m := suite.Main(t)
		Expect(kinds(t.Done(m.Pid, "release"))).To(Equal([]string{"ValueError", ""}))
		Expect(t.Values(m.Pid, "acquire")).To(Equal([]any{true, true, false}), "the plain semaphore's value rose to 2")
	})

	suite.Spec(semaphoreValue, "Semaphore(2) and BoundedSemaphore(2) through two acquires, a failed one and releases", func() {
		track := func(s string) []Step {
			return []Step{
				On("get_value", s),
				On("acquire", s), On("get_value", s),
				On("acquire", s), On("get_value", s),
				On("acquire", s, "block", false), On("get_value", s),
				On("release", s), On("get_value", s),
				On("release", s), On("get_value", s),
			}
		}
		t := suite.Run(New("semaphore/get-value").
			Resource("S", "semaphore", "value", 2).
			Resource("B", "bounded_semaphore", "value", 2).
			Main(append(append(track("S"), On("release", "S"), On("get_value", "S")), track("B")...)...))
		var s, b []any
		for _, r := range t.Done(suite.Main(t).Pid, "get_value") {
			Expect(r.OK).To(BeTrue(), "%s", r)
			if r.In["on"] == "S" {
				s = append(s, r.Value)
			} else {
				b = append(b, r.Value)
			}
		}
		iv := trace.IntValue
		Expect(s).To(Equal([]any{iv(2), iv(1), iv(0), iv(0), iv(1), iv(2), iv(3)}), "the Semaphore's values")
		Expect(b).To(Equal([]any{iv(2), iv(1), iv(0), iv(0), iv(1), iv(2)}), "the BoundedSemaphore's values")
	})

	suite.Spec(semaphoreFails, "Semaphore(0): non-blocking, non-blocking with a long timeout, zero and timed acquires", func() {
		t := suite.Run(New("semaphore/acquire-fails").
			Resource("S", "semaphore", "value", 0).
			Main(
				On("acquire", "S", "block", false),
				On("acquire", "S", "block", false, "timeout", 10_000),
				On("acquire", "S", "timeout", 0),
				On("acquire", "S", "block", true, "timeout", 300),
				On("acquire", "S", "timeout", 300),
			))
		acq := t.Done(suite.Main(t).Pid, "acquire")
		Expect(acq).To(HaveLen(5))
		for _, a := range acq {
			Expect(a.Value).To(Equal(false), "%s", a)
		}
		Expect(acq[1].T1-acq[1].T0).To(BeNumerically("<", suite.Scale(10_000).Nanoseconds()),
			"a non-blocking acquire waited for its timeout: %s", acq[1])
		lastedAtLeast(acq[3], suite.Scale(300).Nanoseconds())
		lastedAtLeast(acq[4], suite.Scale(300).Nanoseconds())
	})

	suite.Spec(semaphoreNegative, "Semaphore(-1) and BoundedSemaphore(-1): acquire, release and get_value", func() {
		t := suite.Run(New("semaphore/negative-refused").
			Resource("S", "semaphore", "value", -1).
			Resource("B", "bounded_semaphore", "value", -1).
			Main(
				On("acquire", "S", "block", false), On("release", "S"), On("get_value", "S"),
				On("acquire", "B", "block", false), On("release", "B"),
			))
		m := suite.Main(t)
		Expect(kinds(t.Done(m.Pid, "acquire"))).To(Equal([]string{"ValueError", "ValueError"}))
		Expect(kinds(t.Done(m.Pid, "release"))).To(Equal([]string{"ValueError", "ValueError"}))
		Expect(kinds(t.Done(m.Pid, "get_value"))).To(Equal([]string{"ValueError"}))
	})
})
