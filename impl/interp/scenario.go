package interp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"golang.org/x/sys/unix"
)

// A scenario is a validated scenario (protocol.md §5). Its raw form is what
// children get, so that they run the very same programs.
type scenario struct {
	raw       []byte
	resources []ResourceSpec
	programs  map[string]*program
	main      *program
}

type program struct {
	name   string
	params []string
	steps  []*step
}

// A step is one validated op. Its fields hold values still to resolve
// (params, blobs); a Steps field is held in body instead.
type step struct {
	op     string
	path   string
	fields map[string]any
	body   []*step
}

// A scenarioError says where a scenario is wrong; the driver exits 2 with it.
type scenarioError struct{ where, msg string }

func (e *scenarioError) Error() string { return e.where + ": " + e.msg }

func errorAt(where, format string, args ...any) error {
	return &scenarioError{where, fmt.Sprintf(format, args...)}
}

// decodeJSON decodes exactly one JSON value, keeping numbers as written.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// parseScenario decodes and validates a whole scenario, every program
// included, so that nothing runs unless all of it can.
func parseScenario(data []byte) (sc *scenario, err error) {
	defer func() {
		// A bug here must still read as one line, not a stack trace.
		if r := recover(); r != nil {
			sc, err = nil, errorAt("scenario", "cannot validate: %v", r)
		}
	}()
	raw, err := decodeJSON(data)
	if err != nil {
		return nil, errorAt("scenario", "invalid JSON: %v", err)
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, errorAt("scenario", "want a JSON object")
	}
	for _, k := range sortedKeys(top) {
		if !slices.Contains([]string{"protocol", "name", "resources", "programs", "main"}, k) {
			return nil, errorAt("scenario", "unknown field %q", k)
		}
	}
	if p, ok := top["protocol"]; ok && p != json.Number("1") {
		return nil, errorAt("protocol", "unsupported protocol %v (want 1)", p)
	}
	if n, ok := top["name"]; ok {
		if _, ok := n.(string); !ok {
			return nil, errorAt("name", "want a string")
		}
	}
	v := &validator{programs: map[string]*program{}, resources: map[string]string{}}
	rawPrograms := map[string]map[string]any{}
	if ps, ok := top["programs"]; ok {
		obj, ok := ps.(map[string]any)
		if !ok {
			return nil, errorAt("programs", "want an object of programs")
		}
		for _, name := range sortedKeys(obj) {
			prog, body, err := programHeader(name, obj[name])
			if err != nil {
				return nil, err
			}
			v.programs[name], rawPrograms[name] = prog, body
		}
	}
	resources, err := parseResources(top["resources"], v.programs)
	if err != nil {
		return nil, err
	}
	for _, r := range resources {
		maps.Copy(v.resources, r.names())
	}
	mainSteps, ok := top["main"]
	if !ok {
		return nil, errorAt("scenario", `missing field "main"`)
	}
	sc = &scenario{raw: data, resources: resources, programs: v.programs, main: &program{name: "main"}}
	if sc.main.steps, err = v.program("main", nil, mainSteps); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(rawPrograms) {
		prog := v.programs[name]
		if prog.steps, err = v.program(name, prog.params, rawPrograms[name]["steps"]); err != nil {
			return nil, err
		}
	}
	if err := checkReach(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

func programHeader(name string, raw any) (*program, map[string]any, error) {
	where := "programs/" + name
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, errorAt(where, "want an object with params and steps")
	}
	for _, k := range sortedKeys(obj) {
		if k != "params" && k != "steps" {
			return nil, nil, errorAt(where, "unknown field %q", k)
		}
	}
	if _, ok := obj["steps"]; !ok {
		return nil, nil, errorAt(where, `missing field "steps"`)
	}
	prog := &program{name: name}
	if ps, ok := obj["params"]; ok {
		list, ok := ps.([]any)
		if !ok {
			return nil, nil, errorAt(where, "params: want a list of names")
		}
		for _, p := range list {
			s, ok := p.(string)
			if !ok || s == "" || slices.Contains(prog.params, s) {
				return nil, nil, errorAt(where, "params: want a list of distinct names")
			}
			prog.params = append(prog.params, s)
		}
	}
	return prog, obj, nil
}

type validator struct {
	programs  map[string]*program
	resources map[string]string // the type of each resource, by name
	bound     map[string]bool   // names bound with "as" in the program being checked
}

func (v *validator) program(name string, params []string, raw any) ([]*step, error) {
	v.bound = map[string]bool{}
	collectBound(raw, v.bound)
	var scope *env
	for _, p := range params {
		scope = scope.with(p, nil)
	}
	return v.steps(name, raw, scope)
}

// collectBound finds the names bound with "as" anywhere in a program, so
// that an op may name a handle that a later iteration binds.
func collectBound(raw any, bound map[string]bool) {
	switch raw := raw.(type) {
	case []any:
		for _, item := range raw {
			collectBound(item, bound)
		}
	case map[string]any:
		if as, ok := raw["as"].(string); ok {
			bound[as] = true
		}
		collectBound(raw["body"], bound)
		collectBound(raw["until"], bound)
	}
}

func (v *validator) steps(where string, raw any, scope *env) ([]*step, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, errorAt(where, "want a list of steps")
	}
	steps := make([]*step, len(list))
	for i, item := range list {
		var err error
		if steps[i], err = v.step(fmt.Sprintf("%s/%d", where, i), item, scope); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

func (v *validator) step(path string, raw any, scope *env) (*step, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errorAt(path, "a step must be an object")
	}
	name, ok := obj["op"].(string)
	if !ok {
		return nil, errorAt(path, `missing "op"`)
	}
	op, ok := driver.Ops[name]
	if !ok {
		return nil, errorAt(path, "unknown op %q", name)
	}
	s := &step{op: name, path: path, fields: map[string]any{}}
	for _, k := range sortedKeys(obj) {
		if k == "op" {
			continue
		}
		f, ok := op.Fields[k]
		if !ok {
			return nil, errorAt(path, "unknown field %q for op %q", k, name)
		}
		val, err := v.field(path, obj, k, f, scope)
		if err != nil {
			return nil, err
		}
		switch f.Kind {
		case Steps:
			s.body, _ = val.([]*step)
		case Step:
			s.body = []*step{val.(*step)}
		default:
			s.fields[k] = val
		}
	}
	for _, k := range sortedKeys(op.Fields) {
		if _, ok := obj[k]; op.Fields[k].Required && !ok {
			return nil, errorAt(path, "missing field %q for op %q", k, name)
		}
	}
	if len(op.OneOf) > 0 {
		n := 0
		for _, k := range op.OneOf {
			if _, ok := obj[k]; ok {
				n++
			}
		}
		if n != 1 {
			return nil, errorAt(path, "op %q takes exactly one of the fields %q", name, op.OneOf)
		}
	}
	if name, ok := s.fields["program"].(string); ok {
		prog, ok := v.programs[name]
		if !ok {
			return nil, errorAt(path, "no program %q", name)
		}
		// A map op (no "args" field) passes each item as the arguments.
		if _, takesArgs := op.Fields["args"]; !takesArgs {
		} else if args, _ := s.fields["args"].([]any); s.fields["kwargs"] != nil {
			if err := checkKwargs(prog, len(args), s.fields["kwargs"]); err != nil {
				return nil, errorAt(path, "%v", err)
			}
		} else if len(args) != len(prog.params) {
			return nil, errorAt(path, "program %q takes %d args, got %d", name, len(prog.params), len(args))
		}
	}
	return s, nil
}

// nonNegative lists the numeric fields that must not be negative.
var nonNegative = []string{"index", "times", "ms", "n"}

func (v *validator) field(path string, obj map[string]any, name string, f Field, scope *env) (any, error) {
	raw, kind := obj[name], f.Kind
	if raw == nil && !f.Required && kind != Value {
		return nil, nil // null, as Python's None, leaves an optional field unset
	}
	wrong := func(want string) error {
		return errorAt(path, "field %q: want %s, got %s", name, want, describe(raw))
	}
	// Scalars may come from a param, to be checked again once resolved.
	if form, ok := raw.(map[string]any); ok && kind <= Bool {
		p, err := decodeForm(form, true)
		if err != nil {
			return nil, errorAt(path, "field %q: %v", name, err)
		}
		if p, ok := p.(param); ok {
			if _, bound := scope.lookup(string(p)); !bound {
				return nil, errorAt(path, "field %q: no param or variable %q here", name, string(p))
			}
			return p, nil
		}
	}
	switch kind {
	case Int, Number:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, wrong(kind.String())
		}
		val, err := decodeNumber(n)
		if err != nil {
			return nil, errorAt(path, "field %q: %v", name, err)
		}
		if _, isInt := val.(int64); kind == Int && !isInt {
			return nil, wrong("an integer")
		}
		if slices.Contains(nonNegative, name) && isNegative(val) {
			return nil, errorAt(path, "field %q: must not be negative", name)
		}
		return val, nil
	case String, Name:
		s, ok := raw.(string)
		if !ok || (kind == Name && s == "") {
			return nil, wrong(kind.String())
		}
		switch {
		case kind != Name:
		case name == "proc" && !v.bound[s]:
			return nil, errorAt(path, "no process is bound to %q in this program", s)
		case name == "signal" && unix.SignalNum(s) == 0:
			return nil, errorAt(path, "unknown signal %q", s)
		}
		return s, nil
	case Bool:
		b, ok := raw.(bool)
		if !ok {
			return nil, wrong("a bool")
		}
		return b, nil
	case Value:
		return v.value(path, name, raw, scope)
	case List:
		list, ok := raw.([]any)
		if !ok {
			return nil, wrong("a list")
		}
		return v.value(path, name, list, scope)
	case Steps:
		inner := scope
		if as, ok := obj["var"].(string); ok {
			inner = scope.with(as, nil)
		}
		return v.steps(path, raw, inner)
	case Step:
		return v.step(path+"/"+name, raw, scope)
	case ResourceName:
		s, ok := raw.(string)
		if !ok || s == "" {
			return nil, wrong(kind.String())
		}
		// A name that manager.connect or manager.proxy binds ("as") in
		// this program is a resource of the process that binds it.
		if _, ok := v.resources[s]; !ok && !v.bound[s] {
			return nil, errorAt(path, "field %q: no resource %q", name, s)
		}
		return s, nil
	}
	panic("unknown kind")
}

func (v *validator) value(path, name string, raw any, scope *env) (any, error) {
	val, err := decodeValue(raw, true)
	if err != nil {
		return nil, errorAt(path, "field %q: %v", name, err)
	}
	err = walkValue(val, func(x any) error {
		switch x := x.(type) {
		case param:
			if _, bound := scope.lookup(string(x)); !bound {
				return errorAt(path, "field %q: no param or variable %q here", name, string(x))
			}
		case ref:
			if _, ok := v.resources[string(x)]; !ok {
				return errorAt(path, "field %q: no resource %q", name, string(x))
			}
		}
		return nil
	})
	return val, err
}

func isNegative(v any) bool {
	switch v := v.(type) {
	case int64:
		return v < 0
	case Float:
		return v < 0
	}
	return false
}

func describe(raw any) string {
	switch raw := raw.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case json.Number:
		return "the number " + string(raw)
	case string:
		return "a string"
	case []any:
		return "a list"
	}
	return "an object"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
