package interp

import (
	"slices"
	"strings"
	"testing"
)

func TestConnectionScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"resources":[{"name":"P","type":"pipe","duplex":1}],"main":[]}`, `pipe.duplex: want a bool`},
		{`{"resources":[{"name":"P","type":"pipe"}],"main":[{"op":"send","on":"P.2","value":1}]}`, `no resource "P.2"`},
		{`{"resources":[{"name":"P","type":"pipe"}],
		   "programs":{"f":{"params":["c"],"steps":[{"op":"send","on":"P.1","value":1}]}},
		   "main":[{"op":"spawn","as":"p","program":"f","args":[{"ref":"P.0"}]}]}`, `uses resource "P.1"`},
	} {
		res := drive(t, c.scenario)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.scenario, res.code, res.stderr, c.reason)
		}
	}
}

func TestPipeAcrossProcesses(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "P", "type": "pipe"}, {"name": "S", "type": "pipe", "duplex": false}
	], "programs": {
		"child": {"params": ["c"], "steps": [{"op": "send", "on": "P.1", "value": "爸爸你好!"},
			{"op": "recv", "on": "P.1"}, {"op": "echo_many", "on": "P.1", "n": 100},
			{"op": "recv_bytes", "on": "P.1"}, {"op": "send_bytes", "on": "P.1", "value": {"blob": 3000000}},
			{"op": "close", "on": "P.1"}]},
		"writer": {"params": ["w"], "steps": [{"op": "send_many", "on": "S.1", "n": 1000},
			{"op": "recv", "on": "S.1"}]}
	}, "main": [
		{"op": "spawn", "as": "c", "program": "child", "args": [{"ref": "P.1"}]},
		{"op": "start", "proc": "c"}, {"op": "close", "on": "P.1"},
		{"op": "poll", "on": "P.0", "timeout": 5000},
		{"op": "recv", "on": "P.0"}, {"op": "send", "on": "P.0", "value": [1, "two"]},
		{"op": "roundtrip_many", "on": "P.0", "n": 100, "size": 100},
		{"op": "send_bytes", "on": "P.0", "value": {"bytes": ""}},
		{"op": "recv_bytes", "on": "P.0"},
		{"op": "recv", "on": "P.0"}, {"op": "poll", "on": "P.0"}, {"op": "join", "proc": "c"},
		{"op": "spawn", "as": "s", "program": "writer", "args": [{"ref": "S.1"}]},
		{"op": "start", "proc": "s"}, {"op": "close", "on": "S.1"},
		{"op": "recv_many", "on": "S.0", "n": 1000}, {"op": "recv", "on": "S.0"}, {"op": "send", "on": "S.0", "value": 1},
		{"op": "join", "proc": "s"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string]map[string][]string{
		"MainProcess": {
			"join":           {"0", "0"},
			"poll":           {"true", "true"},
			"recv":           {`"爸爸你好!"`, "!EOF", "!EOF"},
			"roundtrip_many": {"100"},
			"recv_bytes":     {`{"digest":{"len":3000000,"sha256":"` + blobSum(3000000) + `"}}`},
			"recv_many":      {`{"dict":[["count",1000],["sum",499500]]}`},
			"send":           {"null", "!NotAllowed"},
		},
		"Process-1": {"recv": {`[1,"two"]`}, "echo_many": {"100"}, "recv_bytes": {`{"bytes":""}`}, "send_bytes": {"null"}},
		"Process-2": {"send_many": {"1000"}, "recv": {"!NotAllowed"}},
	}
	for proc, ops := range want {
		for op, w := range ops {
			if got := res.outcomes(proc, op); !slices.Equal(got, w) {
				t.Errorf("%s %s: %v, want %v", proc, op, got, w)
			}
		}
	}
}
