package interp

import (
	"slices"
	"strings"
	"testing"
)

func TestPoolOps(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "L", "type": "lock"},
		{"name": "P", "type": "pool", "processes": 2, "initializer": "init", "initargs": [{"ref": "L"}, "hi"]}
	], "programs": {
		"init": {"params": ["l", "s"], "steps": [{"op": "acquire", "on": "L"}, {"op": "release", "on": "L"}]},
		"id": {"params": ["x"], "steps": [{"op": "return", "value": {"param": "x"}}]},
		"pair": {"params": ["a", "b"], "steps": [{"op": "return", "value": [{"param": "b"}, {"param": "a"}]}]},
		"none": {"params": [], "steps": [{"op": "emit", "value": "ran"}]},
		"fail": {"params": ["m"], "steps": [{"op": "raise", "message": {"param": "m"}}]},
		"slow": {"params": [], "steps": [{"op": "sleep", "ms": 2000}, {"op": "return", "value": 1}]}
	}, "main": [
		{"op": "pool.join", "on": "P"},
		{"op": "pool.apply", "on": "P", "program": "id", "args": [{"dict": [[1, 2.0]]}]},
		{"op": "pool.apply", "on": "P", "program": "none"},
		{"op": "pool.apply", "on": "P", "program": "fail", "args": ["boom"]},
		{"op": "pool.map", "on": "P", "program": "id", "range": 5},
		{"op": "pool.map", "on": "P", "program": "id", "items": ["a", null], "chunksize": 1},
		{"op": "pool.map", "on": "P", "program": "fail", "items": ["x", "y"]},
		{"op": "pool.starmap", "on": "P", "program": "pair", "items": [[1, 2], [3, 4]]},
		{"op": "pool.imap", "on": "P", "program": "id", "range": 3},
		{"op": "pool.imap_unordered", "on": "P", "program": "id", "items": [7]},
		{"op": "pool.apply_async", "on": "P", "program": "id", "args": [1], "as": "r", "callback": true},
		{"op": "pool.apply_async", "on": "P", "program": "id", "args": [2], "as": "r"},
		{"op": "pool.apply_async", "on": "P", "program": "fail", "args": ["bad"], "as": "f", "error_callback": true},
		{"op": "pool.map_async", "on": "P", "program": "id", "range": 2, "as": "m"},
		{"op": "pool.starmap_async", "on": "P", "program": "pair", "items": [[5, 6]], "as": "s"},
		{"op": "result.get", "result": "r"},
		{"op": "result.wait", "result": "f"},
		{"op": "result.successful", "result": "f"},
		{"op": "result.get", "result": "f"},
		{"op": "result.get", "result": "m"},
		{"op": "result.get", "result": "s"},
		{"op": "result.ready", "result": "s"},
		{"op": "pool.apply_many", "on": "P", "program": "id", "args": [0], "n": 50},
		{"op": "pool.apply_async", "on": "P", "program": "slow", "as": "t"},
		{"op": "result.get", "result": "t", "timeout": 1},
		{"op": "result.successful", "result": "t"},
		{"op": "pool.close", "on": "P"},
		{"op": "pool.apply", "on": "P", "program": "none"},
		{"op": "pool.terminate", "on": "P"},
		{"op": "result.get", "result": "t"},
		{"op": "pool.join", "on": "P"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string][]string{
		"pool.join":           {"!NotAllowed", "null"},
		"pool.apply":          {`{"dict":[[1,2.0]]}`, "null", "!TaskError", "!NotAllowed"},
		"pool.map":            {"[0,1,2,3,4]", `["a",null]`, "!TaskError"},
		"pool.starmap":        {"[[2,1],[4,3]]"},
		"pool.imap":           {"[0,1,2]"},
		"pool.imap_unordered": {"[7]"},
		"pool.imap.item":      {"[0,0]", "[1,1]", "[2,2]", "[0,7]"},
		"pool.callback":       {"1"},
		"pool.error_callback": {"!TaskError"},
		"result.get":          {"1", "2", "!TaskError", "[0,1]", "[[6,5]]", "!Timeout", "!Closed"},
		"result.wait":         {"null"},
		"result.successful":   {"false", "!ValueError"},
		"result.ready":        {"true"},
		"pool.apply_many":     {"50"},
	}
	for op, w := range want {
		if got := res.outcomes("MainProcess", op); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", op, got, w)
		}
	}
	for _, rec := range res.find("MainProcess", "pool.apply") {
		if e, _ := rec["error"].(map[string]any); e != nil && e["kind"] == "TaskError" && e["message"] != "boom" {
			t.Errorf("TaskError message %q, want the raise's", e["message"])
		}
	}
	// Each task ran once, in a worker, between task.begin and task.end.
	var workers []string
	for _, rec := range res.find("", "process.begin") {
		if name := rec["proc"].(string); strings.HasPrefix(name, "PoolWorker-") {
			workers = append(workers, name)
		}
	}
	if len(workers) != 2 {
		t.Errorf("workers %v, want 2", workers)
	}
	begins, ends := res.find("", "task.begin"), res.find("", "task.end")
	// apply 3, map 5+2+2, starmap 2, imap 3+1, async 3+2+1, apply_many 50, slow 1
	if len(begins) != 75 || len(ends) != 74 {
		t.Errorf("%d task.begin and %d task.end records, want 75 and 74 (the last task terminated)", len(begins), len(ends))
	}
	for _, rec := range res.find("", "acquire") {
		if !strings.HasPrefix(rec["proc"].(string), "PoolWorker-") {
			t.Errorf("the initializer ran in %s", rec["proc"])
		}
	}
}

// TestPoolWorkerLost crashes and exits workers from tasks: those tasks fail
// with WorkerLost, the others complete, and join returns.
func TestPoolWorkerLost(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [{"name": "P", "type": "pool", "processes": 2}],
	"programs": {
		"id": {"params": ["x"], "steps": [{"op": "return", "value": {"param": "x"}}]},
		"crash": {"params": [], "steps": [{"op": "crash", "signal": "SIGKILL"}]},
		"leave": {"params": [], "steps": [{"op": "exit", "code": 3}]}
	}, "main": [
		{"op": "repeat", "times": 5, "var": "k", "body": [
			{"op": "pool.apply_async", "on": "P", "program": "id", "args": [{"param": "k"}], "as": "a"}]},
		{"op": "pool.apply_async", "on": "P", "program": "crash", "as": "lost"},
		{"op": "pool.apply_async", "on": "P", "program": "leave", "as": "lost"},
		{"op": "repeat", "times": 5, "var": "k", "body": [
			{"op": "pool.apply_async", "on": "P", "program": "id", "args": [{"param": "k"}], "as": "a"}]},
		{"op": "result.get", "result": "lost"},
		{"op": "result.get", "result": "a"},
		{"op": "pool.close", "on": "P"},
		{"op": "pool.join", "on": "P"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string][]string{
		"result.get": {"!WorkerLost", "!WorkerLost", "0", "1", "2", "3", "4", "0", "1", "2", "3", "4"},
		"pool.join":  {"null"},
	}
	for op, w := range want {
		if got := res.outcomes("MainProcess", op); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", op, got, w)
		}
	}
}
