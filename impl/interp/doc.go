// Package interp is the scenario interpreter of the Go reference driver: it
// runs mpconform scenarios (docs/protocol.md) with package mp, one real
// process per spawned program, and writes their trace.
//
// A driver's main is
//
//	func main() {
//		mp.Main() // a child process runs its program here and never returns
//		interp.Main()
//	}
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
// itself has no ops. Queue items and pipe messages carry values as
// encodeMessage makes them (queue.go). Main holds them
// all; a {"ref": NAME} spawn argument passes that resource to the child with
// its arguments (its file descriptors travel with it), and a child holds
// only those: an op on another one records an Error. A step's "on" names a
// resource by its global name; the op finds it in Call.On. Op.On lists the
// resource types an op applies to. A barrier's action program runs in the
// process of the party that arrives last, inside its wait.
//
// A manager resource starts an mp.Manager; manager.dict, manager.list,
// manager.namespace, manager.value and manager.lock resources are proxies
// to objects it serves, and travel to children as refs like the others;
// manager.connect and manager.proxy bind a connection to a served manager,
// and a proxy through it, by the step's "as" (manager.go). A pool resource
// makes its mp.Pool when main first uses it; its workers run the scenario's
// programs as tasks, writing task.begin and task.end around them, and
// result.* ops act on the async results that "as" binds (pool.go).
//
// # Mutants
//
// Deliberately broken drivers, which prove that a spec can fail, reuse this
// package and change one thing. The op table Ops, the end-of-program hook
// AtEnd, SpawnOptions, ManagerOptions, PoolOptions and NewResource (which
// makes each resource) are variables for that. Change them in an init function of the mutant's main
// package: init runs in every process, before mp.Main dispatches a child, so
// children run the same broken ops. For example, a driver whose children
// never overlap:
//
//	func init() {
//		start := interp.Ops["start"]
//		run := start.Run
//		start.Run = func(c *interp.Call) (any, error) {
//			v, err := run(c)
//			if err == nil {
//				c.Proc.Join(context.Background()) // wait for it: no parallelism
//			}
//			return v, err
//		}
//		interp.Ops["start"] = start
//	}
//
// one whose locks admit everyone (its release would then need wrapping too,
// or it fails with ValueError):
//
//	func init() {
//		acquire := interp.Ops["acquire"]
//		run := acquire.Run
//		acquire.Run = func(c *interp.Call) (any, error) {
//			if c.On.Type == "lock" {
//				return true, nil // acquired, without taking the lock
//			}
//			return run(c)
//		}
//		interp.Ops["acquire"] = acquire
//	}
//
// and one that leaves daemons running at the end of main:
//
//	func init() {
//		interp.SpawnOptions = []mp.Option{mp.ParentDeathSignal(0)}
//		interp.AtEnd = func() {
//			for _, p := range mp.ActiveChildren() {
//				if !p.Daemon() {
//					p.Join(context.Background())
//				}
//			}
//		}
//	}
package interp
