package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// matrixFixture is a matrix of three implementations: two that ran (a
// failure with its trace, an unsupported behaviour, one behaviour that only one
// of them ran) and one whose driver is not installed.
func matrixFixture(t *testing.T) (string, *Matrix) {
	t.Helper()
	a := &Results{Impl: Impl{Name: "go-reference", Version: "0.1.0", Language: "go"}, Behaviours: []Behaviour{
		{ID: "lock.mutual-exclusion", Profile: "core", Status: Pass},
		{ID: "queue.fifo", Profile: "core", Status: Fail, Message: "items\nout of order", Trace: "traces/queue.fifo.txt", Visualisation: "traces/queue.fifo.html"},
		{ID: "pool.all-once", Profile: "core", Status: Pass},
	}}
	b := &Results{Impl: Impl{Name: "cpython", Version: "3.11.7", Language: "python"}, Behaviours: []Behaviour{
		{ID: "lock.mutual-exclusion", Profile: "core", Status: Pass},
		{ID: "queue.fifo", Profile: "core", Status: XFail, Message: "known", Trace: "traces/queue.fifo.txt"},
		{ID: "pool.all-once", Profile: "core", Status: Unsupported},
		{ID: "pool.extra", Profile: "extended", Status: Flaky, Unrecorded: true},
	}}
	impls := []MatrixImpl{
		{Name: "go-reference", Source: "./impl", Report: "go-reference", Seconds: 50},
		{Name: "cpython", Source: "./fixtures/impls/cpython", Report: "cpython", Seconds: 100},
		{Name: "pypy", Source: "./pypy", Absent: "pypy3 not found in $PATH"},
	}
	out := t.TempDir()
	m := NewMatrix("core", "", impls, []*Results{a, b, nil})
	if err := m.Write(out); err != nil {
		t.Fatal(err)
	}
	return out, m
}

func TestMatrix(t *testing.T) {
	out, m := matrixFixture(t)
	got := map[string]string{}
	for _, r := range m.Rows {
		var s []string
		for _, c := range r.Cells {
			s = append(s, c.Status)
		}
		got[r.ID] = strings.Join(s, " ")
		if r.Differs {
			got[r.ID] += " (differs)"
		}
	}
	for id, want := range map[string]string{
		"lock.mutual-exclusion": "pass pass absent", // pypy, absent, differs from none
		"queue.fifo":            "fail xfail absent (differs)",
		"pool.all-once":         "pass unsupported absent (differs)",
		"pool.extra":            "absent flaky absent (differs)",
	} {
		if got[id] != want {
			t.Errorf("%s: %q, want %q", id, got[id], want)
		}
	}
	if m.Differ != 3 || m.Rows[0].ID != "lock.mutual-exclusion" {
		t.Errorf("differ %d, rows %v", m.Differ, got)
	}
	if ti := m.Impls[1].Totals; ti[Pass] != 1 || ti[XFail] != 1 || ti[Unsupported] != 1 || ti[Flaky] != 1 || m.Impls[2].Totals[Absent] != 4 {
		t.Errorf("totals: %+v", m.Impls)
	}
	if m.Impls[1].Version != "3.11.7" || m.Impls[1].Language != "python" {
		t.Errorf("versions: %+v", m.Impls[1])
	}
	var back Matrix
	data, _ := os.ReadFile(filepath.Join(out, "matrix.json"))
	if err := json.Unmarshal(data, &back); err != nil || len(back.Rows) != 4 {
		t.Errorf("matrix.json: %v: %s", err, data)
	}
	page, _ := os.ReadFile(filepath.Join(out, "matrix.html"))
	checkMatrixPage(t, string(page))
}

func checkMatrixPage(t *testing.T, page string) {
	t.Helper()
	for _, want := range []string{
		`<tr data-behaviour="queue.fifo" class="differs">`,
		`<tr data-behaviour="lock.mutual-exclusion" class="same">`,
		`<td class="st fail" title="items out of order"><a class="trace" href="go-reference/traces/queue.fifo.txt">fail</a> <a class="vis" href="go-reference/traces/queue.fifo.html">visualisation</a></td>`,
		`<a class="trace" href="cpython/traces/queue.fifo.txt">xfail</a>`,
		`<td class="st unsupported"`, `<td class="st flaky" title="not recorded as flaky. ">`, `<td class="st absent">absent</td>`,
		`3.11.7 (python), 100 s`, `absent: pypy3 not found in $PATH`,
		`<span class="pass">1 pass</span>`, `4 absent<br>`,
		`only where implementations differ (3)`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("matrix.html lacks %s", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("matrix.html refers to the network")
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}

// TestMatrixToggleInChromium opens matrix.html#only-differ in headless
// Chromium: the toggle is on, and the table hides the rows that agree.
func TestMatrixToggleInChromium(t *testing.T) {
	browser := chromium(t)
	out, _ := matrixFixture(t)
	abs, _ := filepath.Abs(filepath.Join(out, "matrix.html"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs+"#only-differ")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	dom := stdout.String()
	if !strings.Contains(dom, `data-rendered="yes"`) || !strings.Contains(dom, `class="matrix only-differ"`) {
		t.Errorf("the toggle is not on in %s:\n%s", browser, dom)
	}
}
