package check

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/mpconform/mpconform/harness/trace"
)

// A Call is one operation of a concurrent history, as a model sees it: the
// op and its arguments, and what it returned (a value, or an error kind).
type Call struct {
	Op   string
	Key  string // the canonical JSON of a dict key; "" for list ops
	Arg  string // the canonical JSON of the value written or the index read
	Out  string // the canonical JSON of the value returned
	Kind string // the error kind when the op failed ("KeyError", ...)
}

func (c Call) String() string {
	in := strings.TrimSuffix(strings.Join([]string{c.Key, c.Arg}, ", "), ", ")
	out := c.Out
	if c.Kind != "" {
		out = c.Kind
	}
	return fmt.Sprintf("%s(%s) -> %s", c.Op, strings.TrimPrefix(in, ", "), out)
}

// History turns the completed records of the given ops in t into porcupine
// operations: one client per process, [t0, t1] as the call's interval.
func History(t *trace.Trace, ops ...string) []porcupine.Operation {
	var out []porcupine.Operation
	clients := map[int]int{}
	for _, r := range t.Records {
		if r.Pending || !slices.Contains(ops, r.Op) {
			continue
		}
		id, ok := clients[r.Pid]
		if !ok {
			id = len(clients)
			clients[r.Pid] = id
		}
		c := Call{Op: r.Op, Key: trace.JSON(r.In["key"]), Out: trace.JSON(r.Value), Kind: r.Kind()}
		if v, ok := r.In["value"]; ok {
			c.Arg = trace.JSON(v)
		} else if i, ok := r.In["index"]; ok {
			c.Arg = trace.JSON(i)
		}
		out = append(out, porcupine.Operation{ClientId: id, Input: c, Output: c, Call: r.T0, Return: r.T1,
			Metadata: fmt.Sprintf("%s pid %d %s", r.Proc, r.Pid, r.Step)})
	}
	return out
}

// Linearizable checks a history against a model with porcupine. When it is not
// linearizable, or the check ran out of time, it returns an error and
// porcupine's HTML visualisation of the history.
func Linearizable(model porcupine.Model, history []porcupine.Operation, timeout time.Duration) (html []byte, err error) {
	res, info := porcupine.CheckOperationsVerbose(model, history, timeout)
	if res == porcupine.Ok {
		return nil, nil
	}
	var b bytes.Buffer
	if verr := porcupine.Visualize(model, info, &b); verr != nil {
		b.Reset()
	}
	if res == porcupine.Unknown {
		return b.Bytes(), fmt.Errorf("linearizability unknown: the check of %d operations ran out of time (%v)", len(history), timeout)
	}
	return b.Bytes(), fmt.Errorf("the history of %d operations is not linearizable", len(history))
}

// DictModel is a managed dict (dict.set, dict.get, dict.pop, dict.setdefault,
// dict.del, dict.contains), partitioned by key: its state is one key's
// value, "" when the key is absent.
var DictModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(Call).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, _ any) (bool, any) {
		s, c := state.(string), input.(Call)
		switch c.Op {
		case "dict.set":
			return c.Kind == "", c.Arg
		case "dict.get":
			if s == "" {
				return c.Kind == "KeyError", s
			}
			return c.Kind == "" && c.Out == s, s
		case "dict.pop", "dict.del":
			if s == "" {
				return c.Kind == "KeyError", s
			}
			return c.Kind == "" && (c.Op == "dict.del" || c.Out == s), ""
		case "dict.setdefault":
			if s == "" {
				return c.Kind == "" && c.Out == c.Arg, c.Arg
			}
			return c.Kind == "" && c.Out == s, s
		case "dict.contains":
			return c.Kind == "" && c.Out == fmt.Sprint(s != ""), s
		}
		return false, s
	},
	DescribeOperation: func(input, _ any) string { return input.(Call).String() },
	DescribeState: func(state any) string {
		if state.(string) == "" {
			return "(absent)"
		}
		return state.(string)
	},
	DescribeOperationMetadata: func(info any) string { return fmt.Sprint(info) },
}

// ListModel is a managed list (list.append, list.len, list.get, list.pop with
// no index): its state is the items' canonical JSON, joined by newlines.
var ListModel = porcupine.Model{
	Init: func() any { return "" },
	Step: func(state, input, _ any) (bool, any) {
		s, c := state.(string), input.(Call)
		var items []string
		if s != "" {
			items = strings.Split(s, "\n")
		}
		switch c.Op {
		case "list.append":
			return c.Kind == "", strings.Join(append(items, c.Arg), "\n")
		case "list.len":
			return c.Kind == "" && c.Out == fmt.Sprint(len(items)), s
		case "list.get":
			var i int
			if _, err := fmt.Sscan(c.Arg, &i); err != nil {
				return false, s
			}
			if i < 0 {
				i += len(items)
			}
			if i < 0 || i >= len(items) {
				return c.Kind == "IndexError", s
			}
			return c.Kind == "" && c.Out == items[i], s
		case "list.pop":
			if len(items) == 0 {
				return c.Kind == "IndexError", s
			}
			return c.Kind == "" && c.Out == items[len(items)-1], strings.Join(items[:len(items)-1], "\n")
		}
		return false, s
	},
	DescribeOperation: func(input, _ any) string { return input.(Call).String() },
	DescribeState: func(state any) string {
		return "[" + strings.ReplaceAll(state.(string), "\n", ", ") + "]"
	},
	DescribeOperationMetadata: func(info any) string { return fmt.Sprint(info) },
}
