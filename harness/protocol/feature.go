package protocol

import "slices"

// A Feature is an op family, as a driver lists it in hello (§2) and a behaviour
// in the catalogue: the driver implements every op the feature offers, and a
// behaviour's scenarios use only ops its features offer.
type Feature string

// The features.
const (
	Control       Feature = "control"
	Process       Feature = "process"
	Daemon        Feature = "daemon" // daemon on spawn, set_daemon, and §9's rules for daemons
	Lock          Feature = "lock"
	RLock         Feature = "rlock"
	Semaphore     Feature = "semaphore" // semaphore and bounded_semaphore
	Event         Feature = "event"
	Condition     Feature = "condition"
	Barrier       Feature = "barrier"
	Queue         Feature = "queue"
	JoinableQueue Feature = "joinable_queue"
	SimpleQueue   Feature = "simple_queue"
	Pipe          Feature = "pipe"
	Connection    Feature = "connection" // Listener, Client, wait, recv_bytes_into
	Manager       Feature = "manager"
	ManagerRemote Feature = "manager.remote" // a manager served on an address
	Pool          Feature = "pool"
	Bulk          Feature = "bulk" // the *_many ops of the other families

	SharedMemory Feature = "shared_memory" // SharedMemory, ShareableList and SharedMemoryManager
	// Value, Array, RawValue and RawArray (CPython's multiprocessing.sharedctypes)
	Sharedctypes Feature = "sharedctypes"
)

// The features of a manager's other types.
const (
	// ManagerTypes: a manager's queue, joinable_queue, event, semaphore,
	// bounded_semaphore, barrier and array proxies.
	ManagerTypes Feature = "manager.types"
	// ManagerRegister: the custom types of §5's catalogue, registered with
	// BaseManager.register.
	ManagerRegister Feature = "manager.register"
)

// Features lists every feature, in §6's order.
var Features = []Feature{Control, Process, Daemon, Lock, RLock, Semaphore, Event, Condition, Barrier,
	Queue, JoinableQueue, SimpleQueue, Pipe, Connection, Manager, ManagerRemote,
	ManagerTypes, ManagerRegister,
	Pool, Bulk, SharedMemory, Sharedctypes}

// OfferedBy reports whether features offer the op: one of its families and
// every one of its With are among them. A driver whose hello lists such
// features implements the op; a behaviour declaring them may use it.
func (op Op) OfferedBy(features []Feature) bool {
	if !slices.ContainsFunc(op.Families, func(f Feature) bool { return slices.Contains(features, f) }) {
		return false
	}
	for _, w := range op.With {
		if !slices.Contains(features, w) {
			return false
		}
	}
	return true
}
