// Package interp is the scenario interpreter of the Go reference driver: it
// runs mpconform scenarios (docs/protocol.md) with package mp, one real
// process per spawned program, and writes their trace.
//
// A Driver is an interpreter: its op table and its hooks. The reference
// driver's main is
//
//	func main() {
//		interp.Main(interp.Reference())
//	}
//
// Main calls mp.Main itself, once the driver is set: a child process runs
// its program there, with the driver, and never returns.
//
// Main validates the whole scenario before running any of it: an unknown op
// or field, a field of the wrong type or an unsupported resource exits 2 with
// a one-line reason, and so does a program that uses a resource no spawn can
// pass to it. Then the main process creates the resources, in order, and
// runs "main"; spawn creates an mp.Process whose target runs a named program
// in the child, which re-executes the same binary and so runs the same
// interpreter.
//
// # Resources
//
// A resource (lock, rlock, semaphore, bounded_semaphore, event, condition,
// barrier, queue, joinable_queue, simple_queue, and a pipe's ends) is a
// handle of package mp, held in a Resource. A pipe named P makes two
// resources of type "pipe_end", P.0 and P.1, which ops and refs name; P
// itself has no ops (connection.go). Queue items and pipe messages carry
// values as encodeMessage makes them (queue.go). Main holds them all; a
// {"ref": NAME} spawn argument passes that resource to the child with
// its arguments (its file descriptors travel with it), and a child holds
// only those: an op on another one records an Error. A step's "on" names a
// resource by its global name; the op finds it in Call.On. Op.On lists the
// resource types an op applies to. A barrier's action program runs in the
// process of the party that arrives last, inside its wait.
//
// A manager resource starts an mp.Manager; manager.dict, manager.list,
// manager.namespace, manager.value and manager.lock resources are proxies
// to objects it serves (and so are manager.queue, manager.event... and
// manager.custom, which take the primitives' ops: manager_types.go), and travel to children as refs like the others;
// manager.connect and manager.proxy bind a connection to a served manager,
// and a proxy through it, by the step's "as" (manager.go). A pool resource
// makes its mp.Pool when main first uses it; its workers run the scenario's
// programs as tasks, writing task.begin and task.end around them, and
// result.* ops act on the async results that "as" binds (pool.go).
//
// # Mutants
//
// Deliberately broken drivers, which prove that a spec can fail, reuse this
// package and change one thing in their copy of the reference driver: an
// entry of Ops, or a hook (AtEnd, SpawnOptions, Getppid, NewResource,
// ManagerOptions, PoolOptions). A child process runs the binary again and
// makes its driver again, so the change must be made the same way in every
// process, before Main: from the environment (the mutant binary reads
// $MPCONFORM_MUTANT), not from the run. The pools a process created are
// terminated at its end whatever its AtEnd does. For example, a driver
// whose children never overlap:
//
//	func main() {
//		d := interp.Reference()
//		start := d.Ops["start"]
//		run := start.Run
//		start.Run = func(c *interp.Call) (any, error) {
//			v, err := run(c)
//			if err == nil {
//				c.Proc.Join(context.Background()) // wait for it: no parallelism
//			}
//			return v, err
//		}
//		d.Ops["start"] = start
//		interp.Main(d)
//	}
//
// one whose locks admit everyone (its release would then need wrapping too,
// or it fails with ValueError):
//
//	acquire := d.Ops["acquire"]
//	run := acquire.Run
//	acquire.Run = func(c *interp.Call) (any, error) {
//		if c.On.Type == "lock" {
//			return true, nil // acquired, without taking the lock
//		}
//		return run(c)
//	}
//	d.Ops["acquire"] = acquire
//
// and one that leaves daemons running at the end of main:
//
//	d.SpawnOptions = []mp.Option{mp.ParentDeathSignal(0)}
//	d.AtEnd = func() {
//		for _, p := range mp.ActiveChildren() {
//			if !p.Daemon() {
//				p.Join(context.Background())
//			}
//		}
//	}
//
// fixtures/impls/mutants/driver holds the project's mutants, one table of
// them.
package interp
