package connection

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

var sendBytesRange = catalogue.Add(catalogue.Behaviour{
	ID: "pipe.send-bytes-range", Profile: catalogue.Extended, Features: []string{"control", "pipe"},
	Rule: "send_bytes(buffer, offset, size) sends buffer[offset:offset+size] as one message; a negative offset or size, " +
		"or a range past the buffer's end, is a ValueError that sends nothing",
	Source: "CPython docs: Connection.send_bytes ('If offset is given then data is read from that position in buffer. " +
		"If size is given then that many bytes will be read from buffer'); test_multiprocessing: _TestConnection.test_sendbytes",
	CPythonTests: []string{"_TestConnection.test_sendbytes"},
})

var _ = Describe("send_bytes ranges", func() {
	suite.Spec(sendBytesRange, "the alphabet at offsets 0, 5, 7+8, 26, 26+0; then five bad ranges; then one more message", func() {
		const abc = "abcdefghijklmnopqrstuvwxyz"
		send := func(kv ...any) Step {
			return On("send_bytes", "p.1", append([]any{"value", bytesValue(abc)}, kv...)...)
		}
		t := suite.Run(New("pipe/send-bytes-range").
			Resource("p", "pipe").
			Main(
				send(), send("offset", 5), send("offset", 7, "size", 8), send("offset", 26), send("offset", 26, "size", 0),
				send("offset", 27), send("offset", 22, "size", 5), send("offset", 26, "size", 1),
				send("offset", -1), send("offset", 4, "size", -1),
				On("send_bytes", "p.1", "value", bytesValue("end")),
				Repeat(6, "", On("recv_bytes", "p.0")),
			))
		m := suite.Main(t).Pid
		Expect(kinds(t.Done(m, "send_bytes"))).To(Equal([]string{"", "", "", "", "",
			"ValueError", "ValueError", "ValueError", "ValueError", "ValueError", ""}))
		Expect(t.Values(m, "recv_bytes")).To(Equal([]any{
			bytesValue(abc), bytesValue(abc[5:]), bytesValue(abc[7:15]), bytesValue(""), bytesValue(""), bytesValue("end"),
		}), "each range, and nothing of the refused ones")
	})
})
