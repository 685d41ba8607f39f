package mp

import (
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"
)

// passedFile shows the seam for OS resources in arguments: it travels as
// the index of a file that the child inherits.
type passedFile struct{ *os.File }

func (f passedFile) MarshalJSON() ([]byte, error) { return json.Marshal(passFile(f.File)) }

func (f *passedFile) UnmarshalJSON(data []byte) error {
	var i int
	if err := json.Unmarshal(data, &i); err != nil {
		return err
	}
	f.File = inheritedFile(i)
	return nil
}

var writeTo = Register("writeTo", func(arg struct{ W, Unused passedFile }) error {
	_, err := io.WriteString(arg.W, "through an inherited fd")
	return err
})

func TestPassFile(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	p := New(writeTo, struct{ W, Unused passedFile }{passedFile{w}, passedFile{null}})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child has its own copy; EOF once it exits
	r.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "through an inherited fd" {
		t.Errorf("read %q", got)
	}
	<-p.Done()
	if p.code != 0 {
		t.Errorf("exit code %d", p.code)
	}
}

// A spare whose parent closes its bootstrap pipe unused exits 0, silently.
func TestUnusedSpareExitsSilently(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	proc, bw, err := execChild(os.Environ(), os.Stdout, w, nil, defaultDeathSig)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	bw.Close()
	state, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if code := state.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if out, _ := io.ReadAll(r); len(out) != 0 {
		t.Errorf("stderr %q, want nothing", out)
	}
}
