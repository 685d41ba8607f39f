package interp

import (
	"context"
	"maps"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

// An Op is one entry of the op table: the fields a step of it may have, and
// what it does.
type Op struct {
	Fields map[string]Field

	// Blocks makes the interpreter write a pending record before Run, so
	// that a hang shows who waits on what.
	Blocks bool
	// Silent ops record nothing themselves (repeat, raise, exit, crash).
	Silent bool
	// Instant ops record t1 = t0 (mark).
	Instant bool

	// On lists the resource types that the op's "on" field may name; an op
	// on a resource of another type fails with an Error record, as
	// CPython's AttributeError does.
	On []string

	// OneOf, when set, lists fields of which a step must have exactly one
	// (join: "proc" for a process, "on" for a joinable queue).
	OneOf []string

	// Run does the op and returns its value (protocol.md §6) or an error,
	// whose kind (§8) the trace records. For an op with a "proc" field Run
	// is called once per process of the group, in c.Proc; for an op with an
	// "on" field, c.On is the resource.
	Run func(c *Call) (any, error)
}

// A Field is the type of one field of an op, and whether a step must have it.
type Field struct {
	Kind     Kind
	Required bool
}

// Kind is the type of a field.
type Kind int

// Int, Number, String and Bool fields may also be a {"param"}; they are
// checked again once it is resolved. Name fields name a program, a process
// group, a variable or a signal, and are checked before the run.
const (
	Int    Kind = iota // an integer
	Number             // an integer or a float (durations in milliseconds)
	String
	Bool
	Name
	Value        // any value (§4)
	List         // a list of values
	Steps        // a list of steps, run by the op itself; not recorded in "in"
	Step         // one step, run by the op itself (wait_for's until); not recorded in "in"
	ResourceName // the name of a resource of the scenario
)

func (k Kind) String() string {
	return [...]string{"an integer", "a number", "a string", "a bool", "a name", "a value", "a list",
		"a list of steps", "a step", "a resource name"}[k]
}

// A Call is one run of an op: the step's fields, resolved, and for an op on
// a process handle or a resource what it applies to.
type Call struct {
	Op   string
	Step string         // the step's path, e.g. "main/3"
	In   map[string]any // the step's fields with params and blobs resolved, as recorded
	Proc *mp.Process    // the member of the "proc" group this call applies to
	On   *Resource      // the resource that "on" names

	r   *runner
	s   *step
	env *env
}

// Bind appends p to the process group named as in the calling process.
func (c *Call) Bind(as string, p *mp.Process) {
	c.r.groups[as] = append(c.r.groups[as], p)
}

func (c *Call) int(name string) (int64, bool) {
	i, ok := c.In[name].(int64)
	return i, ok
}

func (c *Call) duration(name string) (time.Duration, bool) {
	switch ms := c.In[name].(type) {
	case int64:
		return time.Duration(ms) * time.Millisecond, true
	case Float:
		return time.Duration(float64(ms) * float64(time.Millisecond)), true
	}
	return 0, false
}

// on returns the fields of an op on a resource: "on", its name, and more.
func on(more map[string]Field) map[string]Field {
	fields := map[string]Field{"on": {ResourceName, true}}
	maps.Copy(fields, more)
	return fields
}

// timeoutContext returns a context that ends after the step's timeout, if
// it has one (a negative timeout polls, as in CPython).
func (c *Call) timeoutContext() (context.Context, context.CancelFunc) {
	if d, ok := c.duration("timeout"); ok {
		return context.WithTimeout(context.Background(), max(d, 0))
	}
	return context.WithCancel(context.Background())
}
