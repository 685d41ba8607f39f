package connection

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// The corners of Listener, Client and wait that CPython's tests check: an
// accept after the client is gone, a poll on a client's connection, wait at
// the end of file and with a timeout of 0.

var (
	acceptAfterClose = catalogue.Add(catalogue.Behaviour{
		ID: "connection.accept-after-close", Profile: catalogue.Extended, Features: []string{"process", "pipe", "connection"},
		Rule:         "a connection accepted after its client sent a message, closed and exited still delivers that message, then EOF (unix, abstract, tcp)",
		Source:       "test_multiprocessing: _TestListenerClient.test_issue14725; CPython docs: Connection.recv ('Raises EOFError if there is nothing left to receive and the other end was closed')",
		CPythonTests: []string{"_TestListenerClient.test_issue14725"},
	})
	clientPoll = catalogue.Add(catalogue.Behaviour{
		ID: "connection.client-poll", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
		Rule:         "poll(timeout) on a Client's connection says true once the accepted side has sent bytes (unix, abstract, tcp)",
		Source:       "test_multiprocessing: _TestListenerClient.test_issue16955; CPython docs: Connection.poll",
		CPythonTests: []string{"_TestListenerClient.test_issue16955"},
	})
	waitEOF = catalogue.Add(catalogue.Behaviour{
		ID: "connection.wait-eof", Profile: catalogue.Extended, Features: []string{"control", "process", "pipe", "connection"},
		Rule:         "wait counts an end at its end of file as ready: children's simplex pipes are ready with each message and still ready once drained, when recv fails with EOF",
		Source:       "CPython docs: multiprocessing.connection.wait (the example loop: 'except EOFError'); test_multiprocessing: TestWait.test_wait",
		CPythonTests: []string{"TestWait.test_wait", "TestWait.test_wait_slow"},
	})
	waitZero = catalogue.Add(catalogue.Behaviour{
		ID: "connection.wait-zero", Profile: catalogue.Extended, Features: []string{"process", "pipe", "connection", "event"},
		Rule:         "wait with a timeout of 0 over ready and not ready objects (pipe ends, a process's sentinel) returns the ready ones, without waiting for the rest",
		Source:       "CPython docs: multiprocessing.connection.wait ('Wait till an object in object_list is ready. Returns the list of those objects in object_list which are ready ... A negative timeout is equivalent to a zero timeout'); test_multiprocessing: TestWait.test_wait_integer",
		CPythonTests: []string{"TestWait.test_wait_integer", "TestWait.test_neg_timeout"},
	})
)

var _ = Describe("connection corners", func() {
	suite.Spec(acceptAfterClose, "for each family: a child connects, sends, closes and ends; then main accepts and receives twice", func() {
		for _, fam := range families {
			t := suite.Run(New("connection/accept-after-close-"+fam).
				Resource("L", "listener", "family", fam).
				Program("hello", []string{"l"},
					On("connection.client", "L", "as", "c"), On("send", "c", "value", "hello"), On("close", "c")).
				Main(
					Spawn("p", "hello", Ref("L")), Start("p"), Join("p"),
					On("listener.accept", "L", "as", "a"),
					On("recv", "a"), On("recv", "a"),
				))
			m := suite.Main(t).Pid
			Expect(kinds(t.Done(suite.Program(t, "hello").Pid, "send"))).To(Equal([]string{""}), fam)
			recvs := t.Done(m, "recv")
			Expect(recvs).To(HaveLen(2), fam)
			Expect(recvs[0].Value).To(Equal("hello"), "%s: %s", fam, recvs[0])
			Expect(recvs[1].Kind()).To(Equal("EOF"), "%s: %s", fam, recvs[1])
		}
	})

	suite.Spec(clientPoll, "for each family: client, accept, the accepted side sends; the client polls", func() {
		s := New("connection/client-poll")
		var steps []Step
		for _, fam := range families {
			s.Resource(fam, "listener", "family", fam)
			c, a := "c-"+fam, "a-"+fam
			steps = append(steps,
				On("connection.client", fam, "as", c), On("listener.accept", fam, "as", a),
				On("poll", c),
				On("send_bytes", a, "value", bytesValue("hello")),
				On("poll", c, "timeout", 10_000),
				On("recv_bytes", c),
				On("close", a), On("close", c))
		}
		t := suite.Run(s.Main(steps...))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "poll")).To(Equal([]any{false, true, false, true, false, true}), "unix, abstract, tcp: before and after the send")
		Expect(t.Values(m, "recv_bytes")).To(Equal([]any{bytesValue("hello"), bytesValue("hello"), bytesValue("hello")}))
	})

	// Main closes its copies of the sending ends, so that each child's exit
	// is the end of its pipe.
	suite.Spec(waitEOF, "two children send 3 messages each on their own Pipe(False); main waits and receives to EOF", func() {
		t := suite.Run(New("connection/wait-eof").
			Resource("p", "pipe", "duplex", false).Resource("q", "pipe", "duplex", false).
			Program("p3", []string{"w"}, Repeat(3, "k", On("send", "p.1", "value", Param("k")))).
			Program("q3", []string{"w"}, Repeat(3, "k", On("send", "q.1", "value", Param("k")))).
			Main(
				Spawn("c", "p3", Ref("p.1")), Spawn("c", "q3", Ref("q.1")), Start("c"),
				On("close", "p.1"), On("close", "q.1"),
				Join("c"),
				Repeat(3, "",
					Op("connection.wait", "conns", []any{"p.0", "q.0"}, "timeout", 10_000),
					On("recv", "p.0"), On("recv", "q.0")),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "timeout", 10_000),
				On("recv", "p.0"),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "timeout", 10_000),
				On("recv", "q.0"),
			))
		m := suite.Main(t).Pid
		both := []any{"p.0", "q.0"}
		Expect(t.Values(m, "connection.wait")).To(Equal([]any{both, both, both, both, both}),
			"ready with messages, and at the end of file")
		recvs := t.Done(m, "recv")
		Expect(recvs).To(HaveLen(8))
		Expect(kinds(recvs[6:])).To(Equal([]string{"EOF", "EOF"}), "drained: EOF")
	})

	suite.Spec(waitZero, "a live child, a pipe with a message, one without: wait(timeout=0), then after the child ends", func() {
		t := suite.Run(New("connection/wait-zero").
			Resource("p", "pipe").Resource("q", "pipe").Resource("e", "event").
			Program("waiter", []string{"e"}, On("wait", "e")).
			Main(
				Spawn("c", "waiter", Ref("e")), Start("c"),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "procs", []any{"c"}, "timeout", 0),
				On("send", "p.1", "value", "x"),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "procs", []any{"c"}, "timeout", 0),
				// CPython's forkserver: join reads the exit status from the
				// sentinel, which is ready again only once the server closes
				// it, a moment later; this wait lets it.
				On("set", "e"), Join("c"), Op("connection.wait", "procs", []any{"c"}, "timeout", 10_000),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "procs", []any{"c"}, "timeout", 0),
				On("send", "q.1", "value", "y"),
				Op("connection.wait", "conns", []any{"p.0", "q.0"}, "procs", []any{"c"}, "timeout", 0),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "connection.wait")).To(Equal([]any{
			[]any{}, []any{"p.0"}, []any{"c"}, []any{"c", "p.0"}, []any{"c", "p.0", "q.0"},
		}))
	})
})

var invalidFamily = catalogue.Add(catalogue.Behaviour{
	ID: "connection.invalid-family", Profile: catalogue.Extended, Features: []string{"connection"},
	Rule: "a Listener on a Windows named pipe's address (family AF_PIPE) is refused on Linux: every op on it, " +
		"address, client, accept and close, records ValueError, and the run goes on",
	Source: "test_multiprocessing: TestInvalidFamily.test_invalid_family (Listener(r'\\\\.\\test') raises ValueError, bpo-14151); " +
		"Lib/multiprocessing/connection.py _validate_family ('Family AF_PIPE is not recognized')",
	CPythonTests: []string{"TestInvalidFamily.test_invalid_family"},
})

var _ = Describe("connection invalid family", func() {
	suite.Spec(invalidFamily, "a listener of family pipe, then a unix one that works", func() {
		t := suite.Run(New("connection/invalid-family").
			Resource("W", "listener", "family", "pipe").
			Resource("L", "listener").
			Main(
				On("listener.address", "W"), On("connection.client", "W", "as", "c"),
				On("listener.accept", "W", "as", "a"), On("listener.close", "W"),
				On("connection.client", "L", "as", "d"), On("listener.accept", "L", "as", "b"),
			))
		m := suite.Main(t).Pid
		var got []string
		for _, r := range t.Of(m) {
			if !r.Pending && r.Op != "process.begin" && r.Op != "process.end" {
				got = append(got, r.Op+" "+r.In["on"].(string)+":"+r.Kind())
			}
		}
		Expect(got).To(Equal([]string{
			"listener.address W:ValueError", "connection.client W:ValueError",
			"listener.accept W:ValueError", "listener.close W:ValueError",
			"connection.client L:", "listener.accept L:",
		}))
	})
})

var multipleBind = catalogue.Add(catalogue.Behaviour{
	ID: "connection.address-in-use", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
	Rule: "a Listener on the address of a Listener that is listening is refused (unix, abstract, tcp): every op on it records Exists, " +
		"and the first Listener still serves",
	Source: "test_multiprocessing: _TestListener.test_multiple_bind (Listener(l.address, family) raises OSError); " +
		"CPython: OSError EADDRINUSE from bind",
	CPythonTests: []string{"_TestListener.test_multiple_bind"},
})

var _ = Describe("connection address in use", func() {
	suite.Spec(multipleBind, "for each family: a listener, a second on its address; address, client and accept on each", func() {
		s := New("connection/address-in-use")
		var steps []Step
		for _, fam := range families {
			again := fam + "_again"
			s.Resource(fam, "listener", "family", fam).Resource(again, "listener", "address_of", fam)
			steps = append(steps,
				On("listener.address", again), On("connection.client", again, "as", "c-"+fam), On("listener.accept", again, "as", "x-"+fam),
				On("connection.client", fam, "as", "d-"+fam), On("listener.accept", fam, "as", "a-"+fam),
				On("send", "d-"+fam, "value", fam), On("recv", "a-"+fam))
		}
		t := suite.Run(s.Main(steps...))
		m := suite.Main(t).Pid
		var got []string
		for _, r := range t.Of(m) {
			if !r.Pending && r.Op != "process.begin" && r.Op != "process.end" && r.Op != "send" && r.Op != "recv" {
				got = append(got, r.Op+" "+r.In["on"].(string)+":"+r.Kind())
			}
		}
		var want []string
		for _, fam := range families {
			again := fam + "_again"
			want = append(want, "listener.address "+again+":Exists", "connection.client "+again+":Exists",
				"listener.accept "+again+":Exists", "connection.client "+fam+":", "listener.accept "+fam+":")
		}
		Expect(got).To(Equal(want))
		Expect(t.Values(m, "recv")).To(Equal([]any{"unix", "abstract", "tcp"}), "the first listeners still serve")
	})
})
