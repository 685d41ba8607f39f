package benchfile

import (
	"bytes"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, [][2]string{{"impl", "cpython"}, {"commit", "abc"}}, map[string]string{"msgs/s": "higher"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.Result("Queue/p=1/c=1/size=8B", 200000, Value{812.4, "ns/op"}, Value{1231000, "msgs/s"})
	w.Skip("Pool/map/workers=1", "unsupported: the driver does not list feature pool")
	w.Fail("Pipe/stream/size=8B", "op failed:\n  get_many: Empty")
	text := b.String()
	for _, want := range []string{
		"impl: cpython\n", "Unit msgs/s better=higher assume=nothing\n",
		"BenchmarkQueue/p=1/c=1/size=8B-2\t  200000\t       812.4 ns/op\t   1231000 msgs/s\n",
		"--- SKIP: BenchmarkPool/map/workers=1-2\n    unsupported: the driver does not list feature pool\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the file lacks %q:\n%s", want, text)
		}
	}
	f, err := Read(b.Bytes(), "x.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Results) != 1 || f.Config["impl"] != "cpython" || f.Units.GetBetter("msgs/s") != 1 {
		t.Fatalf("read back: %d results, config %v", len(f.Results), f.Config)
	}
	if v, _ := f.Results[0].Value("msgs/s"); v != 1231000 {
		t.Errorf("msgs/s = %v", v)
	}
	if f.Skipped["BenchmarkPool/map/workers=1-2"] == "" || f.Failed["BenchmarkPipe/stream/size=8B-2"] != "op failed: get_many: Empty" {
		t.Errorf("skipped %v, failed %v", f.Skipped, f.Failed)
	}
}

// go test indents the SKIP lines of sub-benchmarks, and puts file:line before
// the reason.
func TestReadGoTestSkips(t *testing.T) {
	out := "BenchmarkPool\n    --- SKIP: BenchmarkPool/map/workers=1\n        bench_test.go:85: unsupported\nPASS\n"
	f, err := Read([]byte(out), "go-test.txt")
	if err != nil {
		t.Fatal(err)
	}
	if f.Skipped["BenchmarkPool/map/workers=1"] != "bench_test.go:85: unsupported" {
		t.Errorf("skipped %v", f.Skipped)
	}
}

func TestCPU(t *testing.T) {
	for text, want := range map[string]string{
		"cpu: AMD EPYC 7B13\nBenchmarkX 1 2 ns/op\n": "AMD EPYC 7B13",
		"cpu: unknown\nBenchmarkX 1 2 ns/op\n":       "",
		"BenchmarkX 1 2 ns/op\n":                     "",
	} {
		f, err := Read([]byte(text), "x.txt")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.CPU(); got != want {
			t.Errorf("%q: CPU() = %q, want %q", text, got, want)
		}
	}
}
