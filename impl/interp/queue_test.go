package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

func TestQueueScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"resources":[{"name":"Q","type":"queue","maxsize":"3"}],"main":[]}`, `queue.maxsize: want an integer`},
		{`{"resources":[{"name":"Q","type":"simple_queue","maxsize":1}],"main":[]}`, `simple_queue: unknown field "maxsize"`},
		{`{"resources":[{"name":"Q","type":"queue"}],"main":[{"op":"put","on":"Q"}]}`, `missing field "value"`},
		{`{"resources":[{"name":"Q","type":"joinable_queue"}],"main":[{"op":"join"}]}`, `exactly one of the fields`},
	} {
		res := drive(t, c.scenario)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.scenario, res.code, res.stderr, c.reason)
		}
	}
}

func TestQueueOpsInOneProcess(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "Q", "type": "queue", "maxsize": 2}, {"name": "J", "type": "joinable_queue"},
		{"name": "S", "type": "simple_queue"}
	], "main": [
		{"op": "empty", "on": "Q"}, {"op": "put", "on": "Q", "value": "爸爸你好!"},
		{"op": "put_nowait", "on": "Q", "value": {"bytes": "AAE="}},
		{"op": "full", "on": "Q"}, {"op": "qsize", "on": "Q"},
		{"op": "put_nowait", "on": "Q", "value": 1}, {"op": "put", "on": "Q", "value": 1, "timeout": 30},
		{"op": "put", "on": "Q", "value": 1, "block": false},
		{"op": "get", "on": "Q"}, {"op": "get_nowait", "on": "Q"}, {"op": "get_nowait", "on": "Q"},
		{"op": "get", "on": "Q", "timeout": 20}, {"op": "get", "on": "Q", "block": false},
		{"op": "put", "on": "Q", "value": {"dict": [[1, [1.0, null, true]]]}}, {"op": "get", "on": "Q"},
		{"op": "put", "on": "Q", "value": {"blob": 100}}, {"op": "get", "on": "Q"},
		{"op": "join_thread", "on": "Q"}, {"op": "cancel_join_thread", "on": "Q"},
		{"op": "put_many", "on": "J", "n": 10, "start": 5}, {"op": "qsize", "on": "J"},
		{"op": "get_many", "on": "J", "n": 3, "collect": true}, {"op": "get_many", "on": "J", "n": 7},
		{"op": "put_many", "on": "J", "n": 3, "size": 20}, {"op": "get_many", "on": "J", "n": 3},
		{"op": "repeat", "times": 13, "body": [{"op": "task_done", "on": "J"}]},
		{"op": "join", "on": "J"}, {"op": "task_done", "on": "J"},
		{"op": "put", "on": "S", "value": 7}, {"op": "empty", "on": "S"}, {"op": "get", "on": "S"},
		{"op": "qsize", "on": "S"}, {"op": "task_done", "on": "Q"},
		{"op": "close", "on": "Q"}, {"op": "put", "on": "Q", "value": 1}, {"op": "get", "on": "Q"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string][]string{
		"empty":      {"true", "false"},
		"full":       {"true"},
		"qsize":      {"2", "10", "!Error"},
		"put":        {"null", "!Full", "!Full", "null", "null", "null", "!Closed"},
		"put_nowait": {"null", "!Full"},
		"get": {`"爸爸你好!"`, "!Empty", "!Empty", `{"dict":[[1,[1.0,null,true]]]}`,
			`{"digest":{"len":100,"sha256":"` + blobSum(100) + `"}}`, "7", "!Closed"},
		"get_nowait":         {`{"bytes":"AAE="}`, "!Empty"},
		"get_many":           {`{"dict":[["count",3],["sum",18],["items",[5,6,7]]]}`, `{"dict":[["count",7],["sum",77]]}`, `{"dict":[["count",3],["sum",3]]}`},
		"put_many":           {"10", "3"},
		"task_done":          {"null", "null", "null", "null", "null", "null", "null", "null", "null", "null", "null", "null", "null", "!ValueError", "!Error"},
		"join":               {"null"},
		"join_thread":        {"null"},
		"cancel_join_thread": {"null"},
	}
	for op, w := range want {
		if got := res.outcomes("MainProcess", op); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", op, got, w)
		}
	}
	// A timed put or get fails no earlier than its timeout.
	for _, c := range []struct {
		op    string
		index int
		ms    int64
	}{{"put", 1, 30}, {"get", 1, 20}} {
		rec := res.find("MainProcess", c.op)[c.index]
		if d := num(rec["t1"]) - num(rec["t0"]); d < c.ms*1e6 {
			t.Errorf("%s #%d returned after %d ns, before its timeout", c.op, c.index, d)
		}
	}
}

func TestQueueAcrossProcesses(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "Q", "type": "queue", "maxsize": 3}, {"name": "J", "type": "joinable_queue"}
	], "programs": {
		"producer": {"params": ["q"], "steps": [{"op": "repeat", "times": 10, "var": "k", "body": [
			{"op": "put", "on": "Q", "value": {"param": "k"}}]}]},
		"worker": {"params": ["j"], "steps": [{"op": "get_many", "on": "J", "n": 5},
			{"op": "repeat", "times": 5, "body": [{"op": "task_done", "on": "J"}]}]}
	}, "main": [
		{"op": "spawn", "as": "p", "program": "producer", "args": [{"ref": "Q"}]},
		{"op": "start", "proc": "p"},
		{"op": "repeat", "times": 10, "body": [{"op": "get", "on": "Q"}]},
		{"op": "join", "proc": "p"},
		{"op": "put_many", "on": "J", "n": 10},
		{"op": "repeat", "times": 2, "body": [{"op": "spawn", "as": "w", "program": "worker", "args": [{"ref": "J"}]}]},
		{"op": "start", "proc": "w"}, {"op": "join", "on": "J"}, {"op": "join", "proc": "w"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var gets []string
	for k := range 10 {
		gets = append(gets, string(appendValue(nil, int64(k), false)))
	}
	if got := res.outcomes("MainProcess", "get"); !slices.Equal(got, gets) {
		t.Errorf("get: %v, want %v", got, gets)
	}
	if got, want := res.outcomes("MainProcess", "join"), []string{"0", "null", "0", "0"}; !slices.Equal(got, want) {
		t.Errorf("join: %v, want %v", got, want)
	}
	for _, w := range []string{"Process-2", "Process-3"} {
		if got := res.outcomes(w, "get_many"); len(got) != 1 || !strings.Contains(got[0], `["count",5]`) {
			t.Errorf("%s get_many: %v", w, got)
		}
	}
}

// blobSum is the sha256 of {"blob": n}, in hex.
func blobSum(n int) string {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte(k % 251)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
