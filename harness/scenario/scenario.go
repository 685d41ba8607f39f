// Package scenario builds the programs that the harness sends to a driver
// (docs/protocol.md §5) and encodes them with Python's value types kept.
//
// A spec describes what processes do with a few helpers:
//
//	s := scenario.New("process/parallel").
//		Program("nap", nil, scenario.Sleep(500)).
//		Main(
//			scenario.Repeat(4, "", scenario.Spawn("w", "nap")),
//			scenario.Start("w"),
//			scenario.Join("w"),
//		)
//
// The package only builds and encodes; the schema package validates and the runner
// sends.
package scenario

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Scenario is one run's program: resources, named programs and main.
type Scenario struct {
	Protocol  int                `json:"protocol"`
	Name      string             `json:"name"`
	Resources []Resource         `json:"resources,omitempty"`
	Programs  map[string]Program `json:"programs,omitempty"`
	Steps     []Step             `json:"main"`
}

// Resource is a primitive created by main before its first step.
type Resource map[string]any

// Program is a named list of steps with positional parameters.
type Program struct {
	Params []string `json:"params"`
	Steps  []Step   `json:"steps"`
}

// Step is one op with its fields.
type Step map[string]any

// New starts a scenario.
func New(name string) *Scenario {
	return &Scenario{Protocol: 1, Name: name, Programs: map[string]Program{}}
}

// Resource adds a resource of type typ with the given fields (key, value, ...).
func (s *Scenario) Resource(name, typ string, kv ...any) *Scenario {
	r := Resource{"name": name, "type": typ}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	s.Resources = append(s.Resources, r)
	return s
}

// Program adds a named program.
func (s *Scenario) Program(name string, params []string, steps ...Step) *Scenario {
	if params == nil {
		params = []string{}
	}
	s.Programs[name] = Program{Params: params, Steps: steps}
	return s
}

// Main sets the main program's steps.
func (s *Scenario) Main(steps ...Step) *Scenario {
	s.Steps = steps
	return s
}

// Op makes a step from an op name and field/value pairs.
func Op(op string, kv ...any) Step {
	st := Step{"op": op}
	for i := 0; i+1 < len(kv); i += 2 {
		st[kv[i].(string)] = kv[i+1]
	}
	return st
}

// With returns a copy of the step with field k set to v.
func (st Step) With(k string, v any) Step {
	out := Step{}
	for kk, vv := range st {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// Control ops.
func Sleep(ms float64) Step    { return Op("sleep", "ms", ms) }
func Busy(ms float64) Step     { return Op("busy", "ms", ms) }
func Emit(v any) Step          { return Op("emit", "value", v) }
func Mark(name string) Step    { return Op("mark", "name", name) }
func Exit(code int) Step       { return Op("exit", "code", code) }
func Raise(msg string) Step    { return Op("raise", "message", msg) }
func Crash(signal string) Step { return Op("crash", "signal", signal) }
func Return(v any) Step        { return Op("return", "value", v) }
func Repeat(times int, v string, body ...Step) Step {
	st := Op("repeat", "times", times, "body", body)
	if v != "" {
		st["var"] = v
	}
	return st
}

// Process ops. Spawn's args are values; use Param and Ref inside them.
func Spawn(as, program string, args ...any) Step {
	if args == nil {
		args = []any{}
	}
	return Op("spawn", "as", as, "program", program, "args", args)
}
func Start(proc string) Step                   { return Op("start", "proc", proc) }
func Join(proc string) Step                    { return Op("join", "proc", proc) }
func JoinTimeout(proc string, ms float64) Step { return Op("join", "proc", proc, "timeout", ms) }
func IsAlive(proc string) Step                 { return Op("is_alive", "proc", proc) }
func ExitCode(proc string) Step                { return Op("exitcode", "proc", proc) }
func Terminate(proc string) Step               { return Op("terminate", "proc", proc) }
func Kill(proc string) Step                    { return Op("kill", "proc", proc) }
func SetDaemon(proc string, v bool) Step       { return Op("set_daemon", "proc", proc, "value", v) }

// On makes a step of an op on a resource: On("acquire", "L", "timeout", 200).
func On(op, resource string, kv ...any) Step {
	return Op(op, append([]any{"on", resource}, kv...)...)
}

// Values that only scenarios use (docs/protocol.md §4).
func Param(name string) map[string]any   { return map[string]any{"param": name} }
func Ref(resource string) map[string]any { return map[string]any{"ref": resource} }
func Blob(n int) map[string]any          { return map[string]any{"blob": n} }

// Dict is a Python dict value: keys of any type, as [key, value] pairs.
func Dict(pairs ...[2]any) map[string]any {
	ps := make([]any, len(pairs))
	for i, p := range pairs {
		ps[i] = []any{p[0], p[1]}
	}
	return map[string]any{"dict": ps}
}

// Scaled returns a copy whose durations (ms, timeout) are multiplied by f, the
// harness's --time-scale. Drivers use durations as given.
func (s *Scenario) Scaled(f float64) *Scenario {
	out := *s
	out.Resources = make([]Resource, len(s.Resources))
	for i, r := range s.Resources {
		out.Resources[i] = Resource(scaleMap(r, f))
	}
	out.Programs = map[string]Program{}
	for n, p := range s.Programs {
		out.Programs[n] = Program{Params: p.Params, Steps: scaleSteps(p.Steps, f)}
	}
	out.Steps = scaleSteps(s.Steps, f)
	return &out
}

func scaleSteps(steps []Step, f float64) []Step {
	out := make([]Step, len(steps))
	for i, st := range steps {
		out[i] = Step(scaleMap(st, f))
	}
	return out
}

func scaleMap(m map[string]any, f float64) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch {
		case k == "ms" || k == "timeout":
			out[k] = scale(v, f)
		case k == "body":
			out[k] = scaleSteps(v.([]Step), f)
		case k == "until":
			out[k] = Step(scaleMap(v.(Step), f))
		default:
			out[k] = v
		}
	}
	return out
}

func scale(v any, f float64) any {
	var x float64
	switch n := v.(type) {
	case int:
		x = float64(n)
	case float64:
		x = n
	default:
		return v
	}
	x *= f
	if x == math.Trunc(x) {
		return int(x)
	}
	return x
}

// JSON encodes the scenario. Go floats are written with a decimal point, so that a
// driver decodes them as floats (encoding/json writes 1.0 as 1).
func (s *Scenario) JSON() ([]byte, error) {
	progs := map[string]any{}
	for n, p := range s.Programs {
		progs[n] = map[string]any{"params": p.Params, "steps": p.Steps}
	}
	res := make([]any, len(s.Resources))
	for i, r := range s.Resources {
		res[i] = map[string]any(r)
	}
	return Marshal(map[string]any{
		"protocol": s.Protocol, "name": s.Name,
		"resources": res, "programs": progs, "main": s.Steps,
	})
}

// Marshal encodes v as JSON, writing every float64 with a '.' or an exponent.
func Marshal(v any) ([]byte, error) {
	return json.Marshal(typed(v))
}

// typed rewrites float64s inside v as float, recursively through the shapes that
// scenarios are made of.
func typed(v any) any {
	switch x := v.(type) {
	case float64:
		return float(x)
	case Step:
		return typed(map[string]any(x))
	case Resource:
		return typed(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = typed(vv)
		}
		return out
	case []Step:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = typed(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = typed(vv)
		}
		return out
	default:
		return v
	}
}

// float marks a number that was a float64 in Go.
type float float64

func (f float) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

// ScaleJSON multiplies the durations (ms, timeout) of a scenario document by f,
// keeping every other byte's meaning: ints stay ints, floats floats.
func ScaleJSON(doc []byte, f float64) ([]byte, error) {
	if f == 1 {
		return doc, nil
	}
	var g map[string]any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&g); err != nil {
		return nil, err
	}
	return Marshal(scaleAny(g, f, ""))
}

func scaleAny(v any, f float64, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = scaleAny(vv, f, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = scaleAny(vv, f, "")
		}
		return out
	case json.Number:
		if key != "ms" && key != "timeout" {
			return x
		}
		n, err := x.Float64()
		if err != nil {
			return x
		}
		return scale(n, f)
	}
	return v
}
