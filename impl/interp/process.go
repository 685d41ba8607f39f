package interp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/mpconform/mpconform/impl/mp"
)

// processOps are the ops of the process and daemon families (protocol.md §6).
func processOps() map[string]Op {
	ops := map[string]Op{}
	onProc := func(more map[string]Field) map[string]Field {
		fields := map[string]Field{"proc": {Name, true}, "index": {Int, false}}
		maps.Copy(fields, more)
		return fields
	}
	ops["spawn"] = Op{Fields: map[string]Field{"as": {Name, true}, "program": {Name, true}, "args": {List, false},
		"name": {String, false}, "prefix": {String, false}, "daemon": {Bool, false}, "kwargs": {Value, false}}, Run: spawn}
	ops["start"] = Op{Fields: onProc(nil), Run: func(c *Call) (any, error) {
		if err := c.Proc.Start(); err != nil {
			return nil, err
		}
		return int64(c.Proc.Pid()), nil
	}}
	// join joins a process ("proc") or a joinable queue ("on", queue.go).
	joinFields := onProc(map[string]Field{"timeout": {Number, false}, "on": {ResourceName, false}})
	joinFields["proc"] = Field{Name, false}
	ops["join"] = Op{Fields: joinFields, OneOf: []string{"proc", "on"}, Blocks: true, On: []string{"joinable_queue"}, Run: join}
	ops["is_alive"] = Op{Fields: onProc(nil), Run: unclosed(func(c *Call) (any, error) { return c.Proc.IsAlive(), nil })}
	ops["exitcode"] = Op{Fields: onProc(nil), Run: unclosed(func(c *Call) (any, error) { return exitCode(c.Proc), nil })}
	ops["pid"] = Op{Fields: onProc(nil), Run: unclosed(func(c *Call) (any, error) {
		if pid := c.Proc.Pid(); pid != 0 {
			return int64(pid), nil
		}
		return nil, nil
	})}
	ops["name"] = Op{Fields: onProc(nil), Run: func(c *Call) (any, error) { return c.Proc.Name(), nil }}
	ops["terminate"] = Op{Fields: onProc(nil), Run: func(c *Call) (any, error) { return nil, c.Proc.Terminate() }}
	ops["kill"] = Op{Fields: onProc(nil), Run: func(c *Call) (any, error) { return nil, c.Proc.Kill() }}
	ops["set_daemon"] = Op{Fields: onProc(map[string]Field{"value": {Bool, true}}), Run: func(c *Call) (any, error) {
		return nil, c.Proc.SetDaemon(c.In["value"].(bool))
	}}
	ops["active_children"] = Op{Fields: map[string]Field{}, Run: func(*Call) (any, error) {
		var names []string
		for _, p := range mp.ActiveChildren() {
			names = append(names, p.Name())
		}
		slices.Sort(names)
		list := []any{}
		for _, n := range names {
			list = append(list, n)
		}
		return list, nil
	}}
	maps.Copy(ops, processExtraOps(onProc))
	return ops
}

// childArg is what a child needs to run one program of the scenario. The
// resources that its arguments refer to travel with it: encoding them passes
// their file descriptors to the child (mp's handles).
type childArg struct {
	Scenario  json.RawMessage `json:"scenario"`
	Program   string          `json:"program"`
	Args      json.RawMessage `json:"args"`             // resolved values, as protocol JSON
	Kwargs    json.RawMessage `json:"kwargs,omitempty"` // a dict of param name → value, bound after args
	Resources []*Resource     `json:"resources"`
	Trace     string          `json:"trace"`
}

// programTarget runs a program in a child process.
var programTarget = mp.Register("interp.program", func(a childArg) error {
	sc, err := parseScenario(a.Scenario)
	if err != nil {
		return fmt.Errorf("driver: scenario error: %v", err)
	}
	prog, ok := sc.programs[a.Program]
	if !ok {
		return fmt.Errorf("driver: no program %q", a.Program)
	}
	args, err := decodeJSONValue(a.Args)
	if err != nil {
		return fmt.Errorf("driver: arguments: %v", err)
	}
	list, _ := args.([]any)
	if a.Kwargs != nil {
		if list, err = bindKwargs(prog, list, a.Kwargs); err != nil {
			return fmt.Errorf("driver: %v", err)
		}
	}
	if len(list) != len(prog.params) {
		return fmt.Errorf("driver: program %q takes %d args, got %d", prog.name, len(prog.params), len(list))
	}
	held := map[string]*Resource{}
	for _, r := range a.Resources {
		held[r.Name] = r
	}
	// runProgram has done the end-of-program work already; exit here so
	// that mp's own shutdown does not redo it behind a replaced AtEnd.
	os.Exit(runProgram(sc, prog, list, a.Trace, held))
	return nil
})

func spawn(c *Call) (any, error) {
	var opts []mp.Option
	if name, ok := c.In["name"].(string); ok {
		opts = append(opts, mp.Name(name))
	}
	if prefix, ok := c.In["prefix"].(string); ok {
		opts = append(opts, mp.Prefix(prefix))
	}
	if daemon, ok := c.In["daemon"].(bool); ok {
		opts = append(opts, mp.Daemon(daemon))
	}
	args, _ := c.In["args"].([]any)
	if args == nil {
		args = []any{}
	}
	arg := childArg{Scenario: c.r.sc.raw, Program: c.In["program"].(string), Args: encodeValue(args), Trace: c.r.dir}
	if kw, ok := c.In["kwargs"].(Dict); ok {
		arg.Kwargs = encodeValue(kw)
	}
	for _, name := range refs([]any{args, c.In["kwargs"]}) {
		arg.Resources = append(arg.Resources, c.r.resources[name]) // held: the runner checked
	}
	p := mp.New(programTarget, arg, append(opts, driver.SpawnOptions...)...)
	c.Bind(c.In["as"].(string), p)
	return p.Name(), nil
}

func join(c *Call) (any, error) {
	if c.On != nil {
		return joinQueue(c)
	}
	ctx := context.Background()
	if d, ok := c.duration("timeout"); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, max(d, 0))
		defer cancel()
	}
	if err := c.Proc.Join(ctx); err != nil && ctx.Err() == nil {
		return nil, err
	}
	// A join that timed out is no error: the exit code says it is running.
	return exitCode(c.Proc), nil
}

// exitCode is the process's exit code, or nil while it has not exited.
func exitCode(p *mp.Process) any {
	if code, exited := p.ExitCode(); exited {
		return int64(code)
	}
	return nil
}
