package tracerules_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/harness/tracerules"
)

const (
	begin   = `{"pid":7,"ppid":1,"proc":"MainProcess","seq":0,"op":"process.begin","step":"main","in":{"program":"main","args":[]},"t0":1,"t1":1,"ok":true,"value":{"name":"MainProcess","daemon":false,"program":"main"}}`
	pending = `{"pid":7,"ppid":1,"proc":"MainProcess","seq":1,"op":"sleep","step":"main/0","in":{"ms":1},"t0":2,"pending":true}`
	slept   = `{"pid":7,"ppid":1,"proc":"MainProcess","seq":2,"op":"sleep","step":"main/0","in":{"ms":1},"t0":2,"t1":3,"ok":true,"value":null}`
	empty   = `{"pid":7,"ppid":1,"proc":"MainProcess","seq":3,"op":"get_nowait","step":"main/1","in":{"on":"q"},"t0":4,"t1":5,"ok":false,"error":{"kind":"Empty","message":""}}`
	end     = `{"pid":7,"ppid":1,"proc":"MainProcess","seq":4,"op":"process.end","step":"main","in":{},"t0":6,"t1":6,"ok":true,"value":{"exitcode":0,"maxrss":0}}`
)

func files(lines ...string) []trace.File {
	return []trace.File{{Name: "7.jsonl", Data: []byte(strings.Join(lines, "\n") + "\n")}}
}

func TestAGoodTraceBreaksNothing(t *testing.T) {
	if err := tracerules.Check(files(begin, pending, slept, empty, end)); err != nil {
		t.Fatal(err)
	}
	// A killed process: no process.end, its last op still pending.
	if err := tracerules.Check(files(begin, pending)); err != nil {
		t.Fatal(err)
	}
}

// Each rule's broken trace: the rule is named, with the file and line.
func TestEachRuleIsNamed(t *testing.T) {
	for _, c := range []struct {
		rule  string
		lines []string
		where string
	}{
		{"schema", []string{begin, strings.Replace(slept, `"ok":true`, `"ok":"yes"`, 1)}, "7.jsonl:2"},
		{"schema", []string{begin, `{"pid":7,"op":`}, "7.jsonl:2"},
		{"times", []string{begin, pending, strings.Replace(slept, `"t1":3`, `"t1":1`, 1)}, "7.jsonl:3"},
		{"seq", []string{begin, slept, pending}, "7.jsonl:2"},
		{"seq", []string{begin, pending, empty}, "7.jsonl:3"},
		{"begin-first", []string{strings.Replace(pending, `"seq":1`, `"seq":0`, 1), strings.Replace(begin, `"seq":0`, `"seq":1`, 1)}, "7.jsonl:1"},
		{"end-last", []string{begin, strings.Replace(end, `"seq":4`, `"seq":1`, 1), strings.Replace(slept, `"seq":2`, `"seq":2`, 1)}, "7.jsonl:3"},
		{"pending", []string{begin, strings.Replace(slept, `"seq":2`, `"seq":1`, 1)}, "7.jsonl:2"},
		{"error-kind", []string{begin, strings.Replace(strings.Replace(empty, `"seq":3`, `"seq":1`, 1), `"Empty"`, `"queue.Empty"`, 1)}, "7.jsonl:2"},
	} {
		err := tracerules.Check(files(c.lines...))
		if !errors.Is(err, tracerules.ErrBroken) {
			t.Errorf("%s: err = %v, want ErrBroken", c.rule, err)
			continue
		}
		var e *tracerules.Error
		errors.As(err, &e)
		found := false
		for _, v := range e.Violations {
			if v.Rule.Name == c.rule && strings.Contains(v.String(), "(trace "+c.where+")") && strings.Contains(v.String(), v.Rule.Section+" "+c.rule+": ") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: not named at %s in\n%v", c.rule, c.where, err)
		}
	}
}

func TestAFailureNeedsNoPending(t *testing.T) {
	failed := `{"pid":7,"ppid":1,"proc":"MainProcess","seq":1,"op":"get","step":"main/0","in":{"on":"x"},"t0":2,"t1":2,"ok":false,"error":{"kind":"Error","message":"resource \"x\" was not passed to this process"}}`
	if err := tracerules.Check(files(begin, failed)); err != nil {
		t.Fatal(err)
	}
}

// docs/protocol.md §7.3 lists every rule of the table, with its section.
func TestTheProtocolListsTheRules(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tracerules.Rules {
		if row := "| `" + r.Name + "` | " + r.Section + " | " + r.Says + " |"; !strings.Contains(string(doc), row) {
			t.Errorf("docs/protocol.md §7.3 has no row %q", row)
		}
	}
}
