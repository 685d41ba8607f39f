// Package connection holds the specs for multiprocessing.connection: Pipe
// connections between processes, with exact delivery, end of file and direction
// (docs/behaviours.md, area "pipe").
package connection

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	roundtrip = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.roundtrip", Profile: catalogue.Core, Features: []string{"process", "pipe"},
		Rule:         "child sends, parent receives and replies, child receives: exact payloads, UTF-8 included",
		Source:       "tutorial, program 5 (Pipe: '爸爸你好!' and the reply)",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	eof = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.eof", Profile: catalogue.Extended, Features: []string{"process", "pipe"},
		Rule:         "recv fails with EOF once every copy of the other end is closed and the messages sent before are drained",
		Source:       "CPython docs: Connection.recv ('Raises EOFError if there is nothing left to receive and the other end was closed')",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	direction = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.direction", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:         "on a simplex Pipe(False), sending on the receiving end fails with NotAllowed, and the other way round",
		Source:       "CPython docs: Pipe(duplex=False) ('conn1 can only be used for receiving messages and conn2 only for sending')",
		CPythonTests: []string{"_TestConnection.test_duplex_false"},
	})
	poll = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.poll", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:         "poll says whether a message is waiting without taking it; poll(timeout) on an empty end waits the timeout, then says false",
		Source:       "CPython docs: Connection.poll",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	large = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.large-message", Profile: catalogue.Extended, Features: []string{"control", "process", "pipe"},
		Rule:         "send_bytes of 64 KiB, 1 MiB and 32 MiB reach another process whole: lengths and SHA-256 match",
		Source:       "CPython docs: Connection.send_bytes, recv_bytes; test_multiprocessing: test_connection (really big messages)",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	manyInOrder = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.many-in-order", Profile: catalogue.Extended, Features: []string{"process", "pipe", "bulk"},
		Rule:   "100 000 small messages sent by one process arrive, each once, in the order sent",
		Source: "CPython docs: Pipe ('a pair of connection objects connected by a pipe')",
	})
)

// blobDigest is the trace's digest of a {"blob": n} value (protocol.md §4).
func blobDigest(n int) any {
	h := sha256.New()
	buf := make([]byte, 251*4096)
	for i := range buf {
		buf[i] = byte(i % 251)
	}
	for left := n; left > 0; left -= len(buf) {
		h.Write(buf[:min(left, len(buf))])
	}
	return map[string]any{"digest": map[string]any{"len": trace.IntValue(n), "sha256": hex.EncodeToString(h.Sum(nil))}}
}

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

	suite.Spec(poll, "poll, poll(300ms), send, poll twice, recv, poll", func() {
		t := suite.Run(New("pipe/poll").
			Resource("p", "pipe").
			Main(
				On("poll", "p.0"), On("poll", "p.0", "timeout", 300),
				On("send", "p.1", "value", "x"),
				On("poll", "p.0"), On("poll", "p.0", "timeout", 300),
				On("recv", "p.0"), On("poll", "p.0"),
			))
		m := suite.Main(t).Pid
		polls := t.Done(m, "poll")
		Expect(t.Values(m, "poll")).To(Equal([]any{false, false, true, true, false}))
		Expect(polls[1].T1-polls[1].T0).To(BeNumerically(">=", suite.Scale(300).Nanoseconds()-int64(1e6)), "poll(timeout) returned before its timeout")
		Expect(t.Values(m, "recv")).To(Equal([]any{"x"}), "poll left the message for recv")
	})

	suite.Spec(large, "a child receives 64 KiB, 1 MiB and 32 MiB", func() {
		sizes := []int{64 << 10, 1 << 20, 32 << 20}
		var sends []Step
		for _, n := range sizes {
			sends = append(sends, On("send_bytes", "p.0", "value", Blob(n)))
		}
		t := suite.Run(New("pipe/large-message").
			Resource("p", "pipe").
			Program("child", []string{"conn"}, Repeat(len(sizes), "", On("recv_bytes", "p.1"))).
			Main(append([]Step{Spawn("c", "child", Ref("p.1")), Start("c")}, append(sends, Join("c"))...)...))
		got := t.Done(suite.Program(t, "child").Pid, "recv_bytes")
		Expect(got).To(HaveLen(len(sizes)))
		for i, n := range sizes {
			Expect(got[i].OK).To(BeTrue(), "%s", got[i])
			Expect(got[i].Value).To(Equal(blobDigest(n)), "message %d of %d bytes", i, n)
		}
	})

	suite.Spec(manyInOrder, "a child sends 0..99 999; main receives them all, in order", func() {
		const n = 100_000
		t := suite.Run(New("pipe/many-in-order").
			Resource("p", "pipe").
			Program("child", []string{"conn"}, On("send_many", "p.1", "n", n)).
			Main(Spawn("c", "child", Ref("p.1")), Start("c"), On("recv_many", "p.0", "n", n, "collect", true), Join("c")))
		v := t.Values(suite.Main(t).Pid, "recv_many")
		Expect(v).To(HaveLen(1))
		list, _ := trace.Lookup(v[0], "items").([]any)
		Expect(list).To(HaveLen(n))
		for k, x := range list {
			if got, _ := trace.Int(x); got != int64(k) {
				Fail(fmt.Sprintf("message %d is %v", k, x))
			}
		}
	})
})
