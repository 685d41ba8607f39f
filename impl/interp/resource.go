package interp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// A ResourceSpec is a resource as a scenario declares it (protocol.md §5),
// validated.
type ResourceSpec struct {
	Name    string
	Type    string
	Value   int64          // semaphore, bounded_semaphore: the initial value
	Lock    string         // condition: the name of its lock or rlock resource; "" for a new RLock
	Parties int64          // barrier
	Action  string         // barrier: the program that the last party to arrive runs; "" for none
	Timeout *time.Duration // barrier: the default timeout of wait; nil for none
	Maxsize int64          // queue, joinable_queue: 0 for unbounded
	Simplex bool           // pipe: Pipe(duplex=False)

	Processes   *int64 // pool: its size; nil for the CPU count
	MaxTasks    *int64 // pool: maxtasksperchild; nil for none
	Initializer string // pool: the program each worker runs first; "" for none
	Initargs    []any  // pool: the initializer's arguments (refs unresolved)

	Serve    string  // manager: "unix" or "tcp" to serve on an address; "" for none
	AuthKey  *string // manager: the key of its address; nil for a random one
	Manager  string  // manager.*: the manager resource that serves it
	Init     any     // manager.dict, manager.list, manager.value: the initial value (refs unresolved)
	Typecode string  // manager.value, manager.array; value, array, raw_value, raw_array
	Typeid   string  // manager.custom: a custom type of protocol.md §5

	Size    *int64 // shared_memory: the size asked for; array, raw_array: its length when it has no init
	ShmName string // shared_memory, shareable_list: the segment's name; "" for a random one
	NoLock  bool   // value, array: lock: false
	Family  string // listener: "unix", "abstract", "tcp" or "pipe"; "" for unix
	// AddressOf is a listener's: the listener declared before it whose
	// address it listens on.
	AddressOf string
}

// A Resource is a resource of the scenario as one process holds it: main
// holds them all, a child those it was passed as {"ref"} arguments. One of
// the handles is set, as Type says; a semaphore and a bounded_semaphore are
// both a Semaphore. It travels to a child in the child's argument, which
// passes the handles' file descriptors (see mp.Lock).
type Resource struct {
	Name      string        `json:"name"`
	Type      string        `json:"type"`
	Lock      *mp.Lock      `json:"lock,omitempty"`
	RLock     *mp.RLock     `json:"rlock,omitempty"`
	Semaphore *mp.Semaphore `json:"semaphore,omitempty"`
	Event     *mp.Event     `json:"event,omitempty"`
	Condition *mp.Condition `json:"condition,omitempty"`
	Barrier   *mp.Barrier   `json:"barrier,omitempty"`

	// Queue is the queue of a queue, joinable_queue or simple_queue;
	// Joinable is set too for a joinable_queue.
	Queue    *mp.Queue         `json:"queue,omitempty"`
	Joinable *mp.JoinableQueue `json:"joinable,omitempty"`
	// Conn is a pipe end's connection (type "pipe_end", named NAME.0 or
	// NAME.1). A pipe resource holds its two ends in Ends; it is not used
	// by ops itself.
	Conn *mp.Conn    `json:"conn,omitempty"`
	Ends []*Resource `json:"-"`

	// refused is the error of a resource whose constructor refused the
	// scenario's arguments (§5): every op on it, and every ref to it, fails
	// with it.
	refused error

	// poolSpec is a pool's, which makes its mp.Pool on first use (pool.go);
	// a pool is not passed to children.
	poolSpec *poolSpec

	// Manager is a manager's mp.Manager, or a connection's (type
	// "manager.connection", bound by manager.connect). The proxy resources
	// (manager.dict, manager.list...) hold their proxy in the field of
	// their type (manager.go).
	Manager   *mp.Manager        `json:"manager,omitempty"`
	Dict      *mp.DictProxy      `json:"dict,omitempty"`
	List      *mp.ListProxy      `json:"list,omitempty"`
	Namespace *mp.NamespaceProxy `json:"namespace,omitempty"`
	MValue    *mp.ValueProxy     `json:"mvalue,omitempty"`
	MLock     *mp.LockProxy      `json:"mlock,omitempty"`

	// A segment, a shareable list (which travel by name: the child
	// attaches), or a shared-memory manager (shared_memory.go).
	SharedMemory *mp.SharedMemory        `json:"shared_memory,omitempty"`
	SList        *mp.ShareableList       `json:"shareable_list,omitempty"`
	SMM          *mp.SharedMemoryManager `json:"-"`
	// Shared is a value's or an array's (sharedctypes.go).
	Shared *sharedRes `json:"shared,omitempty"`
	// The proxies of the types served by method name (manager_types.go).
	MQueue     *mp.QueueProxy     `json:"mqueue,omitempty"`
	MEvent     *mp.EventProxy     `json:"mevent,omitempty"`
	MSemaphore *mp.SemaphoreProxy `json:"msemaphore,omitempty"`
	MBarrier   *mp.BarrierProxy   `json:"mbarrier,omitempty"`
	MArray     *mp.ArrayProxy     `json:"marray,omitempty"`
	MCustom    *mp.ManagedProxy   `json:"mcustom,omitempty"`
	MRLock     *mp.RLockProxy     `json:"mrlock,omitempty"`
	MCondition *mp.ConditionProxy `json:"mcondition,omitempty"`
	// Listener is a listener resource's (listener.go).
	Listener *listenerRes `json:"listener,omitempty"`
}

// newResource is the reference driver's Driver.NewResource.
func newResource(spec ResourceSpec, made map[string]*Resource) (*Resource, error) {
	r := &Resource{Name: spec.Name, Type: spec.Type}
	var err error
	switch spec.Type {
	case "lock":
		r.Lock, err = mp.NewLock()
	case "rlock":
		r.RLock, err = mp.NewRLock()
	case "semaphore":
		r.Semaphore, err = mp.NewSemaphore(int(spec.Value))
	case "bounded_semaphore":
		r.Semaphore, err = mp.NewBoundedSemaphore(int(spec.Value))
	case "event":
		r.Event, err = mp.NewEvent()
	case "condition":
		var lock mp.Locker
		if spec.Lock != "" {
			if l := made[spec.Lock]; l.Lock != nil {
				lock = l.Lock
			} else {
				lock = l.RLock
			}
		}
		r.Condition, err = mp.NewCondition(lock)
	case "barrier":
		var opts []mp.BarrierOption
		if spec.Timeout != nil {
			opts = append(opts, mp.BarrierTimeout(*spec.Timeout))
		}
		r.Barrier, err = mp.NewBarrier(int(spec.Parties), opts...)
	case "queue":
		r.Queue, err = mp.NewQueue(int(spec.Maxsize))
	case "joinable_queue":
		r.Joinable, err = mp.NewJoinableQueue(int(spec.Maxsize))
		if err == nil {
			r.Queue = &r.Joinable.Queue
		}
	case "simple_queue":
		var q *mp.SimpleQueue
		if q, err = mp.NewSimpleQueue(); err == nil {
			r.Queue = &q.Queue
		}
	case "pipe":
		var a, b *mp.Conn
		if a, b, err = mp.Pipe(!spec.Simplex); err == nil {
			r.Ends = []*Resource{
				{Name: spec.Name + ".0", Type: "pipe_end", Conn: a},
				{Name: spec.Name + ".1", Type: "pipe_end", Conn: b},
			}
		}
	case "pool":
		newPoolResource(r, spec)
	case "listener":
		r.Listener, err = newListener(spec, made)
	case "manager":
		r.Manager, err = newManager(spec)
	case "manager.dict", "manager.list", "manager.namespace", "manager.value", "manager.lock":
		err = newProxy(r, spec, made)
	case "shared_memory", "shareable_list", "shared_memory_manager":
		err = newShmResource(r, spec)
	case "value", "array", "raw_value", "raw_array":
		err = newSharedResource(r, spec, made)
	case "manager.queue", "manager.joinable_queue", "manager.event", "manager.semaphore",
		"manager.bounded_semaphore", "manager.barrier", "manager.array", "manager.custom",
		"manager.rlock", "manager.condition":
		err = newServedProxy(r, spec, made)
	default:
		err = fmt.Errorf("resource type %q is not supported", spec.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", spec.Name, err)
	}
	return r, nil
}

// createResources makes the scenario's resources, in order.
func createResources(sc *scenario) (map[string]*Resource, error) {
	made := map[string]*Resource{}
	for _, spec := range sc.resources {
		r, err := driver.NewResource(spec, made)
		if errors.Is(err, mp.ErrValue) || errors.Is(err, mp.ErrAddrInUse) {
			r, err = &Resource{Name: spec.Name, Type: spec.Type, refused: err}, nil
		}
		if err != nil {
			return nil, err
		}
		made[spec.Name] = r
		for _, end := range r.Ends {
			made[end.Name] = end
		}
	}
	return made, nil
}

// A locker is what acquire, release and acquire_release_many act on.
type locker interface {
	Acquire(ctx context.Context) error
	TryAcquire() bool
	Release() error
}

// locker returns the resource's lock, semaphore, or condition (whose
// acquire and release are its lock's, as in CPython).
func (r *Resource) locker() locker {
	switch {
	case r.Lock != nil:
		return r.Lock
	case r.RLock != nil:
		return r.RLock
	case r.Semaphore != nil:
		return r.Semaphore
	case r.Condition != nil:
		return r.Condition
	case r.MLock != nil:
		return r.MLock
	case r.Shared != nil && r.Shared.locker() != nil:
		return r.Shared.locker()
	case r.MSemaphore != nil:
		return r.MSemaphore
	case r.MRLock != nil:
		return r.MRLock
	case r.MCondition != nil:
		return r.MCondition
	}
	return nil
}

// resourceFields lists each supported resource type's fields and their
// kinds (Name: a program; ResourceName: an earlier lock or rlock).
var resourceFields = map[string]map[string]Kind{
	"lock":              {},
	"rlock":             {},
	"semaphore":         {"value": Int},
	"bounded_semaphore": {"value": Int},
	"event":             {},
	"condition":         {"lock": ResourceName},
	"barrier":           {"parties": Int, "action": Name, "timeout": Number},
	"queue":             {"maxsize": Int},
	"joinable_queue":    {"maxsize": Int},
	"simple_queue":      {},
	"pipe":              {"duplex": Bool},
	"pool":              {"processes": Int, "maxtasksperchild": Int, "initializer": Name, "initargs": List},
	"listener":          {"family": String, "authkey": String, "address_of": String},
	"manager":           {"serve": String, "authkey": String},
	"manager.dict":      {"manager": ResourceName, "init": Value},
	"manager.list":      {"manager": ResourceName, "init": Value},
	"manager.namespace": {"manager": ResourceName},
	"manager.value":     {"manager": ResourceName, "typecode": String, "init": Value},
	"manager.lock":      {"manager": ResourceName},

	"shared_memory":             {"size": Int, "shm_name": String},
	"shareable_list":            {"init": Value, "shm_name": String},
	"shared_memory_manager":     {},
	"value":                     {"typecode": String, "init": Value, "lock": ResourceName},
	"array":                     {"typecode": String, "init": Value, "size": Int, "lock": ResourceName},
	"raw_value":                 {"typecode": String, "init": Value},
	"raw_array":                 {"typecode": String, "init": Value, "size": Int},
	"manager.queue":             {"manager": ResourceName, "maxsize": Int},
	"manager.joinable_queue":    {"manager": ResourceName, "maxsize": Int},
	"manager.event":             {"manager": ResourceName},
	"manager.semaphore":         {"manager": ResourceName, "value": Int},
	"manager.bounded_semaphore": {"manager": ResourceName, "value": Int},
	"manager.barrier":           {"manager": ResourceName, "parties": Int, "timeout": Number},
	"manager.array":             {"manager": ResourceName, "typecode": String, "init": Value},
	"manager.custom":            {"manager": ResourceName, "typeid": String},
	"manager.rlock":             {"manager": ResourceName},
	"manager.condition":         {"manager": ResourceName},
}

// names returns the names of the resources that a declared resource
// makes: its own, and a pipe's ends NAME.0 and NAME.1 (of type "pipe_end").
func (spec ResourceSpec) names() map[string]string {
	names := map[string]string{spec.Name: spec.Type}
	if spec.Type == "pipe" {
		names[spec.Name+".0"] = "pipe_end"
		names[spec.Name+".1"] = "pipe_end"
	}
	return names
}

// requiredResourceFields lists the fields a resource type must have.
var requiredResourceFields = map[string][]string{"barrier": {"parties"}, "shared_memory": {"size"},
	"value": {"typecode"}, "array": {"typecode"}, "raw_value": {"typecode"}, "raw_array": {"typecode"},
	"manager.barrier": {"parties"}, "manager.custom": {"typeid"}}

// parseResources validates the resources of a scenario; programs are the
// scenario's programs, which a barrier's action names.
func parseResources(raw any, programs map[string]*program) ([]ResourceSpec, error) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errorAt("resources", "want a list")
	}
	var specs []ResourceSpec
	types := map[string]string{}
	for i, r := range list {
		where := fmt.Sprintf("resources/%d", i)
		obj, ok := r.(map[string]any)
		if !ok {
			return nil, errorAt(where, "want an object")
		}
		typ, _ := obj["type"].(string)
		if typ == "" {
			return nil, errorAt(where, `missing resource "type"`)
		}
		fields, ok := resourceFields[typ]
		if !ok {
			return nil, errorAt(where, "resource type %q is not supported", typ)
		}
		spec := ResourceSpec{Type: typ, Value: 1}
		if spec.Name, _ = obj["name"].(string); spec.Name == "" {
			return nil, errorAt(where, `missing resource "name"`)
		}
		if _, dup := types[spec.Name]; dup {
			return nil, errorAt(where, "resource %q is declared twice", spec.Name)
		}
		for _, k := range requiredResourceFields[typ] {
			if _, ok := obj[k]; !ok {
				return nil, errorAt(where, "%s: missing field %q", typ, k)
			}
		}
		for _, k := range sortedKeys(obj) {
			if k == "name" || k == "type" {
				continue
			}
			kind, ok := fields[k]
			if !ok {
				return nil, errorAt(where, "%s: unknown field %q", typ, k)
			}
			if err := spec.set(where, k, kind, obj[k], types, programs); err != nil {
				return nil, err
			}
		}
		if err := spec.defaultManager(where, types); err != nil {
			return nil, err
		}
		if err := spec.checkShared(where); err != nil {
			return nil, err
		}
		types[spec.Name] = typ
		specs = append(specs, spec)
	}
	return specs, nil
}

// set validates field k of a resource and sets it in spec.
func (spec *ResourceSpec) set(where, k string, kind Kind, raw any, types map[string]string, programs map[string]*program) error {
	wrong := func(want string) error {
		return errorAt(where, "%s.%s: want %s, got %s", spec.Type, k, want, describe(raw))
	}
	if spec.Type == "pool" {
		return spec.setPool(where, k, raw, types, programs)
	}
	if isShmType(spec.Type) {
		return spec.setShm(where, k, raw)
	}
	if slices.Contains(sharedTypes, spec.Type) {
		return spec.setShared(where, k, raw, types)
	}
	if spec.Type == "listener" {
		return spec.setListener(where, k, raw, types)
	}
	switch kind {
	case Int, Number:
		n, ok := raw.(json.Number)
		if !ok {
			return wrong(kind.String())
		}
		v, err := decodeNumber(n)
		if err != nil {
			return errorAt(where, "%s.%s: %v", spec.Type, k, err)
		}
		switch k {
		case "value":
			i, ok := v.(int64)
			// A negative value is well formed: the semaphore's constructor
			// refuses it (protocol.md §5), as threading.Semaphore does.
			lo := int64(0)
			if spec.Type == "semaphore" || spec.Type == "bounded_semaphore" {
				lo = math.MinInt32
			}
			if !ok || i < lo || i > math.MaxInt32 {
				return wrong(fmt.Sprintf("an integer from %d to %d", lo, math.MaxInt32))
			}
			spec.Value = i
		case "maxsize":
			i, ok := v.(int64)
			if !ok || i > math.MaxInt32 {
				return wrong(fmt.Sprintf("an integer up to %d", math.MaxInt32))
			}
			spec.Maxsize = max(i, 0) // CPython: maxsize <= 0 is unbounded
		case "parties":
			i, ok := v.(int64)
			if !ok || i < 1 || i > math.MaxInt32 {
				return wrong("an integer >= 1")
			}
			spec.Parties = i
		case "timeout":
			d := toDuration(v)
			spec.Timeout = &d
		}
	case Bool:
		b, ok := raw.(bool)
		if !ok {
			return wrong("a bool")
		}
		spec.Simplex = !b // duplex
	case String, Value:
		return spec.setManaged(where, k, raw, types)
	case ResourceName:
		name, ok := raw.(string)
		if k == "manager" {
			if !ok || types[name] != "manager" {
				return wrong("the name of a manager resource declared before it")
			}
			spec.Manager = name
			return nil
		}
		if !ok || !slices.Contains([]string{"lock", "rlock"}, types[name]) {
			return wrong("the name of a lock or rlock resource declared before it")
		}
		spec.Lock = name
	case Name:
		name, ok := raw.(string)
		if !ok {
			return wrong("a program name")
		}
		prog, ok := programs[name]
		if !ok {
			return errorAt(where, "%s.%s: no program %q", spec.Type, k, name)
		}
		if len(prog.params) != 0 {
			return errorAt(where, "%s.%s: program %q takes %d args; an action takes none", spec.Type, k, name, len(prog.params))
		}
		spec.Action = name
	}
	return nil
}

// toDuration turns milliseconds (int64 or Float) into a duration; a negative
// one is a poll, as CPython takes it.
func toDuration(ms any) time.Duration {
	var d time.Duration
	switch ms := ms.(type) {
	case int64:
		d = time.Duration(ms) * time.Millisecond
	case Float:
		d = time.Duration(float64(ms) * float64(time.Millisecond))
	}
	return max(d, 0)
}

// refs returns the names of the resources that v refers to, in order, once
// each.
func refs(v any) []string {
	var names []string
	walkValue(v, func(x any) error {
		if r, ok := x.(ref); ok && !slices.Contains(names, string(r)) {
			names = append(names, string(r))
		}
		return nil
	})
	return names
}

// checkReach rejects a program that uses a resource (as "on" or a ref) that
// no process running it can hold: a child holds only the resources it is
// passed as arguments (§5). Main holds them all; a program holds what the
// spawns that run it pass, directly as refs or through its creator's params.
// A barrier's action runs in whichever party's process, and programs that
// never run are not checked.
func checkReach(sc *scenario) error {
	may := map[string]map[string]bool{"main": {}}
	for _, r := range sc.resources {
		for name := range r.names() {
			may["main"][name] = true
		}
	}
	skip := map[string]bool{}
	for _, r := range sc.resources {
		if r.Action != "" {
			skip[r.Action] = true
		}
	}
	all := map[string]*program{"main": sc.main}
	for name, p := range sc.programs {
		all[name] = p
	}
	// Propagate until nothing changes: spawns in a program that may run.
	for changed := true; changed; {
		changed = false
		for name, held := range may {
			walkSteps(all[name].steps, func(s *step) {
				if s.op != "spawn" {
					return
				}
				target := s.fields["program"].(string)
				if may[target] == nil {
					may[target], changed = map[string]bool{}, true
				}
				walkValue([]any{s.fields["args"], s.fields["kwargs"]}, func(x any) error {
					switch x := x.(type) {
					case ref:
						if held[string(x)] && !may[target][string(x)] {
							may[target][string(x)], changed = true, true
						}
					case param:
						for r := range held {
							if !may[target][r] {
								may[target][r], changed = true, true
							}
						}
					}
					return nil
				})
			})
		}
	}
	for _, name := range sortedKeys(may) {
		if name == "main" || skip[name] {
			continue
		}
		var err error
		bound := boundResources(all[name].steps)
		walkSteps(all[name].steps, func(s *step) {
			used := refs(s.fieldValues())
			if on, ok := s.fields["on"].(string); ok && driver.Ops[s.op].Fields["on"].Kind == ResourceName {
				used = append(used, on)
			}
			for _, r := range used {
				if !may[name][r] && !bound[r] && err == nil {
					err = errorAt(s.path, "program %q uses resource %q, which no spawn passes to it", name, r)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkSteps calls f on each step and on each step inside it.
func walkSteps(steps []*step, f func(*step)) {
	for _, s := range steps {
		f(s)
		walkSteps(s.body, f)
	}
}

// fieldValues returns the values of the step's fields, for refs.
func (s *step) fieldValues() []any {
	var vals []any
	for _, k := range sortedKeys(s.fields) {
		vals = append(vals, s.fields[k])
	}
	return vals
}
