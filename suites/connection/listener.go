package connection

import (
	"encoding/base64"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The specs of multiprocessing.connection beyond Pipe: Listener and Client,
// wait, recv_bytes_into and recv_bytes(maxlength) (area "connection").

var (
	families = []string{"unix", "abstract", "tcp"}

	listenerClient = catalogue.Add(catalogue.Behaviour{
		ID: "connection.listener-client", Profile: catalogue.Extended, Features: []string{"process", "pipe", "connection"},
		Rule:         "a child's Client connects to main's Listener (AF_UNIX path, abstract name, AF_INET): messages go both ways, exact",
		Source:       "CPython docs: multiprocessing.connection.Listener, Client; test_multiprocessing: _TestListenerClient.test_listener_client",
		CPythonTests: []string{"_TestListenerClient.test_listener_client", "_TestListener.test_abstract_socket"},
	})
	address = catalogue.Add(catalogue.Behaviour{
		ID: "connection.address", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
		Rule:   "Listener(('127.0.0.1', 0)).address has the port chosen; an abstract name starts with NUL; last_accepted is the tcp client's [host, port]",
		Source: "CPython docs: Listener.address ('The address which is being used by the Listener object'), Listener.last_accepted",
	})
	authkey = catalogue.Add(catalogue.Behaviour{
		ID: "connection.authkey", Profile: catalogue.Extended, Features: []string{"process", "pipe", "connection"},
		Rule:   "with an authkey, a client with the right key connects; a wrong key fails with AuthError on both sides, client and accept",
		Source: "CPython docs: multiprocessing.connection, Authentication keys ('AuthenticationError is raised'); connection.py deliver_challenge, answer_challenge",
		// A wrong key fails deliver_challenge at accept and answer_challenge at the client.
		CPythonTests: []string{"OtherTest.test_deliver_challenge_auth_failure", "OtherTest.test_answer_challenge_auth_failure"},
	})
	refused = catalogue.Add(catalogue.Behaviour{
		ID: "connection.refused", Profile: catalogue.Extended, Features: []string{"connection"},
		Rule:         "once a Listener is closed, a Client to its address fails with Refused (unix, abstract, tcp) and accept fails with Closed",
		Source:       "CPython docs: Listener.close; CPython: Client raises ConnectionRefusedError, or FileNotFoundError for a removed socket path",
		CPythonTests: []string{"_TestListener.test_abstract_socket"},
	})
	withClose = catalogue.Add(catalogue.Behaviour{
		ID: "connection.listener-with", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
		Rule:         "a Listener used as a context manager serves inside the block and is closed at its end: then a Client fails with Refused",
		Source:       "CPython docs: Listener ('Listener objects now support the context management protocol ... __exit__() calls close()')",
		CPythonTests: []string{"_TestListener.test_context"},
	})
	waitReady = catalogue.Add(catalogue.Behaviour{
		ID: "connection.wait", Profile: catalogue.Extended, Features: []string{"control", "process", "pipe", "connection"},
		Rule:         "wait returns exactly the ready objects (connections with a message, exited processes' sentinels), [] on a timeout, and does not take the message",
		Source:       "CPython docs: multiprocessing.connection.wait; test_multiprocessing: TestWait.test_wait, test_wait_timeout",
		CPythonTests: []string{"TestWait.test_wait_timeout", "TestWait.test_wait_integer"},
	})
	recvInto = catalogue.Add(catalogue.Behaviour{
		ID: "connection.recv-bytes-into", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
		Rule:         "recv_bytes_into(buffer, offset) writes the message at offset and returns its length; an offset past the buffer is a ValueError",
		Source:       "CPython docs: Connection.recv_bytes_into; test_multiprocessing: _TestConnection.test_connection (recv_bytes_into)",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	tooShort = catalogue.Add(catalogue.Behaviour{
		ID: "connection.buffer-too-short", Profile: catalogue.Extended, Features: []string{"pipe", "connection"},
		Rule:         "recv_bytes_into a buffer too small fails with BufferTooShort holding the whole message, which is taken: the next recv gets the next one",
		Source:       "CPython docs: Connection.recv_bytes_into ('BufferTooShort is raised and the complete message is available as e.args[0]')",
		CPythonTests: []string{"_TestConnection.test_connection"},
	})
	maxLength = catalogue.Add(catalogue.Behaviour{
		ID: "connection.maxlength", Profile: catalogue.Extended, Features: []string{"pipe"},
		Rule:   "recv_bytes(maxlength) of a longer message fails (CPython's OSError: ValueError); a message within maxlength is received",
		Source: "CPython docs: Connection.recv_bytes ('If maxlength is specified and the message is longer than maxlength then OSError is raised')",
	})
)

// bytesValue is a bytes value (protocol.md §4).
func bytesValue(s string) map[string]any {
	return map[string]any{"bytes": base64.StdEncoding.EncodeToString([]byte(s))}
}

// kinds returns the error kind of each record ("" for a success).
func kinds(recs []trace.Record) []string {
	var k []string
	for _, r := range recs {
		k = append(k, r.Kind())
	}
	return k
}

var _ = Describe("connection", func() {
	suite.Spec(listenerClient, "for each family, a child connects, sends, and receives main's reply", func() {
		for _, fam := range families {
			t := suite.Run(New("connection/listener-client-"+fam).
				Resource("L", "listener", "family", fam).
				Program("child", []string{"l"},
					On("connection.client", "L", "as", "c"),
					On("send", "c", "value", "你好 from the child"),
					On("recv", "c")).
				Main(
					Spawn("p", "child", Ref("L")), Start("p"),
					On("listener.accept", "L", "as", "a"),
					On("recv", "a"),
					On("send", "a", "value", []any{"reply", 1, 0.5}),
					Join("p"),
				))
			m, c := suite.Main(t), suite.Program(t, "child")
			Expect(t.Values(m.Pid, "recv")).To(Equal([]any{"你好 from the child"}), "%s: what main received", fam)
			Expect(kinds(t.Done(c.Pid, "connection.client"))).To(Equal([]string{""}), fam)
			got := t.Done(c.Pid, "recv")
			Expect(got).To(HaveLen(1), fam)
			Expect(got[0].Value).To(Equal(t.Done(m.Pid, "send")[0].In["value"]), "%s: the child received the reply, types kept", fam)
		}
	})

	suite.Spec(address, "each family's address; last_accepted after a tcp accept", func() {
		steps := []Step{}
		for _, fam := range families {
			steps = append(steps, On("listener.address", fam))
		}
		steps = append(steps, On("connection.client", "tcp", "as", "c"), On("listener.accept", "tcp", "as", "a"),
			On("listener.last_accepted", "tcp"), On("listener.address", "tcp"))
		s := New("connection/address")
		for _, fam := range families {
			s.Resource(fam, "listener", "family", fam)
		}
		t := suite.Run(s.Main(steps...))
		m := suite.Main(t).Pid
		addrs := t.Values(m, "listener.address")
		Expect(addrs).To(HaveLen(4))
		unix, _ := addrs[0].(string)
		Expect(unix).NotTo(BeEmpty(), "a unix address is a string")
		abstract, _ := addrs[1].(string)
		Expect(strings.HasPrefix(abstract, "\x00")).To(BeTrue(), "an abstract name starts with NUL: %q", abstract)
		tcp, _ := addrs[2].([]any)
		Expect(tcp).To(HaveLen(2), "a tcp address is [host, port]: %v", addrs[2])
		Expect(tcp[0]).To(Equal("127.0.0.1"))
		port, _ := trace.Int(tcp[1])
		Expect(port).To(BeNumerically(">", 0), "the port chosen for port 0")
		Expect(addrs[3]).To(Equal(addrs[2]), "the address stays the same")
		last, _ := t.Values(m, "listener.last_accepted")[0].([]any)
		Expect(last).To(HaveLen(2), "last_accepted is the client's [host, port]")
		Expect(last[0]).To(Equal("127.0.0.1"))
		lport, _ := trace.Int(last[1])
		Expect(lport).To(BeNumerically(">", 0))
	})

	suite.Spec(authkey, "a child with the key sends; a child with a wrong key fails, and so does that accept", func() {
		t := suite.Run(New("connection/authkey").
			Resource("L", "listener", "family", "tcp", "authkey", "s3cret").
			Program("client", []string{"l", "key"},
				On("connection.client", "L", "as", "c", "authkey", Param("key")),
				On("send", "c", "value", Param("key"))).
			Main(
				Spawn("good", "client", Ref("L"), "s3cret"), Start("good"),
				On("listener.accept", "L", "as", "a"),
				On("recv", "a"),
				Join("good"),
				Spawn("bad", "client", Ref("L"), "wrong"), Start("bad"),
				On("listener.accept", "L", "as", "b"),
				Join("bad"),
			))
		m := suite.Main(t).Pid
		Expect(kinds(t.Done(m, "listener.accept"))).To(Equal([]string{"", "AuthError"}), "accept: the right key, then a wrong one")
		Expect(t.Values(m, "recv")).To(Equal([]any{"s3cret"}))
		var clients []string
		for _, p := range t.Processes() {
			if p.Program == "client" {
				clients = append(clients, kinds(t.Done(p.Pid, "connection.client"))...)
			}
		}
		Expect(clients).To(ConsistOf("", "AuthError"), "client: the right key connects, a wrong one fails")
	})

	suite.Spec(refused, "close each listener, then client and accept", func() {
		s := New("connection/refused")
		var steps []Step
		for _, fam := range families {
			s.Resource(fam, "listener", "family", fam)
			steps = append(steps, On("listener.close", fam), On("connection.client", fam, "as", "c"),
				On("listener.accept", fam, "as", "a"))
		}
		t := suite.Run(s.Main(steps...))
		m := suite.Main(t).Pid
		Expect(kinds(t.Done(m, "listener.close"))).To(Equal([]string{"", "", ""}))
		Expect(kinds(t.Done(m, "connection.client"))).To(Equal([]string{"Refused", "Refused", "Refused"}), "unix, abstract, tcp")
		Expect(kinds(t.Done(m, "listener.accept"))).To(Equal([]string{"Closed", "Closed", "Closed"}))
	})

	suite.Spec(withClose, "with L: client, accept, a message; after it, client and accept", func() {
		t := suite.Run(New("connection/listener-with").
			Resource("L", "listener").
			Main(
				On("listener.with", "L", "body", []Step{
					On("connection.client", "L", "as", "c"), On("listener.accept", "L", "as", "a"),
					On("send", "c", "value", "inside"), On("recv", "a"),
				}),
				On("connection.client", "L", "as", "d"),
				On("listener.accept", "L", "as", "b"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "recv")).To(Equal([]any{"inside"}), "the listener serves inside the block")
		Expect(kinds(t.Done(m, "connection.client"))).To(Equal([]string{"", "Refused"}), "closed at the block's end")
		Expect(kinds(t.Done(m, "listener.accept"))).To(Equal([]string{"", "Closed"}))
	})

	suite.Spec(waitReady, "nothing ready, a pipe end, an accepted connection, a child's message, its exit", func() {
		ends := []any{"p.0", "q.0"}
		t := suite.Run(New("connection/wait").
			Resource("p", "pipe").Resource("q", "pipe").
			Resource("L", "listener").
			Program("child", []string{"end"}, Sleep(100), On("send", "q.1", "value", "late")).
			Main(
				Op("connection.wait", "conns", ends, "timeout", 100),
				On("send", "p.1", "value", "x"),
				Op("connection.wait", "conns", ends, "timeout", 2000),
				Op("connection.wait", "conns", ends),
				On("recv", "p.0"),
				On("connection.client", "L", "as", "k"), On("listener.accept", "L", "as", "a"),
				On("send", "k", "value", "y"),
				Op("connection.wait", "conns", []any{"p.0", "a"}),
				On("recv", "a"),
				Spawn("c", "child", Ref("q.1")), Start("c"),
				Op("connection.wait", "conns", ends),
				On("recv", "q.0"),
				Op("connection.wait", "conns", []any{"p.0"}, "procs", []any{"c"}),
				Join("c"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "connection.wait")).To(Equal([]any{
			[]any{}, []any{"p.0"}, []any{"p.0"}, []any{"a"}, []any{"q.0"}, []any{"c"},
		}), "timeout: []; then only what is ready, message left in place until recv")
		Expect(t.Values(m, "recv")).To(Equal([]any{"x", "y", "late"}))
	})

	suite.Spec(recvInto, "a message at offset 3 of a 10-byte buffer; an empty one; an offset past the buffer", func() {
		t := suite.Run(New("connection/recv-bytes-into").
			Resource("p", "pipe").
			Main(
				On("send_bytes", "p.1", "value", bytesValue("hello")),
				On("recv_bytes_into", "p.0", "size", 10, "offset", 3),
				On("send_bytes", "p.1", "value", bytesValue("")),
				On("recv_bytes_into", "p.0", "size", 0),
				On("send_bytes", "p.1", "value", bytesValue("abc")),
				On("recv_bytes_into", "p.0", "size", 4, "offset", 5),
			))
		recs := t.Done(suite.Main(t).Pid, "recv_bytes_into")
		Expect(recs).To(HaveLen(3))
		Expect(recs[0].Value).To(Equal([]any{trace.IntValue(5), bytesValue("\x00\x00\x00hello\x00\x00")}), "%s", recs[0])
		Expect(recs[1].Value).To(Equal([]any{trace.IntValue(0), bytesValue("")}), "%s", recs[1])
		Expect(recs[2].Kind()).To(Equal("ValueError"), "offset 5 of a 4-byte buffer")
	})

	suite.Spec(tooShort, "an 11-byte message into 4 bytes, then the next message", func() {
		t := suite.Run(New("connection/buffer-too-short").
			Resource("p", "pipe").
			Main(
				On("send_bytes", "p.1", "value", bytesValue("hello world")),
				On("send", "p.1", "value", "next"),
				On("recv_bytes_into", "p.0", "size", 4),
				On("recv", "p.0"),
			))
		m := suite.Main(t).Pid
		recs := t.Done(m, "recv_bytes_into")
		Expect(recs).To(HaveLen(1))
		Expect(recs[0].Kind()).To(Equal("BufferTooShort"), "%s", recs[0])
		Expect(recs[0].Error.Message).To(Equal("hello world"), "the whole message is in the error")
		Expect(t.Values(m, "recv")).To(Equal([]any{"next"}), "the message was taken: the next recv gets the next one")
	})

	suite.Spec(maxLength, "recv_bytes(maxlength=3) of 7 bytes, and of 3 bytes on another pipe", func() {
		t := suite.Run(New("connection/maxlength").
			Resource("p", "pipe").Resource("q", "pipe").
			Main(
				On("send_bytes", "p.1", "value", bytesValue("toolong")),
				On("recv_bytes", "p.0", "maxlength", 3),
				On("send_bytes", "q.1", "value", bytesValue("abc")),
				On("recv_bytes", "q.0", "maxlength", 3),
			))
		recs := t.Done(suite.Main(t).Pid, "recv_bytes")
		Expect(recs).To(HaveLen(2))
		Expect(recs[0].Kind()).To(Equal("ValueError"), "%s", recs[0])
		Expect(recs[1].Value).To(Equal(bytesValue("abc")), "%s", recs[1])
	})
})
