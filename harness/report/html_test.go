package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// fixture writes an out directory as conform run and bench leave it: two
// implementations' results (one failure with a trace and its visualisation) and
// their benchmark files (one benchmark unsupported by one of them).
func fixture(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	a := &Results{Impl: Impl{Name: "go-reference", Version: "0.1.0", Language: "go"}, Profile: "all", Behaviours: []Behaviour{
		{ID: "lock.mutual-exclusion", Profile: "core", Status: Pass},
		{ID: "queue.fifo", Profile: "core", Status: Fail, Message: "items out of order", Trace: "traces/queue.fifo.txt"},
	}}
	b := &Results{Impl: Impl{Name: "cpython", Version: "3.11.7", Language: "python"}, Profile: "all", Behaviours: []Behaviour{
		{ID: "lock.mutual-exclusion", Profile: "core", Status: Pass},
		{ID: "queue.fifo", Profile: "core", Status: XFail, Message: "known"},
		{ID: "pool.all-once", Profile: "core", Status: Unsupported},
	}}
	for dir, r := range map[string]*Results{"go-reference": a, "cpython": b} {
		if err := r.Write(filepath.Join(out, dir)); err != nil {
			t.Fatal(err)
		}
	}
	traces := filepath.Join(out, "go-reference", "traces")
	os.MkdirAll(traces, 0o755)
	os.WriteFile(filepath.Join(traces, "queue.fifo.txt"), []byte("trace\n"), 0o644)
	os.WriteFile(filepath.Join(traces, "queue.fifo.html"), []byte("<p>vis</p>\n"), 0o644)

	bench := filepath.Join(out, "bench")
	os.MkdirAll(bench, 0o755)
	for impl, rate := range map[string]float64{"go-reference": 9e5, "cpython": 1.2e5} {
		var buf bytes.Buffer
		w, err := benchfile.NewWriter(&buf, [][2]string{{"impl", impl}}, map[string]string{"msgs/s": "higher", "ops/s": "higher"}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 6 {
			v := rate * (1 + float64(k)/100)
			w.Result("Queue/p=1/c=1/size=8B", 1000, benchfile.Value{Value: 1e9 / v, Unit: "ns/op"}, benchfile.Value{Value: v, Unit: "msgs/s"})
			w.Result("Queue/p=1/c=1/size=1KiB", 1000, benchfile.Value{Value: 2e9 / v, Unit: "ns/op"}, benchfile.Value{Value: v / 2, Unit: "msgs/s"})
		}
		if impl == "go-reference" {
			w.Skip("Pool/map/workers=1", "unsupported: the driver does not list feature pool")
		} else {
			for range 6 {
				w.Result("Pool/map/workers=1", 100, benchfile.Value{Value: 30000, Unit: "ns/op"}, benchfile.Value{Value: 33000, Unit: "ops/s"})
			}
		}
		os.WriteFile(filepath.Join(bench, impl+".txt"), buf.Bytes(), 0o644)
	}
	return out
}

func TestWriteIndex(t *testing.T) {
	out := fixture(t)
	path, err := WriteIndex(out)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, string(data))
}

// checkPage checks that a page (as written, or as a browser's DOM) shows the data.
func checkPage(t *testing.T, page string) {
	t.Helper()
	for _, want := range []string{
		`data-behaviour="pool.all-once"`,                      // a row for every behaviour of any implementation
		`<td class="st fail" title="items out of order">fail`, // statuses coloured by class
		`<td class="st xfail"`,
		`<td class="st unsupported"`,
		`<td class="st none"`, // go-reference did not run pool.all-once
		`href="go-reference/traces/queue.fifo.txt"`,
		`href="go-reference/traces/queue.fifo.html"`,
		`<svg class="chart" data-group="Queue/p=1/c=1"`,
		`data-impl="cpython"`,
		`data-status="unsupported"`,        // never a bar of zero
		`go-reference: 922.5k msgs/s ± 2%`, // the median, scaled as benchstat does
		`cpython: 33.00k ops/s ± 0%`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}

// TestIndexRendersInChromium opens the page in headless Chromium and checks the
// DOM it rendered, script included.
func TestIndexRendersInChromium(t *testing.T) {
	browser := chromium(t)
	out := fixture(t)
	path, err := WriteIndex(out)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	dom := stdout.String()
	checkPage(t, dom)
	if !strings.Contains(dom, `data-rendered="yes"`) || !strings.Contains(dom, "1 failure.") {
		t.Errorf("the page's script did not run in %s:\n%s", browser, dom)
	}
}

// chromium is the headless browser's path; the test is skipped without one,
// except in CI, which installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI must run this test (.ci/run installs it)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); CI runs this test")
	return ""
}
