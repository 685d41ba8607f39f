package interp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSyncScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"main":[{"op":"acquire","on":"L"}]}`, `main/0: field "on": no resource "L"`},
		{`{"resources":[{"name":"L","type":"lock"}],"main":[{"op":"acquire"}]}`, `missing field "on"`},
		{`{"resources":[{"name":"L","type":"lock"}],"main":[{"op":"acquire","on":"L","block":1}]}`, `field "block": want a bool`},
		{`{"resources":[{"name":"L","type":"lock"}],"main":[{"op":"acquire","on":"L","n":1}]}`, `unknown field "n"`},
		{`{"resources":[{"name":"L","type":"lock"}],"main":[{"op":"emit","value":{"ref":"M"}}]}`, `no resource "M"`},
		{`{"resources":[{"name":"L","type":"lock"},{"name":"L","type":"event"}],"main":[]}`, `resource "L" is declared twice`},
		{`{"resources":[{"name":"L","type":"lock","value":1}],"main":[]}`, `lock: unknown field "value"`},
		{`{"resources":[{"type":"lock"}],"main":[]}`, `missing resource "name"`},
		// A negative value is well formed: the semaphore refuses it (§5).
		{`{"resources":[{"name":"S","type":"semaphore","value":2147483648}],"main":[]}`, `semaphore.value: want an integer from -2147483648 to 2147483647`},
		{`{"resources":[{"name":"S","type":"bounded_semaphore","value":-2147483649}],"main":[]}`, `bounded_semaphore.value: want an integer from -2147483648`},
		{`{"resources":[{"name":"C","type":"condition","lock":"L"},{"name":"L","type":"lock"}],"main":[]}`, `condition.lock: want the name of a lock or rlock resource declared before it`},
		{`{"resources":[{"name":"E","type":"event"},{"name":"C","type":"condition","lock":"E"}],"main":[]}`, `condition.lock: want the name of a lock or rlock`},
		{`{"resources":[{"name":"B","type":"barrier"}],"main":[]}`, `barrier: missing field "parties"`},
		{`{"resources":[{"name":"B","type":"barrier","parties":0}],"main":[]}`, `barrier.parties: want an integer >= 1`},
		{`{"resources":[{"name":"B","type":"barrier","parties":2,"action":"nope"}],"main":[]}`, `barrier.action: no program "nope"`},
		{`{"programs":{"a":{"params":["x"],"steps":[]}},"resources":[{"name":"B","type":"barrier","parties":2,"action":"a"}],"main":[]}`, `an action takes none`},
		{`{"resources":[{"name":"B","type":"barrier","parties":2,"timeout":"1"}],"main":[]}`, `barrier.timeout: want a number`},
		{`{"resources":[{"name":"C","type":"condition"}],"main":[{"op":"wait_for","on":"C","until":[]}]}`, `a step must be an object`},
		{`{"resources":[{"name":"C","type":"condition"}],"main":[{"op":"wait_for","on":"C","until":{"op":"nope"}}]}`, `main/0/until: unknown op "nope"`},
		{`{"resources":[{"name":"C","type":"condition"}],"main":[{"op":"wait_for","on":"C"}]}`, `missing field "until"`},
		// A child holds only what it is passed.
		{`{"resources":[{"name":"L","type":"lock"},{"name":"M","type":"lock"}],
		   "programs":{"f":{"params":["l"],"steps":[{"op":"acquire","on":"M"}]}},
		   "main":[{"op":"spawn","as":"p","program":"f","args":[{"ref":"L"}]}]}`, `f/0: program "f" uses resource "M", which no spawn passes to it`},
		{`{"resources":[{"name":"L","type":"lock"}],
		   "programs":{"f":{"steps":[{"op":"emit","value":{"ref":"L"}}]}},
		   "main":[{"op":"spawn","as":"p","program":"f"}]}`, `program "f" uses resource "L"`},
	} {
		res := drive(t, c.scenario)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "driver: scenario error: ") || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.scenario, res.code, res.stderr, c.reason)
		}
		if len(res.records) != 0 {
			t.Errorf("%s: ran although invalid", c.scenario)
		}
	}
}

// outcomes returns "value" or "!Kind" for each completed record of op by proc.
func (r result) outcomes(proc, op string) []string {
	var out []string
	for _, rec := range r.find(proc, op) {
		if rec["ok"] == true {
			if val, err := decodeValue(rec["value"], false); err != nil {
				// A trace-only form, such as a digest: as written.
				raw, _ := json.Marshal(rec["value"])
				out = append(out, string(raw))
			} else {
				out = append(out, string(appendValue(nil, val, false)))
			}
		} else {
			out = append(out, "!"+rec["error"].(map[string]any)["kind"].(string))
		}
	}
	return out
}

// jsonToValue turns a decoded record value (numbers as json.Number) into a
// value of this package, to print it as the driver would.
func jsonToValue(v any) any {
	val, err := decodeValue(v, false)
	if err != nil {
		return v
	}
	return val
}

func TestSyncOpsInOneProcess(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "L", "type": "lock"}, {"name": "R", "type": "rlock"},
		{"name": "S", "type": "semaphore", "value": 2}, {"name": "BS", "type": "bounded_semaphore"},
		{"name": "E", "type": "event"}, {"name": "C", "type": "condition", "lock": "L"},
		{"name": "B", "type": "barrier", "parties": 2, "timeout": 10}
	], "main": [
		{"op": "acquire", "on": "L"}, {"op": "acquire", "on": "L", "block": false},
		{"op": "acquire", "on": "L", "timeout": 30}, {"op": "release", "on": "L"}, {"op": "release", "on": "L"},
		{"op": "acquire", "on": "R"}, {"op": "acquire", "on": "R", "block": false},
		{"op": "release", "on": "R"}, {"op": "release", "on": "R"}, {"op": "release", "on": "R"},
		{"op": "acquire", "on": "S"}, {"op": "get_value", "on": "S"}, {"op": "release", "on": "S"},
		{"op": "release", "on": "S"}, {"op": "get_value", "on": "S"}, {"op": "release", "on": "BS"},
		{"op": "is_set", "on": "E"}, {"op": "wait", "on": "E", "timeout": 20}, {"op": "set", "on": "E"},
		{"op": "is_set", "on": "E"}, {"op": "wait", "on": "E"}, {"op": "clear", "on": "E"},
		{"op": "wait", "on": "C", "timeout": 1}, {"op": "notify", "on": "C"}, {"op": "notify_all", "on": "C"},
		{"op": "acquire", "on": "C"}, {"op": "wait", "on": "C", "timeout": 20}, {"op": "notify", "on": "C", "n": 3},
		{"op": "wait_for", "on": "C", "until": {"op": "is_set", "on": "E"}, "timeout": 20},
		{"op": "set", "on": "E"},
		{"op": "wait_for", "on": "C", "until": {"op": "get_value", "on": "S"}},
		{"op": "release", "on": "C"},
		{"op": "parties", "on": "B"}, {"op": "n_waiting", "on": "B"}, {"op": "broken", "on": "B"},
		{"op": "wait", "on": "B"}, {"op": "broken", "on": "B"}, {"op": "wait", "on": "B", "timeout": 1000},
		{"op": "reset", "on": "B"}, {"op": "broken", "on": "B"}, {"op": "abort", "on": "B"}, {"op": "broken", "on": "B"},
		{"op": "acquire_release_many", "on": "L", "n": 1000}, {"op": "acquire_release_many", "on": "S", "n": 10},
		{"op": "get_value", "on": "L"}, {"op": "wait", "on": "L"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := map[string][]string{
		"acquire":              {"true", "false", "false", "true", "true", "true", "true"},
		"release":              {"null", "!ValueError", "null", "null", "!NotAllowed", "null", "null", "!ValueError", "null"},
		"get_value":            {"1", "3", "!Error"},
		"is_set":               {"false", "true"},
		"wait":                 {"false", "true", "!NotAllowed", "false", "!Broken", "!Broken", "!Error"},
		"notify":               {"!NotAllowed", "null"},
		"notify_all":           {"!NotAllowed"},
		"wait_for":             {"false", "3"},
		"parties":              {"2"},
		"n_waiting":            {"0"},
		"broken":               {"false", "true", "false", "true"},
		"acquire_release_many": {"1000", "10"},
	}
	for op, w := range want {
		if got := res.outcomes("MainProcess", op); !slices.Equal(got, w) {
			t.Errorf("%s: %v, want %v", op, got, w)
		}
	}
	// Blocking ops write a pending record first.
	pending := map[string]int{}
	for _, rec := range res.records {
		if rec["pending"] == true {
			pending[rec["op"].(string)]++
		}
	}
	for op, n := range map[string]int{"acquire": 7, "wait": 6, "wait_for": 2, "acquire_release_many": 2} {
		if pending[op] != n {
			t.Errorf("%d pending records for %s, want %d", pending[op], op, n)
		}
	}
	// A timed-out acquire or wait returns no earlier than its timeout.
	for _, c := range []struct {
		op    string
		index int
		ms    int64
	}{{"acquire", 2, 30}, {"wait", 0, 20}, {"wait", 3, 20}, {"wait_for", 0, 20}} {
		rec := res.find("MainProcess", c.op)[c.index]
		if d := num(rec["t1"]) - num(rec["t0"]); d < c.ms*1e6 {
			t.Errorf("%s #%d returned after %d ns, before its timeout", c.op, c.index, d)
		}
	}
	// The predicate of wait_for is not recorded.
	if n := len(res.find("MainProcess", "is_set")); n != 2 {
		t.Errorf("%d is_set records: the predicate was recorded", n)
	}
}

func TestSyncAcrossProcesses(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [
		{"name": "L", "type": "lock"}, {"name": "M", "type": "lock"},
		{"name": "C", "type": "condition"}, {"name": "ready", "type": "semaphore", "value": 0},
		{"name": "B", "type": "barrier", "parties": 3, "action": "act"}
	], "programs": {
		"releaser": {"params": ["l"], "steps": [{"op": "release", "on": "L"}]},
		"user": {"params": ["l"], "steps": [{"op": "acquire", "on": "L", "block": false}]},
		"waiter": {"params": ["c", "r"], "steps": [
			{"op": "acquire", "on": "C"}, {"op": "release", "on": "ready"},
			{"op": "wait", "on": "C"}, {"op": "release", "on": "C"}]},
		"party": {"params": ["b"], "steps": [{"op": "wait", "on": "B"}, {"op": "wait", "on": "B"}]},
		"act": {"steps": [{"op": "emit", "value": "action"}]}
	}, "main": [
		{"op": "acquire", "on": "L"},
		{"op": "spawn", "as": "r", "program": "releaser", "args": [{"ref": "L"}]},
		{"op": "start", "proc": "r"}, {"op": "join", "proc": "r"},
		{"op": "acquire", "on": "L", "block": false},
		{"op": "spawn", "as": "u", "program": "user", "args": [{"ref": "L"}]},
		{"op": "spawn", "as": "u", "program": "user", "args": [{"ref": "M"}]},
		{"op": "start", "proc": "u"}, {"op": "join", "proc": "u"},
		{"op": "repeat", "times": 2, "body": [
			{"op": "spawn", "as": "w", "program": "waiter", "args": [{"ref": "C"}, {"ref": "ready"}]}]},
		{"op": "start", "proc": "w"},
		{"op": "acquire", "on": "ready"}, {"op": "acquire", "on": "ready"},
		{"op": "acquire", "on": "C"}, {"op": "notify_all", "on": "C"}, {"op": "release", "on": "C"},
		{"op": "join", "proc": "w"},
		{"op": "repeat", "times": 3, "body": [{"op": "spawn", "as": "p", "program": "party", "args": [{"ref": "B"}]}]},
		{"op": "start", "proc": "p"}, {"op": "join", "proc": "p"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got := res.outcomes("Process-1", "release"); !slices.Equal(got, []string{"null"}) {
		t.Errorf("a child's release of main's lock: %v", got)
	}
	if got := res.outcomes("MainProcess", "acquire"); !slices.Equal(got, []string{"true", "true", "true", "true", "true"}) {
		t.Errorf("main's acquires: %v", got)
	}
	// Process-2 was given L, which main holds; Process-3 was given M, not L.
	if got := res.outcomes("Process-2", "acquire"); !slices.Equal(got, []string{"false"}) {
		t.Errorf("Process-2: %v", got)
	}
	if got := res.outcomes("Process-3", "acquire"); !slices.Equal(got, []string{"!Error"}) {
		t.Errorf("Process-3 used a lock it was not given: %v", got)
	}
	for _, w := range []string{"Process-4", "Process-5"} {
		if got := res.outcomes(w, "wait"); !slices.Equal(got, []string{"true"}) {
			t.Errorf("%s: wait %v", w, got)
		}
	}
	// Barrier: each round, indices 0, 1, 2, and the action once, run by
	// the party that got 2, before its wait returned.
	var idx []string
	actions := 0
	for _, p := range []string{"Process-6", "Process-7", "Process-8"} {
		waits := res.find(p, "wait")
		emits := res.find(p, "emit")
		for _, w := range waits {
			idx = append(idx, string(w["value"].(interface{ String() string }).String()))
		}
		for _, e := range emits {
			actions++
			if e["step"] != "act/0" {
				t.Errorf("action step %v", e["step"])
			}
			ok := false
			for _, w := range waits {
				if w["value"].(interface{ String() string }).String() == "2" && num(w["t0"]) <= num(e["t0"]) && num(e["t1"]) <= num(w["t1"]) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s ran the action outside a wait that returned 2", p)
			}
		}
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []string{"0", "0", "1", "1", "2", "2"}) {
		t.Errorf("barrier indices %v", idx)
	}
	if actions != 2 {
		t.Errorf("the action ran %d times in 2 rounds", actions)
	}
}

func TestBarrierActionRaises(t *testing.T) {
	res := drive(t, `{"protocol": 1, "resources": [{"name": "B", "type": "barrier", "parties": 2, "action": "act"}],
	"programs": {
		"party": {"params": ["b"], "steps": [{"op": "wait", "on": "B"}, {"op": "emit", "value": "after"}]},
		"act": {"steps": [{"op": "raise", "message": "boom"}]}
	}, "main": [
		{"op": "repeat", "times": 2, "body": [{"op": "spawn", "as": "p", "program": "party", "args": [{"ref": "B"}]}]},
		{"op": "start", "proc": "p"}, {"op": "join", "proc": "p"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var outcomes []string
	for _, p := range []string{"Process-1", "Process-2"} {
		outcomes = append(outcomes, strings.Join(res.outcomes(p, "wait"), ",")+"|"+strings.Join(res.outcomes(p, "emit"), ","))
	}
	slices.Sort(outcomes)
	// The party that ran the action ends there (its wait has only its
	// pending record); the other's wait fails with Broken and it goes on.
	if want := []string{"!Broken|\"after\"", "|"}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %q, want %q", outcomes, want)
	}
	codes := res.outcomes("MainProcess", "join")
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"0", "1"}) {
		t.Errorf("exit codes %v, want 0 and 1", codes)
	}
}

func TestResourcePassedOn(t *testing.T) {
	// A child passes the lock it was given to its own child, which releases it.
	res := drive(t, `{"protocol": 1, "resources": [{"name": "L", "type": "lock"}], "programs": {
		"relay": {"params": ["l"], "steps": [
			{"op": "spawn", "as": "g", "program": "releaser", "args": [{"param": "l"}]},
			{"op": "start", "proc": "g"}, {"op": "join", "proc": "g"}]},
		"releaser": {"params": ["l"], "steps": [{"op": "release", "on": "L"}]}
	}, "main": [
		{"op": "acquire", "on": "L"},
		{"op": "spawn", "as": "r", "program": "relay", "args": [{"ref": "L"}]},
		{"op": "start", "proc": "r"}, {"op": "join", "proc": "r"},
		{"op": "acquire", "on": "L", "block": false}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got := res.outcomes("Process-1:1", "release"); !slices.Equal(got, []string{"null"}) {
		t.Errorf("the grandchild's release: %v", got)
	}
	if got := res.outcomes("MainProcess", "acquire"); !slices.Equal(got, []string{"true", "true"}) {
		t.Errorf("main's acquires: %v", got)
	}
	begin := res.find("Process-1:1", "process.begin")
	if len(begin) != 1 || string(appendValue(nil, jsonToValue(begin[0]["in"].(map[string]any)["args"]), false)) != `[{"ref":"L"}]` {
		t.Errorf("the grandchild's args: %v", begin)
	}
}
