package mp

import (
	"strings"
	"testing"
)

// FuzzDecodeBootstrap: whatever arrives on the bootstrap pipe, the child gets
// a message with a target and a sane file count, or a one-line error; it
// never panics. The committed corpus is in testdata/fuzz.
func FuzzDecodeBootstrap(f *testing.F) {
	f.Add([]byte(`{"target":"interp.program","arg":{"x":1},"name":"Process-1","identity":[1],"daemon":false,"files":2}`))
	f.Add([]byte(`{"target":"t","files":-1}`))
	f.Add([]byte(`{"target":"t","files":99999999999}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeBootstrap(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if b.Target == "" || b.Files < 0 || b.Files > maxFiles {
			t.Fatalf("accepted %+v", b)
		}
	})
}
