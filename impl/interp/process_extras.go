package interp

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/mpconform/mpconform/impl/mp"
)

// processExtraOps are the process ops beyond the life cycle: the sentinel,
// the calling process's own description, the CPU count, and os._exit.
// close on a process is in queue.go's close.
func processExtraOps(onProc func(map[string]Field) map[string]Field) map[string]Op {
	ops := map[string]Op{}
	ops["wait_sentinel"] = Op{Fields: onProc(map[string]Field{"timeout": {Number, false}}), Blocks: true, Run: waitSentinel}
	ops["current_process"] = Op{Fields: map[string]Field{}, Run: func(*Call) (any, error) {
		me := mp.Current()
		return Dict{{"name", me.Name}, {"pid", int64(me.Pid)}, {"daemon", me.Daemon}}, nil
	}}
	ops["parent_process"] = Op{Fields: map[string]Field{}, Run: func(*Call) (any, error) {
		parent, ok := mp.ParentProcess()
		if !ok {
			return nil, nil
		}
		return Dict{{"name", parent.Name}, {"pid", int64(parent.Pid)}}, nil
	}}
	ops["cpu_count"] = Op{Fields: map[string]Field{}, Run: func(*Call) (any, error) { return int64(mp.CPUCount()), nil }}
	ops["os_exit"] = Op{Fields: map[string]Field{"code": {Int, true}}, Silent: true, Run: func(c *Call) (any, error) {
		code, _ := c.int("code")
		os.Exit(int(code)) // as os._exit: no end-of-program work, no process.end
		return nil, nil
	}}
	return ops
}

// unclosed makes an op on a process fail with Closed once it is closed, as
// CPython's pid, exitcode and is_alive raise "process object is closed"
// where mp's Pid, ExitCode and IsAlive cannot fail.
func unclosed(run func(*Call) (any, error)) func(*Call) (any, error) {
	return func(c *Call) (any, error) {
		if c.Proc.Closed() {
			return nil, fmt.Errorf("%w: process object is closed", mp.ErrClosed)
		}
		return run(c)
	}
}

// waitSentinel waits up to the timeout (default: none, a poll) for the
// process's sentinel, as connection.wait([p.sentinel], timeout).
func waitSentinel(c *Call) (any, error) {
	ended, err := c.Proc.Sentinel()
	if err != nil {
		return nil, err
	}
	d, _ := c.duration("timeout")
	ctx, cancel := context.WithTimeout(context.Background(), max(d, 0))
	defer cancel()
	select {
	case <-ended:
		return true, nil
	default:
	}
	select {
	case <-ended:
		return true, nil
	case <-ctx.Done():
		return false, nil
	}
}

// kwargNames returns the keys of a spawn's kwargs, which must be strings.
func kwargNames(kwargs any) ([]string, error) {
	d, ok := kwargs.(Dict)
	if !ok {
		return nil, fmt.Errorf("spawn.kwargs: want a dict of param name to value")
	}
	var names []string
	for _, p := range d {
		name, ok := p.Key.(string)
		if !ok {
			return nil, fmt.Errorf("spawn.kwargs: key %v is not a param name", p.Key)
		}
		names = append(names, name)
	}
	return names, nil
}

// checkKwargs checks that nargs positional args and the kwargs bind every
// param of prog exactly once, as Python's call of the target would.
func checkKwargs(prog *program, nargs int, kwargs any) error {
	names, err := kwargNames(kwargs)
	if err != nil {
		return err
	}
	if nargs > len(prog.params) {
		return fmt.Errorf("program %q takes %d args, got %d", prog.name, len(prog.params), nargs)
	}
	for i, name := range names {
		switch j := slices.Index(prog.params, name); {
		case j < 0:
			return fmt.Errorf("program %q has no param %q", prog.name, name)
		case j < nargs || slices.Index(names, name) < i:
			return fmt.Errorf("program %q: param %q is given twice", prog.name, name)
		}
	}
	if nargs+len(names) != len(prog.params) {
		return fmt.Errorf("program %q takes %d args, got %d and %d kwargs", prog.name, len(prog.params), nargs, len(names))
	}
	return nil
}

// bindKwargs returns the full argument list of prog: args, then each
// remaining param's value from the kwargs (encoded as protocol JSON).
func bindKwargs(prog *program, args []any, raw []byte) ([]any, error) {
	v, err := decodeJSONValue(raw)
	if err != nil {
		return nil, fmt.Errorf("kwargs: %v", err)
	}
	if err := checkKwargs(prog, len(args), v); err != nil {
		return nil, err
	}
	list := slices.Clone(args)
	for _, name := range prog.params[len(args):] {
		i := slices.IndexFunc(v.(Dict), func(p Pair) bool { return p.Key == name })
		list = append(list, v.(Dict)[i].Value)
	}
	return list, nil
}
