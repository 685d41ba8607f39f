// Package daemon holds the specs for daemonic processes: killed when main ends,
// the flag's rules, and no children (docs/behaviours.md, area "daemon").
package daemon

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	killedAtExit = catalogue.Add(catalogue.Behaviour{
		ID: "daemon.killed-at-exit", Profile: catalogue.Core, Features: []string{"control", "process", "daemon", "event"},
		Rule:   "daemonic children that outlive main are terminated: they record nothing after main ends and no process is left",
		Source: "tutorial, program 6 (daemon); CPython docs: Process.daemon",
	})
	flagAfterStart = catalogue.Add(catalogue.Behaviour{
		ID: "daemon.flag-after-start", Profile: catalogue.Extended, Features: []string{"control", "process", "daemon"},
		Rule:   "setting the daemon flag of a started process fails with NotAllowed",
		Source: "CPython: BaseProcess.daemon setter asserts 'process has already started'",
	})
	noChildren = catalogue.Add(catalogue.Behaviour{
		ID: "daemon.no-children", Profile: catalogue.Extended, Features: []string{"control", "process", "daemon"},
		Rule:   "a daemonic process may not start children: start fails with NotAllowed",
		Source: "CPython docs: Process.daemon ('a daemonic process is not allowed to create child processes')",
	})
)

var _ = Describe("daemon", func() {
	suite.Spec(killedAtExit, "main ends while its daemon sleeps: the daemon stops there, main's end comes last", func() {
		// Main ends once the daemon has begun (it sets "begun"), however
		// long a loaded machine takes to start it.
		t := suite.Run(New("daemon/killed-at-exit").Resource("begun", "event").
			Program("daemon", []string{"e"}, Emit("begin"), On("set", "begun"), Sleep(3000), Emit("after")).
			Program("worker", nil, Sleep(300), Emit("worker done")).
			Main(
				Spawn("d", "daemon", Ref("begun")).With("daemon", true),
				Spawn("w", "worker"),
				Start("d"), Start("w"),
				On("wait", "begun"),
				Sleep(300),
			))
		m := suite.Main(t)
		d := suite.Program(t, "daemon")
		Expect(d.Daemon).To(BeTrue(), "the daemon knows it is daemonic")
		Expect(m.End).NotTo(BeNil(), "main wrote process.end")
		Expect(d.End).To(BeNil(), "the daemon was terminated, so it never ended its program")
		for _, r := range t.Of(d.Pid) {
			Expect(r.T0).To(BeNumerically("<", m.End.T0), "daemon recorded after main ended: %s", r)
			Expect(r.Value).NotTo(Equal("after"), "the daemon ran past its sleep")
		}
		Expect(t.Values(suite.Program(t, "worker").Pid, "emit")).To(Equal([]any{"worker done"}), "a non-daemon sibling still completes")
	})

	suite.Spec(flagAfterStart, "set_daemon after start fails; before start it works", func() {
		t := suite.Run(New("daemon/flag-after-start").
			Program("nap", nil, Sleep(200)).
			Main(
				Spawn("c", "nap"),
				SetDaemon("c", true),
				Start("c"),
				SetDaemon("c", false),
				Join("c"),
			))
		m := suite.Main(t)
		var sets []trace.Record
		for _, r := range t.Of(m.Pid) {
			if r.Op == "set_daemon" {
				sets = append(sets, r)
			}
		}
		Expect(sets).To(HaveLen(2))
		Expect(sets[0].OK).To(BeTrue(), "before start")
		Expect(sets[1].Kind()).To(Equal("NotAllowed"), "after start")
		Expect(suite.Program(t, "nap").Daemon).To(BeTrue(), "the flag set before start holds")
	})

	suite.Spec(noChildren, "a daemon's start of a child fails with NotAllowed", func() {
		t := suite.Run(New("daemon/no-children").
			Program("leaf", nil, Emit("leaf ran")).
			Program("daemon", nil, Spawn("g", "leaf"), Start("g")).
			Main(Spawn("d", "daemon").With("daemon", true), Start("d"), Join("d")))
		d := suite.Program(t, "daemon")
		starts := t.Done(d.Pid, "start")
		Expect(starts).To(HaveLen(1), "the daemon tried to start a child")
		Expect(starts[0].Kind()).To(Equal("NotAllowed"))
		for _, p := range t.Processes() {
			Expect(p.Program).NotTo(Equal("leaf"), "the daemon's child ran")
		}
	})
})
