package interp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/mpconform/mpconform/impl/mp"
)

// A pool task in a worker: its call, how it travels, and its run.

// worker is a pool worker's state, set by poolInit.
var worker struct {
	sc        *scenario
	trace     *tracer
	dir       string
	resources map[string]*Resource
	runner    *runner           // the tasks', one after another
	held      map[*program]bool // whether a program's records may be held (heldProgram)
}

// poolCall is one task: a program and its arguments.
type poolCall struct {
	Program string
	Args    []any
	prog    *program // in a worker, the program named
}

// AppendBinary writes the call as the length of the program's name (a
// uvarint), the name, and the arguments as protocol JSON: a map's items
// are encoded once each, straight into the worker's message.
func (c *poolCall) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(c.Program)))
	b = append(b, c.Program...)
	return appendValue(b, c.Args, false), nil
}

var errMalformedCall = errors.New("malformed task call")

// UnmarshalBinary reads what AppendBinary wrote; in a worker it finds the
// program as well.
func (c *poolCall) UnmarshalBinary(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return errMalformedCall
	}
	name, rest := b[k:k+int(n)], b[k+int(n):]
	if worker.sc != nil {
		c.prog = worker.sc.programs[string(name)]
	}
	if c.prog != nil {
		c.Program = c.prog.name
	} else {
		c.Program = string(name)
	}
	v, err := decodeJSONValue(rest)
	if err != nil {
		return err
	}
	args, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%w: arguments are no list", errMalformedCall)
	}
	c.Args = args
	return nil
}

// heldOps are the ops of a program whose records a worker may hold until
// the end of its job (tracer.hold): none has an effect that another
// process could see before the job's results, so a worker killed in the
// middle leaves a trace as if killed before it, and one that is not, the
// trace it would have written record by record. Every other op, one that
// waits or shows something to another process, is written as it runs.
var heldOps = map[string]bool{"return": true, "raise": true}

// heldProgram reports whether prog's records may be held.
func heldProgram(prog *program) bool {
	held, ok := worker.held[prog]
	if !ok {
		held = true
		walkSteps(prog.steps, func(s *step) { held = held && heldOps[s.op] })
		worker.held[prog] = held
	}
	return held
}

// taskRunner returns the runner of the worker's tasks, reset for the next.
func taskRunner() *runner {
	r := worker.runner
	if r == nil {
		r = workerRunner()
		worker.runner = r
	}
	r.ending, r.capture, r.inAction, r.returned = nil, nil, false, nil
	if len(r.groups) > 0 {
		r.groups = map[string][]*mp.Process{}
	}
	return r
}

func workerRunner() *runner {
	r := &runner{sc: worker.sc, trace: worker.trace, dir: worker.dir, groups: map[string][]*mp.Process{}, resources: worker.resources}
	r.setActions()
	return r
}

// endJob writes what the job's tasks held, before its results go back
// (mp.AtJobEnd).
func endJob() {
	if err := worker.trace.hold(false); err != nil {
		fmt.Fprintln(os.Stderr, "driver: trace:", err)
	}
}

// poolTask runs a program as a task in a worker; its result is the
// returned value, as protocol JSON.
var poolTask = mp.RegisterTask("interp.pool.task", func(call poolCall) ([]byte, error) {
	prog := call.prog
	if prog == nil {
		return nil, fmt.Errorf("no program %q", call.Program)
	}
	args := call.Args
	if len(args) != len(prog.params) {
		return nil, fmt.Errorf("program %q takes %d args, got %d", prog.name, len(prog.params), len(args))
	}
	r := taskRunner()
	if err := worker.trace.hold(heldProgram(prog)); err != nil {
		fmt.Fprintln(os.Stderr, "driver: trace:", err)
	}
	t := now()
	r.write(record{op: "task.begin", step: prog.name, in: map[string]any{"program": prog.name, "args": args}, t0: t, t1: t})
	var e *env
	for i, p := range prog.params {
		e = e.with(p, args[i])
	}
	r.steps(prog.steps, e)
	t = now()
	if r.ending != nil && r.ending.raised {
		err := errorf("TaskError", "%s", r.ending.message)
		r.write(record{op: "task.end", step: prog.name, t0: t, t1: t, err: err})
		return nil, errors.New(r.ending.message)
	}
	// The task's result is the value of the return op that ended it.
	r.write(record{op: "task.end", step: prog.name, t0: t, t1: t, value: r.returned})
	return encodeValue(r.returned), nil
})
