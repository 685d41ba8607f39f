package manager

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// A manager restarted on the address of one just shut down, as
// _TestManagerRestart does: the address is free again at once (for TCP,
// SO_REUSEADDR; for a unix socket, its file or abstract name is gone).
var restarted = catalogue.Add(catalogue.Behaviour{
	ID: "manager.restart", Profile: catalogue.Extended, Features: []string{"process", "event", "manager", "manager.remote"},
	Rule: "a manager served on a unix or TCP address starts again on that address as soon as it is shut down, twice " +
		"over, with its authkey: a child that had the address before connects with the key and not without, and so does " +
		"a child started after; the old manager's proxies are Closed",
	Source: "CPython docs: BaseManager(address, authkey), start, shutdown; CPython test: _test_multiprocessing.py " +
		"_TestManagerRestart.test_rapid_restart",
	CPythonTests: []string{"_TestManagerRestart.test_rapid_restart"},
})

var _ = Describe("manager restart", func() {
	for _, serve := range []string{"unix", "tcp"} {
		suite.Spec(restarted, "served on "+serve+": restarted twice, then a child connects", func() {
			t := suite.Run(New("manager/restart-"+serve).
				Resource("m", "manager", "serve", serve, "authkey", "s3cret").
				Resource("d", "manager.dict", "manager", "m").
				Resource("e", "event").
				Program("early", []string{"m", "e"},
					On("wait", "e"),
					On("manager.connect", "m", "authkey", "s3cret", "as", "conn"),
					On("manager.connect", "m", "authkey", "guess", "as", "bad")).
				Program("client", []string{"m"},
					On("manager.connect", "m", "authkey", "s3cret", "as", "conn"),
					On("manager.connect", "m", "authkey", "guess", "as", "bad")).
				Main(
					On("dict.set", "d", "key", "k", "value", 1),
					Spawn("a", "early", Ref("m"), Ref("e")), Start("a"),
					On("manager.restart", "m"), On("manager.restart", "m"),
					On("set", "e"), Join("a"),
					On("dict.get", "d", "key", "k"),
					Spawn("c", "client", Ref("m")), Start("c"), Join("c"),
					On("manager.connect", "m", "as", "mine"),
				))
			m, a, c := suite.Main(t).Pid, suite.Program(t, "early").Pid, suite.Program(t, "client").Pid
			Expect(kindsOf(t.Done(a, "manager.connect"))).To(Equal([]string{"", "AuthError"}),
				"the old address is served again, with the old key")
			Expect(kindsOf(t.Done(m, "manager.restart"))).To(Equal([]string{"", ""}), "the address is free at once")
			Expect(kindsOf(t.Done(m, "dict.get"))).To(Equal([]string{"Closed"}), "a proxy of the old manager")
			Expect(kindsOf(t.Done(c, "manager.connect"))).To(Equal([]string{"", "AuthError"}),
				"the new manager serves the address with the old key")
			Expect(kindsOf(t.Done(m, "manager.connect"))).To(Equal([]string{""}))
		})
	}
})
