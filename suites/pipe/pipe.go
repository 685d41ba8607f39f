// Package pipe holds the specs for Pipe connections between processes: exact
// delivery, end of file and direction (docs/behaviours.md, area "pipe").
package pipe

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	roundtrip = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.roundtrip", Profile: catalogue.Core, Features: []string{"process", "pipe"},
		Rule:   "child sends, parent receives and replies, child receives: exact payloads, UTF-8 included",
		Source: "tutorial, program 5 (Pipe: '爸爸你好!' and the reply)",
	})
	eof = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.eof", Profile: catalogue.Extended, Features: []string{"process", "pipe"},
		Rule:   "recv fails with EOF once every copy of the other end is closed and the messages sent before are drained",
		Source: "CPython docs: Connection.recv ('Raises EOFError if there is nothing left to receive and the other end was closed')",
	})
	direction = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.direction", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:   "on a simplex Pipe(False), sending on the receiving end fails with NotAllowed, and the other way round",
		Source: "CPython docs: Pipe(duplex=False) ('conn1 can only be used for receiving messages and conn2 only for sending')",
	})
)

var _ = Describe("pipe", func() {
	suite.Spec(roundtrip, "the tutorial's dialogue", func() {
		hello := "爸爸你好!"
		reply := []any{"儿子", 1, 0.25, nil, Dict([2]any{6, "1"})}
		t := suite.Run(New("pipe/roundtrip").
			Resource("p", "pipe").
			Program("child", []string{"conn"},
				On("send", "p.1", "value", hello),
				On("recv", "p.1")).
			Main(
				Spawn("c", "child", Ref("p.1")), Start("c"),
				On("recv", "p.0"),
				On("send", "p.0", "value", reply),
				Join("c"),
			))
		m, c := suite.Main(t), suite.Program(t, "child")
		Expect(t.Values(m.Pid, "recv")).To(Equal([]any{hello}), "what the parent received")
		got := t.Values(c.Pid, "recv")
		Expect(got).To(HaveLen(1))
		sent := t.Done(m.Pid, "send")
		Expect(sent).To(HaveLen(1))
		Expect(got[0]).To(Equal(sent[0].In["value"]), "the child received exactly what was sent, types kept")
	})

	suite.Spec(eof, "two messages, then EOF after the child closes its end and the parent closes its copy", func() {
		t := suite.Run(New("pipe/eof").
			Resource("p", "pipe").
			Program("child", []string{"conn"},
				On("send", "p.1", "value", "a"), On("send", "p.1", "value", ""), On("close", "p.1")).
			Main(
				Spawn("c", "child", Ref("p.1")), Start("c"), Join("c"),
				On("close", "p.1"),
				On("recv", "p.0"), On("recv", "p.0"), On("recv", "p.0"),
			))
		recvs := t.Done(suite.Main(t).Pid, "recv")
		Expect(recvs).To(HaveLen(3))
		Expect([]any{recvs[0].Value, recvs[1].Value}).To(Equal([]any{"a", ""}), "both messages, the empty one included")
		Expect(recvs[2].Kind()).To(Equal("EOF"))
	})

	suite.Spec(direction, "Pipe(False): .0 receives, .1 sends", func() {
		t := suite.Run(New("pipe/direction").
			Resource("p", "pipe", "duplex", false).
			Main(
				On("send", "p.0", "value", 1),
				On("send", "p.1", "value", 2),
				On("recv", "p.1"),
				On("recv", "p.0"),
			))
		m := suite.Main(t).Pid
		sends, recvs := t.Done(m, "send"), t.Done(m, "recv")
		Expect([]string{sends[0].Kind(), sends[1].Kind()}).To(Equal([]string{"NotAllowed", ""}))
		Expect(recvs[0].Kind()).To(Equal("NotAllowed"))
		Expect(recvs[1].Kind()).To(Equal(""))
	})
})
