package interp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// The test binary doubles as a driver: run with testDriver set, it is one.
// testMutant additionally applies the overrides a mutant would, to show
// that children see them; testAtEnd replaces AtEnd with one that reports
// the children still alive when it runs.
const (
	testDriver = "INTERP_TEST_DRIVER"
	testMutant = "INTERP_TEST_MUTANT"
	testAtEnd  = "INTERP_TEST_AT_END"
)

func TestMain(m *testing.M) {
	d := Reference()
	if os.Getenv(testMutant) != "" {
		emit := d.Ops["emit"]
		emit.Run = func(c *Call) (any, error) { return "mutated", nil }
		d.Ops["emit"] = emit
	}
	if os.Getenv(testAtEnd) != "" {
		d.AtEnd = func() {
			fmt.Fprintf(os.Stderr, "children at the end: %d\n", len(mp.ActiveChildren()))
			mp.Shutdown()
		}
	}
	if os.Getenv(testDriver) != "" {
		Main(d)
	}
	driver = &d // for the tests that parse scenarios in this process
	os.Exit(m.Run())
}

type result struct {
	code    int
	stderr  string
	records []map[string]any
}

func drive(t *testing.T, scenario string, env ...string) result {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "--trace", dir)
	cmd.Env = append(append(os.Environ(), testDriver+"=1"), env...)
	cmd.Stdin = strings.NewReader(scenario)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var res result
	res.stderr = stderr.String()
	if exit, ok := err.(*exec.ExitError); ok {
		res.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var rec map[string]any
			dec := json.NewDecoder(strings.NewReader(sc.Text()))
			dec.UseNumber()
			if err := dec.Decode(&rec); err != nil {
				t.Fatalf("%s: bad record %q: %v", f, sc.Text(), err)
			}
			res.records = append(res.records, rec)
		}
	}
	return res
}

// find returns the completed records of op, in the order written by each process.
func (r result) find(proc, op string) []map[string]any {
	var found []map[string]any
	for _, rec := range r.records {
		if rec["op"] == op && (proc == "" || rec["proc"] == proc) && rec["pending"] == nil {
			found = append(found, rec)
		}
	}
	return found
}

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func TestHello(t *testing.T) {
	cmd := exec.Command(os.Args[0], "hello")
	cmd.Env = append(os.Environ(), testDriver+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		Protocol int
		Name     string
		Features []string
	}
	if err := json.Unmarshal(out, &hello); err != nil {
		t.Fatalf("hello printed %q: %v", out, err)
	}
	if hello.Protocol != 1 || hello.Name != "go-reference" || !slices.Equal(hello.Features, []string{"control", "process", "daemon",
		"lock", "rlock", "semaphore", "event", "condition", "barrier", "bulk",
		"queue", "joinable_queue", "simple_queue", "pipe", "connection", "manager", "manager.remote",
		"manager.types", "manager.register", "pool", "shared_memory", "sharedctypes"}) {
		t.Errorf("hello = %+v", hello)
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"main":[{"op":"sleep","ms":1},{"op":"frobnicate"}]}`, `main/1: unknown op "frobnicate"`},
		{`{"main":[{"op":"sleep","ms":"1"}]}`, `main/0: field "ms": want a number`},
		{`{"main":[{"op":"sleep","ms":1,"extra":2}]}`, `unknown field "extra"`},
		{`{"main":[{"op":"os_exit"}]}`, `missing field "code"`},
		{`{"main":[{"op":"repeat","times":1.5,"body":[]}]}`, `want an integer`},
		{`{"main":[{"op":"emit","value":{"param":"k"}}]}`, `no param or variable "k"`},
		{`{"main":[{"op":"emit","value":{"what":1}}]}`, `unknown value form`},
		{`{"resources":[{"name":"Q","type":"frobnicator"}],"main":[]}`, `resource type "frobnicator" is not supported`},
		{`{"programs":{"f":{"steps":[{"op":"frobnicate","on":"q"}]}},"main":[]}`, `f/0: unknown op "frobnicate"`},
		{`{"main":[{"op":"join","proc":"w"}]}`, `no process is bound to "w"`},
		{`{"main":[], "extra":1}`, `unknown field "extra"`},
		{`not json`, `invalid JSON`},
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

func TestProcesses(t *testing.T) {
	res := drive(t, `{"protocol": 1, "programs": {
		"nap": {"params": ["ms"], "steps": [{"op": "sleep", "ms": {"param": "ms"}}]},
		"raiser": {"steps": [{"op": "raise", "message": "boom"}, {"op": "emit", "value": "never"}]},
		"exiter": {"steps": [{"op": "exit", "code": 3}]},
		"parent": {"steps": [{"op": "spawn", "as": "c", "program": "exiter"}, {"op": "start", "proc": "c"}]},
		"daemon": {"steps": [{"op": "sleep", "ms": 60000}, {"op": "emit", "value": "never"}]}
	}, "main": [
		{"op": "repeat", "times": 3, "body": [{"op": "spawn", "as": "z", "program": "nap", "args": [300], "prefix": "zx"}]},
		{"op": "spawn", "as": "p", "program": "parent"},
		{"op": "start", "proc": "z"}, {"op": "start", "proc": "p"},
		{"op": "join", "proc": "z"}, {"op": "join", "proc": "p"},
		{"op": "spawn", "as": "r", "program": "raiser"}, {"op": "start", "proc": "r"}, {"op": "join", "proc": "r"},
		{"op": "spawn", "as": "d", "program": "daemon", "daemon": true}, {"op": "start", "proc": "d"},
		{"op": "join", "proc": "d", "timeout": 50}, {"op": "start", "proc": "d"}
	]}`)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var names []string
	for _, rec := range res.find("MainProcess", "spawn") {
		names = append(names, rec["value"].(string))
	}
	if want := []string{"zx-1", "zx-2", "zx-3", "Process-4", "Process-5", "Process-6"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if begin := res.find("Process-4:1", "process.begin"); len(begin) != 1 {
		t.Error("no grandchild Process-4:1")
	}

	// The three naps overlap: each begins before any ends.
	var lastBegin, firstEnd int64
	for _, rec := range res.records {
		if strings.HasPrefix(rec["proc"].(string), "zx-") && rec["op"] == "sleep" && rec["pending"] == nil {
			lastBegin = max(lastBegin, num(rec["t0"]))
			if firstEnd == 0 || num(rec["t1"]) < firstEnd {
				firstEnd = num(rec["t1"])
			}
		}
	}
	if lastBegin == 0 || lastBegin >= firstEnd {
		t.Error("the children did not sleep in parallel")
	}

	var codes []int64
	for _, rec := range res.find("MainProcess", "join") {
		if rec["value"] == nil {
			codes = append(codes, -1000) // still running
		} else {
			codes = append(codes, num(rec["value"]))
		}
	}
	if want := []int64{0, 0, 0, 0, 1, -1000}; !slices.Equal(codes, want) {
		t.Errorf("join values %v, want %v", codes, want)
	}
	if starts := res.find("MainProcess", "start"); starts[len(starts)-1]["error"].(map[string]any)["kind"] != "NotAllowed" {
		t.Error("starting twice was allowed")
	}
	if len(res.find("Process-4:1", "process.end")) != 0 {
		t.Error("exit wrote process.end")
	}
	if end := res.find("Process-5", "process.end"); len(end) != 1 || num(end[0]["value"].(map[string]any)["exitcode"]) != 1 {
		t.Error("raise did not end with exit code 1")
	}
	if len(res.find("", "emit")) != 0 {
		t.Error("a program went on after raise, or a daemon outlived main")
	}

	// The daemon was terminated at the end of main, before main's process.end.
	mainEnd := res.find("MainProcess", "process.end")
	if len(mainEnd) != 1 {
		t.Fatal("no process.end for main")
	}
	for _, rec := range res.records {
		if rec["proc"] != "MainProcess" && num(rec["t0"]) > num(mainEnd[0]["t0"]) {
			t.Errorf("%v recorded after main ended", rec)
		}
	}
}

func TestOverridesReachChildren(t *testing.T) {
	res := drive(t, `{"programs": {"f": {"steps": [{"op": "emit", "value": 1}]}}, "main": [
		{"op": "spawn", "as": "c", "program": "f"}, {"op": "start", "proc": "c"}, {"op": "join", "proc": "c"}]}`,
		testMutant+"=1")
	if emits := res.find("Process-1", "emit"); len(emits) != 1 || emits[0]["value"] != "mutated" {
		t.Errorf("the child's emit was not overridden: %v", emits)
	}
}

func TestReferenceIsAFreshCopy(t *testing.T) {
	a := Reference()
	a.Ops["emit"] = Op{}
	a.Features[0] = "changed"
	b := Reference()
	if b.Ops["emit"].Run == nil || b.Features[0] != "control" {
		t.Error("a change to one copy of the reference driver reached another")
	}
}

// A driver whose AtEnd replaces mp.Shutdown still terminates its pools
// first: pool termination is the interpreter's, not AtEnd's.
func TestPoolsEndWhateverAtEnd(t *testing.T) {
	res := drive(t, `{"resources": [{"name": "P", "type": "pool", "processes": 2}],
		"programs": {"one": {"steps": [{"op": "return", "value": 1}]}},
		"main": [{"op": "pool.apply", "on": "P", "program": "one"}]}`, testAtEnd+"=1")
	if res.code != 0 || !strings.Contains(res.stderr, "children at the end: 0\n") {
		t.Errorf("exit %d, stderr %q: want 0 children left when AtEnd runs", res.code, res.stderr)
	}
}

func TestValuesKeepTheirTypes(t *testing.T) {
	in := `[1, 1.0, -0.5, 1e-3, 2E10, 1e16, 1.5e-7, 0.0001, "爸爸你好!", null, true, {"dict": [[6, 1], ["2", 2], [0.25, null]]}, {"bytes": "AAEC"}]`
	v, err := decodeJSONValue([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(encodeValue(v))
	want := `[1,1.0,-0.5,0.001,20000000000.0,1e+16,1.5e-07,0.0001,"爸爸你好!",null,true,{"dict":[[6,1],["2",2],[0.25,null]]},{"bytes":"AAEC"}]`
	if got != want {
		t.Errorf("round trip:\n got %s\nwant %s", got, want)
	}
	long := appendValue(nil, resolve(blob(65), nil), true)
	if !bytes.HasPrefix(long, []byte(`{"digest":{"len":65,"sha256":"`)) {
		t.Errorf("65 bytes traced as %s", long)
	}
}

func TestCallDuration(t *testing.T) {
	c := Call{In: map[string]any{"a": int64(2), "b": Float(0.5)}}
	if d, _ := c.duration("a"); d != 2*time.Millisecond {
		t.Errorf("2 ms = %v", d)
	}
	if d, _ := c.duration("b"); d != 500*time.Microsecond {
		t.Errorf("0.5 ms = %v", d)
	}
}
