package interp

import (
	"fmt"
	"os"

	"github.com/mpconform/mpconform/impl/mp"
)

// A Driver is one interpreter: its op table, the features it declares, and
// the hooks the interpreter calls. Reference returns the reference driver;
// a mutant changes one thing in its copy and runs it with Main (see the
// package comment).
type Driver struct {
	// Ops is the op table, by op name.
	Ops map[string]Op
	// Features lists the op families the driver implements, for hello.
	Features []string
	// Semantics is the CPython version whose semantics the driver follows
	// where they differ between versions, for hello: the newest the
	// reference implements. A mutant may claim another.
	Semantics string

	// AtEnd is the end-of-program work of protocol.md §9, run in every
	// process when its program ends (and before an exit op exits), before
	// process.end is written. The pools the process created are terminated
	// before it, whatever it does (end).
	AtEnd func()
	// SpawnOptions are added to the options of every process that spawn
	// creates: a mutant may, for example, let children outlive their
	// parent with mp.ParentDeathSignal(0).
	SpawnOptions []mp.Option
	// Getppid is the parent pid that trace records name. A mutant may
	// replace it to model an implementation whose children have another
	// parent than their creator (as CPython's forkserver start method
	// gives them).
	Getppid func() int
	// NewResource makes a resource in the main process, before main's first
	// step; made holds the resources declared before it (a condition's
	// lock). A mutant may wrap it to make broken resources.
	NewResource func(spec ResourceSpec, made map[string]*Resource) (*Resource, error)
	// ManagerOptions are added to the options of every manager the driver
	// starts, and of every manager.connect: a mutant may break the server
	// with the faults of an mpfault build of mp (mp.ManagerSkipAuth...).
	ManagerOptions []mp.ManagerOption
	// PoolOptions returns options added after those of every pool a
	// scenario creates (spec is the pool as declared), so that a mutant can
	// break the pool without touching its ops: mp.LostTasksHang() (an
	// mpfault build) for a pool that hangs on a dead worker, as CPython's
	// does, or mp.Processes(n+1) for one that exceeds its size.
	PoolOptions func(spec ResourceSpec) []mp.PoolOption
	// TraceLine, when set, rewrites each trace line (its JSON and newline)
	// before it is written; what it returns is written in one write, and
	// nothing when it returns nothing. A mutant may drop, reorder or alter
	// records to break a rule of the trace (protocol.md §7.3).
	TraceLine func(line []byte) []byte
}

// Reference returns a fresh copy of the reference driver: its table and
// hooks are its own, so changing them changes no other copy.
func Reference() Driver {
	d := Driver{
		Ops: map[string]Op{},
		Features: []string{"control", "process", "daemon",
			"lock", "rlock", "semaphore", "event", "condition", "barrier", "bulk",
			"queue", "joinable_queue", "simple_queue", "pipe", "connection", "manager", "manager.remote",
			"manager.types", "manager.register", "pool", "shared_memory", "sharedctypes"},
		Semantics:   Semantics,
		AtEnd:       mp.Shutdown,
		Getppid:     os.Getppid,
		NewResource: newResource,
		PoolOptions: func(ResourceSpec) []mp.PoolOption { return nil },
	}
	families := []map[string]Op{controlOps(), processOps(), synchronizeOps(), queueOps(), connectionOps(),
		managerOps(), managerTypesOps(), poolOps(), poolScopeOps(), sharedMemoryOps(), sharedctypesOps()}
	for _, ops := range families {
		for name, op := range ops {
			if _, dup := d.Ops[name]; dup {
				panic(fmt.Sprintf("interp: op %q is defined by two families", name))
			}
			d.Ops[name] = op
		}
	}
	servePrimitives(d.Ops)
	return d
}

// end is the end-of-program work. The pools this process created are
// terminated first, as CPython's finalizers do at exit: their workers must
// not be replaced while AtEnd's mp.Shutdown stops them. That is the
// interpreter's own work, not AtEnd's, so a mutant's AtEnd cannot skip it.
func (d *Driver) end() {
	terminatePools()
	shutdownSMMs()
	d.AtEnd()
}
