package check

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func op(client int, t0, t1 int64, c Call) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: c, Output: c, Call: t0, Return: t1}
}

func TestLinearizable(t *testing.T) {
	set := func(k, v string) Call { return Call{Op: "dict.set", Key: k, Arg: v, Out: "null"} }
	get := func(k, v string) Call { return Call{Op: "dict.get", Key: k, Out: v} }
	missing := Call{Op: "dict.get", Key: "1", Out: "null", Kind: "KeyError"}
	for _, c := range []struct {
		name  string
		model porcupine.Model
		h     []porcupine.Operation
		ok    bool
	}{
		{"overlapping set and get may see either", DictModel, []porcupine.Operation{
			op(0, 0, 10, set("1", "7")), op(1, 5, 15, missing)}, true},
		{"a read after a write sees it", DictModel, []porcupine.Operation{
			op(0, 0, 10, set("1", "7")), op(1, 11, 15, missing)}, false},
		{"a stale read", DictModel, []porcupine.Operation{
			op(0, 0, 10, set("1", "7")), op(0, 11, 20, set("1", "8")), op(1, 21, 30, get("1", "7"))}, false},
		{"keys of other types are other keys", DictModel, []porcupine.Operation{
			op(0, 0, 10, set("1", "7")), op(1, 11, 15, Call{Op: "dict.get", Key: "1.0", Out: "null", Kind: "KeyError"})}, true},
		{"appends in order", ListModel, []porcupine.Operation{
			op(0, 0, 10, Call{Op: "list.append", Arg: "1"}), op(1, 11, 20, Call{Op: "list.append", Arg: "2"}),
			op(0, 21, 30, Call{Op: "list.get", Arg: "0", Out: "1"}), op(1, 21, 30, Call{Op: "list.len", Out: "2"})}, true},
		{"a lost append", ListModel, []porcupine.Operation{
			op(0, 0, 10, Call{Op: "list.append", Arg: "1"}), op(1, 11, 20, Call{Op: "list.append", Arg: "2"}),
			op(0, 21, 30, Call{Op: "list.len", Out: "1"})}, false},
	} {
		html, err := Linearizable(c.model, c.h, 10*time.Second)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok = %v", c.name, err, c.ok)
		}
		if err != nil && !strings.Contains(string(html), "<html") {
			t.Errorf("%s: no visualisation", c.name)
		}
	}
}
