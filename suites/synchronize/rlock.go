package synchronize

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var rlockOverRelease = catalogue.Add(catalogue.Behaviour{
	ID: "rlock.over-release", Profile: catalogue.Extended, Features: []string{"control", "rlock"},
	Rule: "releasing an RLock that its caller does not hold (never acquired, or released as often as acquired) fails with NotAllowed",
	Source: "CPython docs: RLock.release ('raises an AssertionError ... when invoked on an unlocked lock'); " +
		"test_multiprocessing: _TestLock.test_rlock",
	CPythonTests: []string{"_TestLock.test_rlock"},
})

var _ = Describe("rlock", func() {
	suite.Spec(rlockOverRelease, "release before any acquire, then three acquires and four releases", func() {
		t := suite.Run(New("rlock/over-release").
			Resource("R", "rlock").
			Main(
				On("release", "R"),
				Repeat(3, "", On("acquire", "R")),
				Repeat(4, "", On("release", "R")),
			))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "acquire")).To(Equal([]any{true, true, true}), "an RLock's owner acquires it again")
		Expect(kinds(t.Done(m.Pid, "release"))).To(Equal([]string{"NotAllowed", "", "", "", "NotAllowed"}))
	})
})
