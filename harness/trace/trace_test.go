package trace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/schema"
	"github.com/mpconform/mpconform/harness/trace"
)

func write(t *testing.T, dir, name string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMergesByTime(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "10.jsonl",
		`{"pid":10,"ppid":1,"proc":"MainProcess","seq":0,"op":"process.begin","step":"main","t0":100,"t1":100,"ok":true,"value":{"name":"MainProcess","daemon":false,"program":"main"}}`,
		`{"pid":10,"ppid":1,"proc":"MainProcess","seq":1,"op":"emit","step":"main/0","t0":300,"t1":301,"ok":true,"value":1.0}`,
		`{"pid":10,"ppid":1,"proc":"MainProcess","seq":2,"op":"process.end","step":"main","t0":500,"t1":500,"ok":true,"value":{"exitcode":0}}`)
	write(t, dir, "11.jsonl",
		`{"pid":11,"ppid":10,"proc":"Process-1","seq":0,"op":"process.begin","step":"f","t0":200,"t1":200,"ok":true,"value":{"name":"Process-1","daemon":true,"program":"f"}}`,
		`{"pid":11,"ppid":10,"proc":"Process-1","seq":1,"op":"sleep","step":"f/0","t0":250,"pending":true}`)
	tr, err := trace.Load(dir, schema.TraceRecord)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, r := range tr.Records {
		ops = append(ops, r.Op)
	}
	if got := strings.Join(ops, " "); got != "process.begin process.begin sleep emit process.end" {
		t.Errorf("order: %s", got)
	}
	if _, isInt := trace.Int(tr.Records[3].Value); isInt {
		t.Error("1.0 was read as an int")
	}
	ps := tr.Processes()
	if len(ps) != 2 || ps[0].Program != "main" || ps[1].Name != "Process-1" || !ps[1].Daemon || ps[1].End != nil || ps[0].End == nil {
		t.Errorf("processes: %+v", ps)
	}
	if len(tr.Op("sleep")) != 0 {
		t.Error("Op returned a pending record")
	}
}

func TestLoadRejectsBadRecords(t *testing.T) {
	for _, line := range []string{
		`{"pid":10,"ppid":1,"proc":"M","seq":0,"op":"emit","step":"main/0","t0":1,"t1":2,"ok":true,"valu`,
		`{"pid":10,"ppid":1,"proc":"M","seq":0,"op":"emit","step":"main/0","t0":1,"ok":true}`,
		`{"pid":10,"ppid":1,"proc":"M","seq":0,"op":"emit","step":"main/0","t0":1,"t1":2,"ok":false}`,
	} {
		dir := t.TempDir()
		write(t, dir, "10.jsonl", line)
		if _, err := trace.Load(dir, schema.TraceRecord); err == nil || !strings.Contains(err.Error(), "10.jsonl:1") {
			t.Errorf("%s: err = %v, want one naming the file and line", line, err)
		}
	}
}
