package mp

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzConnRecv writes arbitrary bytes, framing included, into a pipe and
// receives from the other end until it fails: whatever a broken peer sends,
// the receiver returns messages or an error (ErrEOF at the end), never
// panics, and never allocates more than what arrived. The committed corpus
// is in testdata/fuzz.
func FuzzConnRecv(f *testing.F) {
	frame := func(n int, body string) []byte {
		h := make([]byte, headerSize)
		for i := range 8 {
			h[i] = byte(uint64(n) >> (8 * i))
		}
		return append(h, body...)
	}
	f.Add(frame(5, "hello"))
	f.Add(append(frame(0, ""), frame(2, "ab")...))
	f.Add(frame(1<<30, "short"))      // a length far beyond what follows
	f.Add(frame(1<<41, ""))           // a length beyond any message
	f.Add([]byte{1, 2, 3})            // a header cut short
	f.Add(append(frame(3, "abc"), 9)) // a message, then a partial header
	f.Fuzz(func(t *testing.T, data []byte) {
		r, w, err := Pipe(false)
		if err != nil {
			t.Skip(err)
		}
		defer r.Close()
		go func() {
			for len(data) > 0 {
				n, err := unix.Write(w.fd, data)
				if err != nil {
					break
				}
				data = data[n:]
			}
			w.Close()
		}()
		for range 1000 {
			if _, err := r.RecvBytes(context.Background()); err != nil {
				if !errors.Is(err, ErrEOF) && err.Error() == "" {
					t.Fatalf("an error without a message")
				}
				return
			}
		}
	})
}
