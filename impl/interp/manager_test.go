package interp

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestManagerScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"resources":[{"name":"m","type":"manager","serve":"udp"}],"main":[]}`, `manager.serve: want "unix" or "tcp"`},
		{`{"resources":[{"name":"d","type":"manager.dict"}],"main":[]}`, `no manager resource is declared before it`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"n","type":"manager"},{"name":"d","type":"manager.dict"}],"main":[]}`,
			`several managers`},
		{`{"resources":[{"name":"L","type":"lock"},{"name":"d","type":"manager.dict","manager":"L"}],"main":[]}`,
			`want the name of a manager resource`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"d","type":"manager.dict","init":[1]}],"main":[]}`,
			`manager.dict.init: want a dict value`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"L","type":"lock"},{"name":"d","type":"manager.list","init":[{"ref":"L"}]}],"main":[]}`,
			`"L" is no managed object`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"d","type":"manager.dict"}],"main":[{"op":"dict.get","on":"d"}]}`,
			`missing field "key"`},
		{`{"resources":[{"name":"m","type":"manager","serve":"unix"}],
		   "programs":{"f":{"params":[],"steps":[{"op":"manager.proxy","on":"c","name":"d","as":"x"}]}},
		   "main":[{"op":"spawn","as":"p","program":"f"}]}`, `no resource "c"`},
	} {
		res := drive(t, c.scenario)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.scenario, res.code, res.stderr, c.reason)
		}
	}
}

func TestManagerOpsInOneProcess(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "m", "type": "manager"},
		{"name": "l", "type": "manager.list", "init": [1, 2.0, "x"]},
		{"name": "d", "type": "manager.dict", "init": {"dict": [[6, "six"], ["l", {"ref": "l"}]]}},
		{"name": "ns", "type": "manager.namespace"},
		{"name": "v", "type": "manager.value", "typecode": "d", "init": 0.5},
		{"name": "lk", "type": "manager.lock"}
	], "main": [
		{"op": "dict.set", "on": "d", "key": "2", "value": 2},
		{"op": "dict.set", "on": "d", "key": 0.25, "value": null},
		{"op": "dict.set", "on": "d", "key": 6.0, "value": {"bytes": "AAE="}},
		{"op": "dict.get", "on": "d", "key": "6"}, {"op": "dict.get", "on": "d", "key": "6", "default": null},
		{"op": "dict.get", "on": "d", "key": 6}, {"op": "dict.get", "on": "d", "key": "l"},
		{"op": "dict.contains", "on": "d", "key": 0.25}, {"op": "dict.len", "on": "d"},
		{"op": "dict.setdefault", "on": "d", "key": "n", "value": 10},
		{"op": "dict.incr", "on": "d", "key": "n", "by": 5},
		{"op": "dict.incr", "on": "d", "key": "n", "by": 0.5, "lock": "lk"},
		{"op": "dict.incr", "on": "d", "key": "missing"},
		{"op": "dict.pop", "on": "d", "key": "n"}, {"op": "dict.del", "on": "d", "key": "n"},
		{"op": "dict.del", "on": "d", "key": 0.25},
		{"op": "dict.update", "on": "d", "value": {"dict": [[true, "t"], [1, "one"]]}},
		{"op": "dict.copy", "on": "d"},
		{"op": "list.extend", "on": "l", "value": [7, 8]},
		{"op": "list.insert", "on": "l", "index": 0, "value": "first"},
		{"op": "list.get", "on": "l", "index": 1}, {"op": "list.get", "on": "l", "index": 99},
		{"op": "list.set", "on": "l", "index": 99, "value": 1}, {"op": "list.set", "on": "l", "index": 1, "value": 1.5},
		{"op": "list.remove", "on": "l", "value": 2}, {"op": "list.remove", "on": "l", "value": "nope"},
		{"op": "list.pop", "on": "l"}, {"op": "list.pop", "on": "l", "index": 0},
		{"op": "list.append", "on": "l", "value": {"ref": "ns"}},
		{"op": "list.reverse", "on": "l"}, {"op": "list.len", "on": "l"}, {"op": "list.copy", "on": "l"},
		{"op": "ns.set", "on": "ns", "attr": "x", "value": [1, {"dict": [[null, 1.5]]}]},
		{"op": "ns.get", "on": "ns", "attr": "x"}, {"op": "ns.get", "on": "ns", "attr": "y"},
		{"op": "value.get", "on": "v"}, {"op": "value.set", "on": "v", "value": 2},
		{"op": "value.incr", "on": "v", "by": 3},
		{"op": "dict.set_many", "on": "d", "n": 100, "start": 1000},
		{"op": "dict.get_many", "on": "d", "n": 100, "start": 1000},
		{"op": "dict.get_many", "on": "d", "n": 100, "start": 1050},
		{"op": "manager.connect", "on": "m", "as": "c"},
		{"op": "manager.shutdown", "on": "m"},
		{"op": "dict.get", "on": "d", "key": 6}, {"op": "list.len", "on": "l"}, {"op": "value.incr", "on": "v"},
		{"op": "manager.shutdown", "on": "m"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string][]string{
		"dict.get":         {"!KeyError", "null", `{"bytes":"AAE="}`, `{"ref":"l"}`, "!Closed"},
		"dict.contains":    {"true"},
		"dict.len":         {"4"},
		"dict.setdefault":  {"10"},
		"dict.incr":        {"15", "15.5", "!KeyError"},
		"dict.pop":         {"15.5"},
		"dict.del":         {"!KeyError", "null"},
		"dict.update":      {"null"},
		"dict.copy":        {`{"dict":[[6,{"bytes":"AAE="}],["l",{"ref":"l"}],["2",2],[true,"one"]]}`},
		"list.get":         {"1", "!IndexError"},
		"list.set":         {"!IndexError", "null"},
		"list.remove":      {"null", "!ValueError"}, // 2 == 2.0
		"list.pop":         {"8", `"first"`},
		"list.len":         {"4", "!Closed"},
		"list.copy":        {`[{"ref":"ns"},7,"x",1.5]`},
		"ns.get":           {`[1,{"dict":[[null,1.5]]}]`, "!KeyError"},
		"value.get":        {"0.5"},
		"value.incr":       {"5", "!Closed"},
		"dict.set_many":    {"100"},
		"dict.get_many":    {"100", "!KeyError"},
		"manager.connect":  {"!Error"},
		"manager.shutdown": {"null", "null"},
	}
	for op, w := range want {
		if got := res.outcomes("MainProcess", op); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", op, got, w)
		}
	}
}

// The tutorial's program, as manager.final-state has it: ten processes
// each set d[i] = '1', d['2'] = 2, d[0.25] = None and append i to l.
func TestManagerTutorialFinalState(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "m", "type": "manager"},
		{"name": "d", "type": "manager.dict", "manager": "m"},
		{"name": "l", "type": "manager.list", "manager": "m", "init": [0, 1, 2, 3, 4]}
	], "programs": {"f": {"params": ["d", "l", "i"], "steps": [
		{"op": "dict.set", "on": "d", "key": {"param": "i"}, "value": "1"},
		{"op": "dict.set", "on": "d", "key": "2", "value": 2},
		{"op": "dict.set", "on": "d", "key": 0.25, "value": null},
		{"op": "list.append", "on": "l", "value": {"param": "i"}}
	]}}, "main": [
		{"op": "repeat", "times": 10, "var": "k", "body": [
			{"op": "spawn", "as": "p", "program": "f", "args": [{"ref": "d"}, {"ref": "l"}, {"param": "k"}]}]},
		{"op": "start", "proc": "p"}, {"op": "join", "proc": "p"},
		{"op": "dict.len", "on": "d"}, {"op": "dict.get", "on": "d", "key": 0.25},
		{"op": "dict.get", "on": "d", "key": "2"}, {"op": "dict.get", "on": "d", "key": 9},
		{"op": "list.copy", "on": "l"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got := res.outcomes("MainProcess", "dict.len"); !slices.Equal(got, []string{"12"}) {
		t.Errorf("dict.len %v", got)
	}
	if got := res.outcomes("MainProcess", "dict.get"); !slices.Equal(got, []string{"null", "2", `"1"`}) {
		t.Errorf("dict.get %v", got)
	}
	list := res.find("MainProcess", "list.copy")
	if len(list) != 1 {
		t.Fatalf("list.copy records: %v", list)
	}
	var items []int
	for _, v := range list[0]["value"].([]any) {
		items = append(items, int(num(v)))
	}
	tail := slices.Clone(items[5:])
	sort.Ints(tail)
	if !slices.Equal(items[:5], []int{0, 1, 2, 3, 4}) || !slices.Equal(tail, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("list %v", items)
	}
}

func TestManagerRemoteAndShutdownInChildren(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "m", "type": "manager", "serve": "unix", "authkey": "s3cret"},
		{"name": "d", "type": "manager.dict", "manager": "m"},
		{"name": "t", "type": "manager", "serve": "tcp"},
		{"name": "tl", "type": "manager.list", "manager": "t"}
	], "programs": {
		"client": {"params": ["m", "t"], "steps": [
			{"op": "manager.connect", "on": "m", "as": "c"},
			{"op": "manager.proxy", "on": "c", "name": "d", "as": "dd"},
			{"op": "dict.set", "on": "dd", "key": "child", "value": true},
			{"op": "manager.connect", "on": "t", "authkey": "bad", "as": "bad"},
			{"op": "manager.connect", "on": "t", "as": "tc"},
			{"op": "manager.proxy", "on": "tc", "name": "tl", "as": "l2"},
			{"op": "list.append", "on": "l2", "value": "child"},
			{"op": "manager.proxy", "on": "tc", "name": "d", "as": "nope"},
			{"op": "manager.shutdown", "on": "t"},
			{"op": "list.len", "on": "l2"}
		]}
	}, "main": [
		{"op": "manager.connect", "on": "m", "authkey": "wrong", "as": "x"},
		{"op": "manager.connect", "on": "m", "authkey": "s3cret", "as": "c"},
		{"op": "manager.proxy", "on": "c", "name": "d", "as": "d2"},
		{"op": "dict.set", "on": "d2", "key": 1, "value": "via connection"},
		{"op": "spawn", "as": "p", "program": "client", "args": [{"ref": "m"}, {"ref": "t"}]},
		{"op": "start", "proc": "p"}, {"op": "join", "proc": "p"},
		{"op": "dict.copy", "on": "d"}, {"op": "list.len", "on": "tl"},
		{"op": "manager.connect", "on": "t", "as": "late"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, c := range []struct {
		proc, op string
		want     []string
	}{
		{"MainProcess", "manager.connect", []string{"!AuthError", "null", "!Closed"}},
		{"MainProcess", "dict.copy", []string{`{"dict":[[1,"via connection"],["child",true]]}`}},
		{"MainProcess", "list.len", []string{"!Closed"}},
		{"Process-3", "manager.connect", []string{"null", "!AuthError", "null"}},
		{"Process-3", "manager.proxy", []string{"null", "null", "!Error"}},
		{"Process-3", "list.append", []string{"null"}},
		{"Process-3", "manager.shutdown", []string{"null"}},
		{"Process-3", "list.len", []string{"!Closed"}},
	} {
		if got := res.outcomes(c.proc, c.op); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.proc, c.op, got, c.want)
		}
	}
}
