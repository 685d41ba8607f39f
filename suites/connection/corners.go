package connection

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The corners of a Pipe's connections that CPython's docs and tests check:
// a closed end, a copy closed in the parent after a child got it, empty
// messages, message boundaries, and the directions of a simplex pipe.

var (
	closedEnd = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.closed", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule: "after close, send, recv, send_bytes, recv_bytes and poll on that end fail with Closed and a second close does nothing; " +
			"the other end then gets EOF from recv and Closed from send",
		Source: "CPython docs: Connection.close; Lib/multiprocessing/connection.py _check_closed (OSError 'handle is closed'); " +
			"test_multiprocessing: _TestConnection.test_context (recv on a closed connection raises OSError)",
	})
	spawnClose = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.spawn-close", Profile: catalogue.Extended, Features: []string{"process", "pipe"},
		Rule:         "main may close its copy of an end right after starting the child it gave that end to: the child's copy still works",
		Source:       "test_multiprocessing: _TestConnection.test_spawn_close ('a pipe connection can be closed by parent process immediately after child is spawned')",
		CPythonTests: []string{"_TestConnection.test_spawn_close"},
	})
	emptyMessage = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.empty-message", Profile: catalogue.Extended, Features: []string{"control", "process", "pipe"},
		Rule:         "an empty message is a message: poll says true for it (and again), recv_bytes returns b''; empty and other strings from a child arrive exact, in order",
		Source:       "CPython docs: Connection.poll, send_bytes; test_multiprocessing: _TestPoll.test_empty_string, test_strings",
		CPythonTests: []string{"_TestPoll.test_empty_string", "_TestPoll.test_strings"},
	})
	boundaries = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.boundaries", Profile: catalogue.Extended, Features: []string{"control", "process", "pipe"},
		Rule: "messages keep their boundaries: three send_bytes are three recv_bytes, never merged, poll between them says true; " +
			"a poll in another process leaves the next message whole",
		Source:       "CPython docs: Connection.send_bytes ('Send byte data ... as a complete message'); test_multiprocessing: _TestPoll.test_dont_merge, test_boundaries",
		CPythonTests: []string{"_TestPoll.test_dont_merge", "_TestPoll.test_boundaries"},
	})
	directionBytes = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.direction-bytes", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:         "on a simplex Pipe(False), send_bytes on the receiving end and recv_bytes and poll on the sending end fail with NotAllowed",
		Source:       "CPython docs: Pipe(duplex=False); test_multiprocessing: _TestConnection.test_duplex_false (writer.poll raises OSError)",
		CPythonTests: []string{"_TestConnection.test_duplex_false"},
	})
	withEnds = catalogue.Add(catalogue.Behaviour{
		ID: "pipe.with", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:         "an end used as a context manager works inside the block and is closed at its end: then recv on it fails with Closed",
		Source:       "CPython docs: Connection ('Connection objects now support the context management protocol ... __exit__() calls close()'); test_multiprocessing: _TestConnection.test_context",
		CPythonTests: []string{"_TestConnection.test_context"},
	})
)

var _ = Describe("pipe corners", func() {
	suite.Spec(closedEnd, "close p.0, use it, close it again; then recv and send on p.1", func() {
		t := suite.Run(New("pipe/closed").
			Resource("p", "pipe").
			Main(
				On("close", "p.0"),
				On("send", "p.0", "value", 1), On("recv", "p.0"),
				On("send_bytes", "p.0", "value", bytesValue("x")), On("recv_bytes", "p.0"),
				On("poll", "p.0"),
				On("close", "p.0"),
				On("recv", "p.1"), On("send", "p.1", "value", 2),
			))
		m := suite.Main(t).Pid
		var got []string
		for _, r := range t.Of(m) {
			if !r.Pending && r.Op != "process.begin" && r.Op != "process.end" {
				got = append(got, r.Op+" "+r.In["on"].(string)+":"+r.Kind())
			}
		}
		Expect(got).To(Equal([]string{
			"close p.0:",
			"send p.0:Closed", "recv p.0:Closed", "send_bytes p.0:Closed", "recv_bytes p.0:Closed", "poll p.0:Closed",
			"close p.0:",
			"recv p.1:EOF", "send p.1:Closed",
		}))
	})

	suite.Spec(spawnClose, "a child echoes on p.1; main closes its p.1 right after start, then sends and receives", func() {
		t := suite.Run(New("pipe/spawn-close").
			Resource("p", "pipe").
			Program("echo", []string{"conn"}, On("recv_bytes", "p.1"), On("send_bytes", "p.1", "value", bytesValue("echo"))).
			Main(
				Spawn("c", "echo", Ref("p.1")), Start("c"), On("close", "p.1"),
				On("send_bytes", "p.0", "value", bytesValue("hello")), On("recv_bytes", "p.0"),
				Join("c"),
			))
		m, c := suite.Main(t).Pid, suite.Program(t, "echo").Pid
		Expect(kinds(t.Done(m, "close"))).To(Equal([]string{""}))
		Expect(t.Values(c, "recv_bytes")).To(Equal([]any{bytesValue("hello")}), "the child's copy received")
		Expect(t.Values(m, "recv_bytes")).To(Equal([]any{bytesValue("echo")}), "the child's copy sent")
	})

	suite.Spec(emptyMessage, "poll, b'', poll twice, recv_bytes, poll; then a child's eight strings", func() {
		strs := []string{"hello", "", "a", "b", "", "bye", "", "lop"}
		var steps []Step
		var want []any
		for _, s := range strs {
			steps = append(steps, Sleep(20), On("send_bytes", "q.1", "value", bytesValue(s)))
			want = append(want, bytesValue(s))
		}
		t := suite.Run(New("pipe/empty-message").
			Resource("p", "pipe").Resource("q", "pipe").
			Program("strings", []string{"conn"}, append(steps, On("close", "q.1"))...).
			Main(
				On("poll", "p.0"), On("send_bytes", "p.1", "value", bytesValue("")),
				On("poll", "p.0"), On("poll", "p.0"), On("recv_bytes", "p.0"), On("poll", "p.0"),
				Spawn("c", "strings", Ref("q.1")), Start("c"),
				Repeat(len(strs), "", On("recv_bytes", "q.0")),
				Join("c"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "poll")).To(Equal([]any{false, true, true, false}), "poll around an empty message")
		Expect(t.Values(m, "recv_bytes")).To(Equal(append([]any{bytesValue("")}, want...)), "the empty message, then the child's strings")
	})

	suite.Spec(boundaries, "a child sends a, b, cd: three messages; a child polls while main sends two", func() {
		t := suite.Run(New("pipe/boundaries").
			Resource("p", "pipe").
			Resource("s", "pipe", "duplex", false).
			Program("send", []string{"conn"},
				On("send_bytes", "p.1", "value", bytesValue("a")),
				On("send_bytes", "p.1", "value", bytesValue("b")),
				On("send_bytes", "p.1", "value", bytesValue("cd"))).
			Program("peek", []string{"r"}, On("poll", "s.0", "timeout", 10_000)).
			Main(
				On("poll", "p.0"), On("poll", "p.0", "timeout", 100),
				Spawn("c", "send", Ref("p.1")), Start("c"),
				On("recv_bytes", "p.0"),
				On("poll", "p.0", "timeout", 10_000), On("poll", "p.0", "timeout", 10_000),
				On("recv_bytes", "p.0"),
				On("poll", "p.0", "timeout", 10_000), On("poll", "p.0", "timeout", 10_000), On("poll", "p.0"),
				On("recv_bytes", "p.0"),
				Join("c"),
				Spawn("k", "peek", Ref("s.0")), Start("k"), Sleep(300),
				On("send_bytes", "s.1", "value", bytesValue("first")), On("send_bytes", "s.1", "value", bytesValue("second")),
				On("close", "s.1"), Join("k"),
				On("recv_bytes", "s.0"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "poll")).To(Equal([]any{false, false, true, true, true, true, true}))
		got := t.Values(m, "recv_bytes")
		Expect(got).To(HaveLen(4))
		Expect(got[:3]).To(Equal([]any{bytesValue("a"), bytesValue("b"), bytesValue("cd")}), "three messages, not merged")
		Expect(got[3]).To(BeElementOf(bytesValue("first"), bytesValue("second")), "a whole message after another process's poll")
		Expect(t.Values(suite.Program(t, "peek").Pid, "poll")).To(Equal([]any{true}))
	})

	suite.Spec(directionBytes, "Pipe(False): send_bytes on .0, recv_bytes and poll on .1", func() {
		t := suite.Run(New("pipe/direction-bytes").
			Resource("p", "pipe", "duplex", false).
			Main(
				On("send_bytes", "p.0", "value", bytesValue("x")),
				On("recv_bytes", "p.1"),
				On("poll", "p.1"),
				On("send_bytes", "p.1", "value", bytesValue("y")),
				On("poll", "p.0"),
				On("recv_bytes", "p.0"),
			))
		m := suite.Main(t).Pid
		Expect(kinds(t.Done(m, "send_bytes"))).To(Equal([]string{"NotAllowed", ""}))
		Expect(kinds(t.Done(m, "recv_bytes"))).To(Equal([]string{"NotAllowed", ""}))
		Expect(kinds(t.Done(m, "poll"))).To(Equal([]string{"NotAllowed", ""}))
		Expect(t.Done(m, "recv_bytes")[1].Value).To(Equal(bytesValue("y")))
	})

	suite.Spec(withEnds, "with a, b: a message; after the block, recv on each", func() {
		t := suite.Run(New("pipe/with").
			Resource("p", "pipe").
			Main(
				On("connection.with", "p.0", "body", []Step{On("connection.with", "p.1", "body", []Step{
					On("send", "p.0", "value", 1729), On("recv", "p.1"),
				})}),
				On("recv", "p.0"), On("recv", "p.1"),
			))
		m := suite.Main(t).Pid
		recvs := t.Done(m, "recv")
		Expect(recvs).To(HaveLen(3))
		Expect(recvs[0].Value).To(Equal(trace.IntValue(1729)), "inside the block: %s", recvs[0])
		Expect(kinds(recvs[1:])).To(Equal([]string{"Closed", "Closed"}), "both ends closed at the block's end")
	})
})
