package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// A type registered without exposed, as _test_multiprocessing.py's FooBar
// on MyManager: its public methods are exposed, and what they raise comes
// back to the caller.
var registeredDefault = catalogue.Add(catalogue.Behaviour{
	ID: "manager.register-default-exposed", Profile: catalogue.Extended,
	Features: []string{"process", "manager", "manager.register"},
	Rule: "a type registered without exposed serves its public methods, f and g, to main and to a child, not _h " +
		"(NotAllowed); the ValueError g raises reaches the caller, and the object goes on serving",
	Source: "CPython docs: BaseManager.register ('If exposed is None then proxytype._exposed_ is used instead if " +
		"it exists', public methods otherwise), 'Proxy objects' (an exception in the referent is re-raised by " +
		"_callmethod); CPython test: _test_multiprocessing.py _TestMyManager",
	CPythonTests: []string{"_TestMyManager.test_mymanager", "_TestMyManager.test_mymanager_context",
		"_TestMyManager.test_mymanager_context_prestarted"},
})

var _ = Describe("manager register", func() {
	suite.Spec(registeredDefault, "main and a child call f, g and _h on a FooBar served by a manager", func() {
		calls := []Step{
			On("custom.call", "foo", "method", "f"), On("custom.call", "foo", "method", "g"),
			On("custom.call", "foo", "method", "_h"), On("custom.call", "foo", "method", "f"),
		}
		t := suite.Run(New("manager/register-default-exposed").
			Resource("m", "manager").
			Resource("foo", "manager.custom", "manager", "m", "typeid", "foobar").
			Program("call", []string{"foo"}, calls...).
			Main(append([]Step{Spawn("c", "call", Ref("foo")), Start("c"), Join("c")}, calls...)...))
		for _, pid := range []int{suite.Main(t).Pid, suite.Program(t, "call").Pid} {
			rs := t.Done(pid, "custom.call")
			Expect(kindsOf(rs)).To(Equal([]string{"", "ValueError", "NotAllowed", ""}), "f, g, _h, f")
			Expect(rs[0].Value).To(Equal("f()"), "%s", rs[0])
			Expect(rs[3].Value).To(Equal("f()"), "%s", rs[3])
		}
	})
})
