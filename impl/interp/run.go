package interp

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mpconform/mpconform/impl/mp"
)

// A runner runs the programs of one process.
type runner struct {
	sc        *scenario
	trace     *tracer
	dir       string
	groups    map[string][]*mp.Process
	resources map[string]*Resource // the resources this process holds
	ending    *ending              // set by return, raise, or exit in an action: the program stops
	capture   *captured            // set while a wait_for predicate runs: record nothing
	inAction  bool                 // running a barrier's action
	returned  any                  // the value of the last return: a pool task's result
}

type ending struct {
	raised  bool
	message string
	exit    bool // exit in a barrier's action: the party exits once out of the barrier
	code    int
}

// captured is the outcome of a step run as a predicate.
type captured struct {
	value any
	err   error
}

// errUnrecorded is what an op returns when it must write no record: a
// barrier wait whose action raised or exited leaves only its pending record,
// as the party's program ends there.
var errUnrecorded = errors.New("unrecorded")

// An env binds params and repeat variables; inner bindings come first.
type env struct {
	name string
	val  any
	up   *env
}

func (e *env) with(name string, val any) *env { return &env{name, val, e} }

func (e *env) lookup(name string) (any, bool) {
	for ; e != nil; e = e.up {
		if e.name == name {
			return e.val, true
		}
	}
	return nil, false
}

func (r *runner) steps(steps []*step, e *env) {
	for _, s := range steps {
		r.step(s, e)
		if r.ending != nil {
			return
		}
	}
}

func (r *runner) step(s *step, e *env) {
	op := driver.Ops[s.op]
	in := make(map[string]any, len(s.fields))
	for k, v := range s.fields {
		in[k] = resolve(v, e)
	}
	c := Call{Op: s.op, Step: s.path, In: in, r: r, s: s, env: e}
	if err := checkResolved(op, in); err != nil {
		r.fail(c, err)
		return
	}
	for _, v := range in {
		for _, name := range refs(v) {
			if r.resources[name] == nil {
				r.fail(c, r.notHeld(name))
				return
			}
			if err := r.resources[name].refused; err != nil {
				r.fail(c, err)
				return
			}
		}
	}
	if name, ok := in["on"].(string); ok && op.Fields["on"].Kind == ResourceName {
		if c.On = r.resources[name]; c.On == nil {
			r.fail(c, r.notHeld(name))
			return
		}
		if len(op.On) > 0 && !slices.Contains(op.On, c.On.Type) {
			r.fail(c, errorf("Error", "%s: a %s has no %s", name, c.On.Type, s.op))
			return
		}
		if c.On.refused != nil {
			r.fail(c, c.On.refused)
			return
		}
	}
	if _, ok := in["proc"]; !ok {
		r.call(op, c)
		return
	}
	group := r.groups[in["proc"].(string)]
	if i, ok := c.int("index"); ok {
		if i >= int64(len(group)) {
			r.fail(c, errorf("IndexError", "process group %q has %d members, no index %d", in["proc"], len(group), i))
			return
		}
		group = group[i : i+1]
	} else if len(group) == 0 {
		r.fail(c, errorf("Error", "no process is bound to %q yet", in["proc"]))
		return
	}
	for _, p := range group {
		c.Proc = p
		r.call(op, c)
	}
}

func (r *runner) call(op Op, c Call) {
	if r.capture != nil {
		r.capture.value, r.capture.err = op.Run(&c)
		return
	}
	t0 := now()
	if op.Blocks {
		r.write(record{op: c.Op, step: c.Step, in: c.In, t0: t0, pending: true})
	}
	value, err := op.Run(&c)
	t1 := now()
	if op.Instant {
		t1 = t0
	}
	if !op.Silent && err != errUnrecorded {
		r.write(record{op: c.Op, step: c.Step, in: c.In, t0: t0, t1: t1, value: value, err: err})
	}
}

// fail records a step that could not run.
func (r *runner) fail(c Call, err error) {
	if r.capture != nil {
		r.capture.value, r.capture.err = nil, err
		return
	}
	t := now()
	r.write(record{op: c.Op, step: c.Step, in: c.In, t0: t, t1: t, err: err})
}

// evaluate runs s without recording it and returns its value (a wait_for
// predicate).
func (r *runner) evaluate(s *step, e *env) (any, error) {
	saved := r.capture
	r.capture = &captured{}
	defer func() { r.capture = saved }()
	r.step(s, e)
	return r.capture.value, r.capture.err
}

func (r *runner) notHeld(name string) error {
	return errorf("Error", "resource %q was not passed to this process (%s)", name, mp.Current().Name)
}

func (r *runner) write(rec record) {
	if err := r.trace.write(rec); err != nil {
		fmt.Fprintln(os.Stderr, "driver: trace:", err)
	}
}

// checkResolved checks scalar fields whose value came from a param.
func checkResolved(op Op, in map[string]any) error {
	for name, val := range in {
		if val == nil && !op.Fields[name].Required {
			continue
		}
		var ok bool
		switch op.Fields[name].Kind {
		case Int:
			_, ok = val.(int64)
		case Number:
			switch val.(type) {
			case int64, Float:
				ok = true
			}
		case String:
			_, ok = val.(string)
		case Bool:
			_, ok = val.(bool)
		default:
			ok = true
		}
		if !ok {
			return errorf("ValueError", "field %q: want %s, got %s", name, op.Fields[name].Kind, string(appendValue(nil, val, true)))
		}
	}
	return nil
}

// runProgram runs prog as this process's program, with args bound to its
// params, and returns the exit code for its end (§7, §9). Ops that exit or
// crash do not return.
func runProgram(sc *scenario, prog *program, args []any, dir string, resources map[string]*Resource) int {
	tr, err := openTrace(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver: trace:", err)
		return 1
	}
	r := &runner{sc: sc, trace: tr, dir: dir, groups: map[string][]*mp.Process{}, resources: resources}
	r.setActions()
	me := mp.Current()
	t := now()
	r.write(record{op: "process.begin", step: prog.name, in: map[string]any{"program": prog.name, "args": args}, t0: t, t1: t,
		value: map[string]any{"name": me.Name, "daemon": me.Daemon, "program": prog.name}})
	var e *env
	for i, p := range prog.params {
		e = e.with(p, args[i])
	}
	r.steps(prog.steps, e)
	driver.end()
	code := 0
	if r.ending != nil && r.ending.raised {
		fmt.Fprintf(os.Stderr, "%s: raise: %s\n", me.Name, r.ending.message)
		code = 1
	}
	t = now()
	r.write(record{op: "process.end", step: prog.name, t0: t, t1: t, value: map[string]any{"exitcode": code, "maxrss": maxRSS()}})
	return code
}

// maxRSS is this process's peak resident set size in KiB, for process.end:
// VmHWM, the peak of its current address space. (getrusage's ru_maxrss is
// kept across execve, so it would count the memory of whatever ran this
// driver.)
func maxRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
			return kib
		}
	}
	return 0
}
