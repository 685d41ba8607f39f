package trace_test

import (
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/schema"
	"github.com/mpconform/mpconform/harness/trace"
)

// FuzzLoad hands the trace reader one arbitrary trace file's contents, as a
// broken or hostile driver could write it: it must return records or a
// one-line error, and never panic. The committed corpus is in testdata/fuzz.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"pid": 7, "ppid": 1, "proc": "MainProcess", "seq": 0, "op": "process.begin", "step": "main", "t0": 1, "t1": 1, "ok": true, "value": {"name": "MainProcess", "daemon": false, "program": "main"}}` + "\n" +
		`{"pid": 7, "ppid": 1, "proc": "MainProcess", "seq": 1, "op": "get", "step": "main/0", "in": {"on": "q"}, "t0": 2, "t1": 3, "ok": false, "error": {"kind": "Empty", "message": ""}}` + "\n"))
	f.Add([]byte(`{"pid": 7, "op": "emit", "value": {"dict": [[1, 1.0], [null, {"bytes": "AA=="}]]}}`))
	f.Add([]byte("{\"pid\": 7, \"op\": \"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, validate := range []trace.Validator{nil, schema.TraceRecord} {
			recs, err := trace.Parse(data, "7.jsonl", validate)
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("a multi-line error: %q", err)
				}
				continue
			}
			// The queries must cope with whatever was read.
			tr := &trace.Trace{Records: recs}
			tr.Processes()
			tr.Children()
			for _, r := range tr.Records {
				_ = r.String()
				tr.Values(r.Pid, r.Op)
			}
		}
	})
}
