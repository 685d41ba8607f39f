package protocol_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/protocol"
)

const root = "../.."

// TestGeneratedFiles keeps the files made from the table equal to what the
// table makes now.
func TestGeneratedFiles(t *testing.T) {
	files, err := protocol.Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil || !bytes.Equal(have, f.Data) {
			t.Errorf("%s is out of date: run go generate ./harness/protocol", f.Path)
		}
	}
}

// TestTable checks that the table is consistent: every name it uses is
// declared once.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	known := func(fs []protocol.Feature) bool {
		return !slices.ContainsFunc(fs, func(f protocol.Feature) bool { return !slices.Contains(protocol.Features, f) })
	}
	var errorKinds []protocol.ErrorKind
	for _, e := range protocol.ErrorKinds {
		errorKinds = append(errorKinds, e.Kind)
	}
	for _, op := range protocol.Ops() {
		if seen[op.Name] {
			t.Errorf("%s: listed twice", op.Name)
		}
		seen[op.Name] = true
		if len(op.Families) == 0 || !known(op.Families) || !known(op.With) {
			t.Errorf("%s: families %v with %v: each must be one of protocol.Features, and it needs one", op.Name,
				op.Families, op.With)
		}
		if op.Value == "" {
			t.Errorf("%s: says nothing of the value it records", op.Name)
		}
		fields := map[string]bool{}
		for _, f := range op.Fields {
			if fields[f.Name] || f.Kind.About() == "" || (f.Required && f.Default != nil) {
				t.Errorf("%s.%s: a field twice, a kind that is not in Kinds, or a required field with a default",
					op.Name, f.Name)
			}
			fields[f.Name] = true
		}
		for _, f := range op.OneOf {
			if g, ok := op.Field(f); !ok || g.Required {
				t.Errorf("%s: one_of names %s, which is not an optional field", op.Name, f)
			}
		}
		for _, e := range op.Errors {
			if !slices.Contains(errorKinds, e.Kind) {
				t.Errorf("%s: error kind %s is not in ErrorKinds", op.Name, e.Kind)
			}
		}
	}
}

// TestTraceSchemaErrorKinds keeps the trace schema's error kinds those of §8.
func TestTraceSchemaErrorKinds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "harness/schema/trace.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties struct {
			Error struct {
				Properties struct {
					Kind struct {
						Enum []protocol.ErrorKind `json:"enum"`
					} `json:"kind"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	var want []protocol.ErrorKind
	for _, e := range protocol.ErrorKinds {
		want = append(want, e.Kind)
	}
	if have := s.Properties.Error.Properties.Kind.Enum; !slices.Equal(have, want) {
		t.Errorf("trace.schema.json's error kinds are %v, protocol.ErrorKinds %v", have, want)
	}
}

// TestCheckFeatures: a step, however deep, whose op or field needs a feature
// that is not declared is named; the rest pass.
func TestCheckFeatures(t *testing.T) {
	doc := `{"protocol": 1, "name": "x", "programs": {"f": {"params": [], "steps": [
		{"op": "repeat", "times": 2, "body": [{"op": "sleep", "ms": 1}, {"op": "put_many", "on": "q", "n": 3}]}]}},
		"main": [{"op": "spawn", "as": "w", "program": "f", "daemon": true},
		{"op": "wait_for", "on": "c", "until": {"op": "is_set", "on": "e"}}]}`
	all := []protocol.Feature{"control", "process", "daemon", "condition", "event", "queue", "bulk"}
	for _, c := range []struct {
		without protocol.Feature
		want    string // the error's start
	}{
		{"", ""},
		{"daemon", "main/0: spawn with daemon needs the feature daemon; the behaviour declares control, process, "},
		{"event", "main/1/until: op is_set needs one of the features event, manager.types;"},
		{"bulk", "f/0/1: op put_many needs one of the features queue, joinable_queue, simple_queue and bulk;"},
		{"control", "f/0: op repeat needs the feature control;"},
	} {
		features := slices.DeleteFunc(slices.Clone(all), func(f protocol.Feature) bool { return f == c.without })
		err := protocol.CheckFeatures([]byte(doc), features)
		if (err == nil) != (c.want == "") || (err != nil && !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("without %q: %v, want %q...", c.without, err, c.want)
		}
	}
}
