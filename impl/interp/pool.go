package interp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/mpconform/mpconform/impl/mp"
)

// The pool family (protocol.md §6 "pool") and the pool resource (§5). All
// the semantics are mp.Pool's; these ops only turn steps into its calls.
//
// A task is a program of the scenario that a worker runs: the task
// poolTask carries the program's name and its arguments, and the worker
// runs it with a runner of its own, between a task.begin and a task.end
// record, in its trace file. A worker gets the scenario, the trace
// directory and its resources once, through the pool's initializer
// (poolInit), which also runs the scenario's initializer program. A pool is
// created when main first uses it, since its workers need the trace
// directory, which resources are made without; it is not passed to
// children (CPython cannot pickle a Pool either).
//
// Async results bound with "as" (apply_async, map_async) live in a table
// of this process, as process handles do in the runner's groups: binding a
// name again appends to its group, and result.* ops apply to each member.

// poolOps are the ops of the pool family, and result.* on the async results
// that apply_async and map_async bind.
func poolOps() map[string]Op {
	ops := map[string]Op{}
	pools := []string{"pool"}
	task := func(more map[string]Field) map[string]Field {
		return on(mergeFields(map[string]Field{"program": {Name, true}, "args": {List, false}}, more))
	}
	mapping := func(more map[string]Field) map[string]Field {
		return on(mergeFields(map[string]Field{"program": {Name, true}, "items": {List, false},
			"range": {Int, false}, "chunksize": {Int, false}}, more))
	}
	result := func(more map[string]Field) map[string]Field {
		return mergeFields(map[string]Field{"result": {Name, true}}, more)
	}
	timeout := Field{Number, false}

	ops["pool.apply"] = Op{Fields: task(nil), Blocks: true, On: pools, Run: poolApply}
	ops["pool.apply_async"] = Op{Fields: task(map[string]Field{"as": {Name, true}, "callback": {Bool, false},
		"error_callback": {Bool, false}}), On: pools, Run: poolApplyAsync}
	ops["pool.map"] = Op{Fields: mapping(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) { return poolMap(c, false) }}
	ops["pool.starmap"] = Op{Fields: mapping(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) { return poolMap(c, true) }}
	ops["pool.map_async"] = Op{Fields: mapping(map[string]Field{"as": {Name, true}, "callback": {Bool, false},
		"error_callback": {Bool, false}}), On: pools,
		Run: func(c *Call) (any, error) { return poolMapAsync(c, false) }}
	ops["pool.starmap_async"] = Op{Fields: mapping(map[string]Field{"as": {Name, true}, "callback": {Bool, false},
		"error_callback": {Bool, false}}), On: pools,
		Run: func(c *Call) (any, error) { return poolMapAsync(c, true) }}
	ops["pool.imap"] = Op{Fields: mapping(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) { return poolImap(c, true) }}
	ops["pool.imap_unordered"] = Op{Fields: mapping(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) { return poolImap(c, false) }}
	ops["pool.close"] = Op{Fields: on(nil), On: pools, Run: func(c *Call) (any, error) {
		p, err := poolOf(c)
		if err != nil {
			return nil, err
		}
		return nil, p.Close()
	}}
	ops["pool.join"] = Op{Fields: on(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) {
		p, err := poolOf(c)
		if err != nil {
			return nil, err
		}
		return nil, p.Join(context.Background())
	}}
	ops["pool.terminate"] = Op{Fields: on(nil), Blocks: true, On: pools, Run: func(c *Call) (any, error) {
		p, err := poolOf(c)
		if err != nil {
			return nil, err
		}
		return nil, p.Terminate()
	}}
	ops["pool.apply_many"] = Op{Fields: task(map[string]Field{"n": {Int, true}}), Blocks: true, On: pools, Run: poolApplyMany}

	ops["result.get"] = Op{Fields: result(map[string]Field{"timeout": timeout}), Blocks: true, Run: func(c *Call) (any, error) {
		return eachResult(c, func(r *asyncResult) (any, error) {
			ctx, cancel := c.timeoutContext()
			defer cancel()
			return r.get(ctx)
		})
	}}
	ops["result.wait"] = Op{Fields: result(map[string]Field{"timeout": timeout}), Blocks: true, Run: func(c *Call) (any, error) {
		return eachResult(c, func(r *asyncResult) (any, error) {
			ctx, cancel := c.timeoutContext()
			defer cancel()
			if err := r.wait(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return nil, err
			}
			return nil, nil // a wait that times out is no error, as in CPython
		})
	}}
	ops["result.ready"] = Op{Fields: result(nil), Run: func(c *Call) (any, error) {
		return eachResult(c, func(r *asyncResult) (any, error) { return r.ready(), nil })
	}}
	ops["result.successful"] = Op{Fields: result(nil), Run: func(c *Call) (any, error) {
		return eachResult(c, func(r *asyncResult) (any, error) { return r.successful() })
	}}
	return ops
}

func mergeFields(a, b map[string]Field) map[string]Field {
	for k, f := range b {
		a[k] = f
	}
	return a
}

// poolSpec is what a pool resource is made from, kept until main first uses
// the pool.
type poolSpec struct {
	ResourceSpec
	mu   sync.Mutex
	pool *mp.Pool
	err  error
}

// newPoolResource makes a pool resource; the pool itself comes later
// (poolOf).
func newPoolResource(r *Resource, spec ResourceSpec) {
	r.poolSpec = &poolSpec{ResourceSpec: spec}
}

// poolOf returns the pool that c's "on" names, creating it on first use.
func poolOf(c *Call) (*mp.Pool, error) {
	ps := c.On.poolSpec
	if ps == nil {
		return nil, errorf("Error", "%s is no pool", c.On.Name)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.pool == nil && ps.err == nil {
		ps.pool, ps.err = createPool(c.r, ps)
		if ps.err == nil {
			created.Lock()
			created.pools = append(created.pools, ps.pool)
			created.Unlock()
		}
	}
	return ps.pool, ps.err
}

// created lists the pools this process created, which end with it (§9).
var created struct {
	sync.Mutex
	pools []*mp.Pool
}

// terminatePools terminates the pools this process created, at the end of
// its program (Driver.end).
func terminatePools() {
	created.Lock()
	pools := created.pools
	created.pools = nil
	created.Unlock()
	for _, p := range pools {
		p.Terminate()
	}
}

// poolInitArg is what a worker gets once: all it needs to run tasks.
type poolInitArg struct {
	Scenario    json.RawMessage `json:"scenario"`
	Trace       string          `json:"trace"`
	Resources   []*Resource     `json:"resources"`
	Pool        string          `json:"pool"` // its resource name: the step of process.begin and process.end
	Initializer string          `json:"initializer"`
	Initargs    json.RawMessage `json:"initargs"`
}

func createPool(r *runner, ps *poolSpec) (*mp.Pool, error) {
	var opts []mp.PoolOption
	if ps.Processes != nil {
		opts = append(opts, mp.Processes(int(*ps.Processes)))
	}
	if ps.MaxTasks != nil {
		opts = append(opts, mp.MaxTasksPerChild(int(*ps.MaxTasks)))
	}
	initargs := ps.Initargs
	if initargs == nil {
		initargs = []any{}
	}
	arg := poolInitArg{Scenario: r.sc.raw, Trace: r.dir, Pool: ps.Name, Initializer: ps.Initializer, Initargs: encodeValue(initargs)}
	// A worker holds the resources its initargs pass, as a CPython worker
	// inherits them, and those that the tasks of this pool are given.
	names := refs(initargs)
	for _, p := range append([]*program{r.sc.main}, sortedPrograms(r.sc)...) {
		walkSteps(p.steps, func(s *step) {
			if on, _ := s.fields["on"].(string); on == ps.Name && len(s.op) > 5 && s.op[:5] == "pool." {
				for _, name := range refs(s.fieldValues()) {
					if name != ps.Name && !containsString(names, name) {
						names = append(names, name)
					}
				}
			}
		})
	}
	for _, name := range names {
		if res := r.resources[name]; res != nil && res.poolSpec == nil {
			arg.Resources = append(arg.Resources, res)
		}
	}
	opts = append(opts, mp.Initializer(poolInit, arg))
	return mp.NewPool(append(opts, driver.PoolOptions(ps.ResourceSpec)...)...)
}

func sortedPrograms(sc *scenario) []*program {
	var list []*program
	for _, name := range sortedKeys(sc.programs) {
		list = append(list, sc.programs[name])
	}
	return list
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// poolInit starts a worker: it writes process.begin, runs the initializer
// program, and arranges for process.end when the worker exits of itself.
var poolInit = mp.Register("interp.pool.init", func(a poolInitArg) error {
	sc, err := parseScenario(a.Scenario)
	if err != nil {
		return fmt.Errorf("driver: scenario error: %v", err)
	}
	tr, err := openTrace(a.Trace)
	if err != nil {
		return fmt.Errorf("driver: trace: %v", err)
	}
	worker.sc, worker.trace, worker.dir = sc, tr, a.Trace
	worker.resources, worker.held = map[string]*Resource{}, map[*program]bool{}
	mp.AtJobEnd(endJob)
	for _, res := range a.Resources {
		worker.resources[res.Name] = res
	}
	args, err := decodeJSONValue(a.Initargs)
	if err != nil {
		return fmt.Errorf("driver: initargs: %v", err)
	}
	me := mp.Current()
	var program any
	if a.Initializer != "" {
		program = a.Initializer
	}
	t := now()
	r := workerRunner()
	r.write(record{op: "process.begin", step: a.Pool, in: map[string]any{"program": program, "args": args}, t0: t, t1: t,
		value: map[string]any{"name": me.Name, "daemon": me.Daemon, "program": program}})
	mp.AtWorkerExit(func() {
		t := now()
		r.write(record{op: "process.end", step: a.Pool, t0: t, t1: t, value: map[string]any{"exitcode": 0, "maxrss": maxRSS()}})
	})
	if prog := sc.programs[a.Initializer]; prog != nil {
		list, _ := args.([]any)
		var e *env
		for i, p := range prog.params {
			if i < len(list) {
				e = e.with(p, list[i])
			}
		}
		r.steps(prog.steps, e)
		if r.ending != nil && r.ending.raised {
			return fmt.Errorf("initializer %s raised: %s", prog.name, r.ending.message)
		}
	}
	return nil
})

// call makes the task of a step: its program with args.
func call(c *Call, args []any) poolCall {
	return poolCall{Program: c.In["program"].(string), Args: args}
}

// taskError turns an mp error into the protocol's kinds.
func taskError(err error) error {
	var te *mp.TaskError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return errorf("TaskError", "%s", te.Message)
	case errors.Is(err, mp.ErrWorkerLost):
		return errorf("WorkerLost", "%s", err.Error())
	}
	return err
}

func decodeResult(b []byte, err error) (any, error) {
	if err != nil {
		return nil, taskError(err)
	}
	return decodeJSONValue(b)
}

func stepArgs(c *Call) []any {
	args, _ := c.In["args"].([]any)
	if args == nil {
		args = []any{}
	}
	return args
}

func poolApply(c *Call) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	return decodeResult(mp.Apply(context.Background(), p, poolTask, call(c, stepArgs(c))))
}

func poolApplyMany(c *Call) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	n, _ := c.int("n")
	task := call(c, stepArgs(c))
	for range n {
		if _, err := mp.Apply(context.Background(), p, poolTask, task); err != nil {
			return nil, taskError(err)
		}
	}
	return n, nil
}

// callbacks writes pool.callback and pool.error_callback records, from the
// goroutine that reads the result, when the step asks for them.
func callbacks[R any](c *Call, decode func(R) (any, error)) mp.Callbacks[R] {
	var cb mp.Callbacks[R]
	tr, step := c.r.trace, c.Step
	in := map[string]any{"result": c.In["as"], "program": c.In["program"]}
	if v, _ := c.In["callback"].(bool); v {
		cb.OnResult = func(res R) {
			v, err := decode(res)
			t := now()
			tr.write(record{op: "pool.callback", step: step, in: in, t0: t, t1: t, value: v, err: err})
		}
	}
	if v, _ := c.In["error_callback"].(bool); v {
		cb.OnError = func(err error) {
			t := now()
			tr.write(record{op: "pool.error_callback", step: step, in: in, t0: t, t1: t, err: taskError(err)})
		}
	}
	return cb
}

func poolApplyAsync(c *Call) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	decode := func(b []byte) (any, error) { return decodeJSONValue(b) }
	r, err := mp.ApplyAsync(p, poolTask, call(c, stepArgs(c)), callbacks(c, decode))
	if err != nil {
		return nil, err
	}
	bindResult(c, wrapResult(r, decode))
	return nil, nil
}

// mapCalls returns the tasks of a map step: one per item of "items" or of
// "range", the item as the only argument, or (starmap) as the arguments.
func mapCalls(c *Call, star bool) ([]poolCall, []mp.MapOption, error) {
	var items []any
	if list, ok := c.In["items"].([]any); ok {
		items = list
	} else if n, ok := c.int("range"); ok {
		items = make([]any, 0, max(min(n, 1<<20), 0))
		for i := range n {
			items = append(items, i)
		}
	} else if _, ok := c.In["items"]; !ok {
		return nil, nil, errorf("ValueError", "%s needs items or range", c.Op)
	}
	calls := make([]poolCall, len(items))
	for i, item := range items {
		args := items[i : i+1 : i+1] // the item alone, without a list of its own
		if star {
			list, ok := item.([]any)
			if !ok {
				return nil, nil, errorf("ValueError", "starmap item %d is not a list of arguments", i)
			}
			args = list
		}
		calls[i] = call(c, args)
	}
	var opts []mp.MapOption
	if n, ok := c.int("chunksize"); ok {
		opts = append(opts, mp.Chunksize(int(min(n, math.MaxInt32))))
	}
	return calls, opts, nil
}

func decodeList(results [][]byte) (any, error) {
	list := make([]any, len(results))
	for i, b := range results {
		var err error
		if list[i], err = decodeJSONValue(b); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func poolMap(c *Call, star bool) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	calls, opts, err := mapCalls(c, star)
	if err != nil {
		return nil, err
	}
	results, err := mp.Map(context.Background(), p, poolTask, calls, opts...)
	if err != nil {
		return nil, taskError(err)
	}
	return decodeList(results)
}

func poolMapAsync(c *Call, star bool) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	calls, opts, err := mapCalls(c, star)
	if err != nil {
		return nil, err
	}
	r, err := mp.MapAsync(p, poolTask, calls, opts, callbacks(c, decodeList))
	if err != nil {
		return nil, err
	}
	bindResult(c, wrapResult(r, decodeList))
	return nil, nil
}

// poolImap records one pool.imap.item per result as it is yielded, and
// returns the results in that order; an item that failed ends the
// iteration with its error, as the exception does in CPython.
func poolImap(c *Call, ordered bool) (any, error) {
	p, err := poolOf(c)
	if err != nil {
		return nil, err
	}
	calls, opts, err := mapCalls(c, false)
	if err != nil {
		return nil, err
	}
	imap := mp.ImapUnordered[poolCall, []byte]
	if ordered {
		imap = mp.Imap[poolCall, []byte]
	}
	seq, err := imap(context.Background(), p, poolTask, calls, opts...)
	if err != nil {
		return nil, err
	}
	list := []any{}
	t0 := now() // each item's record spans the wait for it
	for b, err := range seq {
		v, err := decodeResult(b, err)
		c.r.write(record{op: "pool.imap.item", step: c.Step, in: c.In, t0: t0, t1: now(), value: []any{int64(len(list)), v}, err: err})
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		t0 = now()
	}
	return list, nil
}

// An asyncResult is a result handle bound with "as".
type asyncResult struct {
	get        func(context.Context) (any, error)
	wait       func(context.Context) error
	ready      func() bool
	successful func() (bool, error)
}

func wrapResult[R any](r *mp.AsyncResult[R], decode func(R) (any, error)) *asyncResult {
	return &asyncResult{
		get: func(ctx context.Context) (any, error) {
			v, err := r.Get(ctx)
			if err != nil {
				return nil, taskError(err)
			}
			return decode(v)
		},
		wait:       r.Wait,
		ready:      r.Ready,
		successful: r.Successful,
	}
}

// results holds this process's async results, by the name bound with
// "as" (a group, as process handles are).
var results = map[string][]*asyncResult{}

func bindResult(c *Call, r *asyncResult) {
	as := c.In["as"].(string)
	results[as] = append(results[as], r)
}

// eachResult runs f on each member of the "result" group, in the order
// they were bound, with one record each, as an op on a process group does.
func eachResult(c *Call, f func(*asyncResult) (any, error)) (any, error) {
	name := c.In["result"].(string)
	group := results[name]
	if len(group) == 0 {
		return nil, errorf("Error", "no async result is bound to %q yet", name)
	}
	if len(group) == 1 || c.r.capture != nil {
		return f(group[len(group)-1])
	}
	for i, r := range group {
		t0 := now()
		if i > 0 && driver.Ops[c.Op].Blocks {
			c.r.write(record{op: c.Op, step: c.Step, in: c.In, t0: t0, pending: true})
		}
		v, err := f(r)
		c.r.write(record{op: c.Op, step: c.Step, in: c.In, t0: t0, t1: now(), value: v, err: err})
	}
	return nil, errUnrecorded
}

// setPool validates field k of a pool resource and sets it in spec.
func (spec *ResourceSpec) setPool(where, k string, raw any, types map[string]string, programs map[string]*program) error {
	wrong := func(want string) error {
		return errorAt(where, "pool.%s: want %s, got %s", k, want, describe(raw))
	}
	switch k {
	case "processes", "maxtasksperchild":
		n, ok := raw.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		v, err := decodeNumber(n)
		i, isInt := v.(int64)
		if err != nil || !isInt {
			return wrong("an integer")
		}
		if k == "processes" {
			spec.Processes = &i
		} else {
			spec.MaxTasks = &i
		}
	case "initializer":
		name, ok := raw.(string)
		if !ok {
			return wrong("a program name")
		}
		if _, ok := programs[name]; !ok {
			return errorAt(where, "pool.initializer: no program %q", name)
		}
		spec.Initializer = name
	case "initargs":
		list, ok := raw.([]any)
		if !ok {
			return wrong("a list")
		}
		v, err := decodeValue(list, true)
		if err != nil {
			return errorAt(where, "pool.initargs: %v", err)
		}
		err = walkValue(v, func(x any) error {
			switch x := x.(type) {
			case param:
				return errorAt(where, "pool.initargs: no param %q here", string(x))
			case ref:
				if _, ok := types[string(x)]; !ok {
					return errorAt(where, "pool.initargs: no resource %q declared before the pool", string(x))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		spec.Initargs = v.([]any)
	}
	if prog := programs[spec.Initializer]; prog != nil && spec.Initargs != nil && len(spec.Initargs) != len(prog.params) {
		return errorAt(where, "pool.initializer: program %q takes %d args, initargs has %d", prog.name, len(prog.params), len(spec.Initargs))
	}
	return nil
}
