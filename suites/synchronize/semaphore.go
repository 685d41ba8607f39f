package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	. "github.com/mpconform/mpconform/harness/scenario"
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
})
