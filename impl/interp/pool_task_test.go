package interp

import (
	"reflect"
	"slices"
	"testing"
)

func TestPoolCallTravels(t *testing.T) {
	c := poolCall{Program: "prog", Args: []any{int64(1), "x", Dict{{int64(1), Float(2)}}, nil}}
	b, err := c.AppendBinary([]byte("head"))
	if err != nil {
		t.Fatal(err)
	}
	var got poolCall
	if err := got.UnmarshalBinary(b[4:]); err != nil {
		t.Fatal(err)
	}
	if got.Program != c.Program || !reflect.DeepEqual(got.Args, c.Args) {
		t.Errorf("%+v came back as %+v", c, got)
	}
	for _, bad := range []string{"", "\x05ab", "\x02ab", "\x01a1", "\x01a[1"} {
		if err := new(poolCall).UnmarshalBinary([]byte(bad)); err == nil {
			t.Errorf("UnmarshalBinary(%q) succeeded", bad)
		}
	}
}

// TestPoolTaskRecords checks what a worker records, held or not: a map of
// tasks that only return or raise (held until their job ends) and tasks
// that sleep or wait (written as they run), every record in order; and a
// task killed where it waits has what it recorded before written.
func TestPoolTaskRecords(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [{"name": "E", "type": "event"},
		{"name": "P", "type": "pool", "processes": 1, "initializer": "init", "initargs": [{"ref": "E"}]}],
	"programs": {
		"init": {"params": ["e"], "steps": []},
		"id": {"params": ["x"], "steps": [{"op": "return", "value": {"param": "x"}}]},
		"fail": {"params": ["x"], "steps": [{"op": "raise", "message": "no"}]},
		"nap": {"params": ["x"], "steps": [{"op": "sleep", "ms": 0}, {"op": "return", "value": {"param": "x"}}]},
		"long": {"params": [], "steps": [{"op": "is_set", "on": "E"}, {"op": "set", "on": "E"}, {"op": "sleep", "ms": 60000}]}
	}, "main": [
		{"op": "pool.map", "on": "P", "program": "id", "range": 7, "chunksize": 3},
		{"op": "pool.map", "on": "P", "program": "nap", "range": 2},
		{"op": "pool.map", "on": "P", "program": "fail", "range": 2},
		{"op": "pool.apply_async", "on": "P", "program": "long", "as": "l"},
		{"op": "wait", "on": "E"},
		{"op": "pool.terminate", "on": "P"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var ops []string
	seq := int64(0)
	for _, rec := range res.records {
		if rec["proc"] != "PoolWorker-1" {
			continue
		}
		if n := num(rec["seq"]); n != seq {
			t.Fatalf("record %d has seq %d", seq, n)
		}
		seq++
		op, _ := rec["op"].(string)
		if in, ok := rec["in"].(map[string]any); ok && op == "task.begin" {
			op += " " + in["program"].(string)
		}
		ops = append(ops, op)
	}
	var want []string
	want = append(want, "process.begin")
	for range 7 {
		want = append(want, "task.begin id", "return", "task.end")
	}
	for range 2 {
		want = append(want, "task.begin nap", "sleep", "sleep", "return", "task.end") // sleep's pending record, then its end
	}
	for range 2 {
		want = append(want, "task.begin fail", "task.end")
	}
	// The worker may be killed once set has run: what follows it may be
	// missing, what comes before it may not.
	want = append(want, "task.begin long", "is_set")
	if len(ops) > len(want) && len(ops) <= len(want)+2 && slices.Equal(ops[len(want):], []string{"set", "sleep"}[:len(ops)-len(want)]) {
		ops = ops[:len(want)]
	}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("the worker recorded\n%q\nwant\n%q", ops, want)
	}
	if got := res.outcomes("MainProcess", "pool.map"); !reflect.DeepEqual(got, []string{"[0,1,2,3,4,5,6]", "[0,1]", "!TaskError"}) {
		t.Errorf("pool.map: %v", got)
	}
}
