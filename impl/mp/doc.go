// Package mp runs Go functions in child processes, with the model of Python's
// multiprocessing: real OS processes with a pid, a name and a daemon flag, that
// a parent starts, joins, terminates or kills.
//
// A child is the same binary executed again (through /proc/self/exe). It runs a
// target: a function registered by name at package level, so that the child
// knows it too. The target's argument is encoded with encoding/json and sent to
// the child through an inherited pipe.
//
//	type job struct{ N int }
//
//	var square = mp.Register("square", func(j job) error {
//		fmt.Println(mp.Current().Name, j.N*j.N) // "Process-1 49"
//		return nil                               // exit status 0; an error gives 1
//	})
//
//	func main() {
//		mp.Main()           // in a child: runs its target and exits, never returns
//		defer mp.Shutdown() // terminate daemonic children, wait for the others
//
//		p := mp.New(square, job{N: 7}) // Process-1; mp.Prefix, mp.Name, mp.Daemon set others
//		if err := p.Start(); err != nil {
//			log.Fatal(err)
//		}
//		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
//		defer cancel()
//		if err := p.Join(ctx); err != nil {
//			p.Kill() // still running after a second
//			p.Join(context.Background())
//		}
//		code, _ := p.ExitCode() // -9 if the kill did it
//		fmt.Println(p.Name(), p.Pid(), code)
//	}
//
// Sentinel is a channel closed when the child ends, for a select over
// several processes, as CPython's connection.wait over sentinels. Close
// releases a Process that has ended (ErrValue while it runs); later calls
// fail with ErrClosed. ParentProcess and CPUCount are CPython's
// parent_process and cpu_count.
//
// Names follow CPython: a process created without a name is "<prefix>-<k>",
// where the prefix is "Process" unless set with Prefix and k counts the
// processes the creating process has created, whatever their prefix. A
// grandchild's k is its parent's followed by its own: "Process-1:1". The main
// process is "MainProcess".
//
// When the program ends, Shutdown terminates the daemonic children still
// running and waits for all the others, as CPython does at interpreter exit.
// Call it with defer in main, or end with Exit(code) where the program would
// call os.Exit, which skips deferred calls. A child does the same after its
// target returns. A daemonic process may not start children. Besides, every
// child gets SIGKILL if its parent dies without doing so (ParentDeathSignal),
// so that a killed program leaves no orphan behind.
//
// Executing a child and starting its Go runtime take most of the time Start
// would; so after the first Start, the package keeps a spare child executed
// in advance, waiting for its target (two after the second Start), and a
// Start that passes no files (no Lock and the like) and keeps the default
// ParentDeathSignal hands one its target instead of executing a new one. A
// spare is used only if the environment, the working directory, os.Stdout
// and os.Stderr are still what it inherited; otherwise it is discarded. It
// is invisible: not among ActiveChildren, and Shutdown and Exit end it
// first. A program that starts no children never has one. What a child
// still pays is mostly the kernel's: its exec, its page faults, its exit. A
// statically linked program pays less: package mp does not import net, whose
// C resolver makes a program dynamically linked (build with CGO_ENABLED=0
// or -tags netgo if the program needs net).
//
// Errors that callers may want to tell apart wrap the sentinels of errors.go,
// for errors.Is: a second Start, SetDaemon after Start, or Start in a daemonic
// process fail with ErrNotAllowed. Join waits as every wait does (below); when
// its context ends first, the child goes on running and ExitCode reports it
// has not exited.
//
// # Waiting
//
// Every call that can wait takes a context.Context first: Process.Join; the
// Acquire of a Lock, RLock, Semaphore, Condition or LockProxy; Event.Wait,
// Condition.Wait and WaitFor, Barrier.Wait; Put, Get and their Bytes forms
// on queues, JoinableQueue.Join; a Conn's Send, Recv, their Bytes forms and
// Poll; the typed QueueOf and ConnOf; a Pool's Apply, Map, AsyncResult.Get
// and Wait, Join. The context is CPython's timeout, and more:
//
//   - context.Background waits as long as it takes (CPython's timeout=None),
//     at no cost: no goroutine, no timer, no allocation.
//   - A context with a deadline waits until then (timeout=t), and never
//     gives up before it.
//   - A context that is already done makes the call try once, without
//     waiting (block=False, or timeout=0): Acquire then only tries, Poll
//     only looks, a Get gets what is there.
//   - A canceled context ends a wait at once.
//
// A wait that ends because its context did returns an error that wraps the
// context's, so a timeout is errors.Is(err, context.DeadlineExceeded) (and a
// cancellation context.Canceled); nil means the call did what it waits for
// (Acquire acquired, Event.Wait saw the flag set, Poll found something to
// receive). Where CPython raises an error of its own on timeout, the error
// is that sentinel too: ErrEmpty for a Get, ErrFull for a Put, ErrBroken for
// a Barrier's Wait, which a timeout breaks. The calls that never wait keep
// CPython's names: TryAcquire, GetNowait, PutNowait.
//
//	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
//	defer cancel()
//	var v int
//	switch err := q.Get(ctx, &v); {
//	case errors.Is(err, context.DeadlineExceeded): // nothing came within a second (also ErrEmpty)
//	case err != nil: // ErrClosed, or v's decoding
//	}
//
// # Synchronization
//
// Lock, RLock, Semaphore (and bounded ones), Event, Condition and Barrier
// are CPython's multiprocessing.synchronize over shared memory: each lives in
// an anonymous memfd mapped by every process that uses it, and processes
// wait on it with futexes. An uncontended Acquire is one atomic
// compare-and-swap; a waiter spins briefly (adapting how long to whether
// spinning pays), then sleeps. Nothing is left in /dev/shm or /tmp: the
// kernel frees a memfd with its last user.
//
// A primitive reaches a child as (part of) the argument of New; the child
// shares it with its parent:
//
//	var worker = mp.Register("worker", func(l *mp.Lock) error {
//		l.Acquire(context.Background()) // nil: a wait without end always acquires
//		defer l.Release()
//		fmt.Println("in the critical section:", mp.Current().Name)
//		return nil
//	})
//
//	l, err := mp.NewLock()
//	...
//	p := mp.New(worker, l)
//
// Misuse is reported with sentinel errors: releasing an unlocked Lock or
// over-releasing a bounded Semaphore is ErrValue, releasing an RLock one does
// not hold or waiting on a Condition without its lock is ErrNotAllowed, a
// broken Barrier is ErrBroken.
// As in CPython, a Lock has no owner (any process may release it), and a
// process that dies holding a lock leaves it locked.
//
// # Queues and pipes
//
// Queue, JoinableQueue and SimpleQueue are CPython's multiprocessing
// queues: a ring of messages in shared memory (a memfd, as above), with
// futex waits (see Queue for the design). Their core is messages of bytes
// (PutBytes, GetBytes); Put and Get carry any value encoded with
// encoding/json. A put on a full queue or a get on an empty one waits until
// its context ends, then fails with ErrFull or ErrEmpty (and the context's
// error); PutNowait and GetNowait do not wait. Qsize, Empty and Full are
// approximate while others put and get. Close marks the handle closed
// (later puts and gets fail with ErrClosed); JoinThread and
// CancelJoinThread are no-ops, for a Go put has written its message when it
// returns (no feeder thread). A JoinableQueue's TaskDone fails with ErrValue
// when called more often than messages were put, and Join waits until every
// message has had its TaskDone.
//
// Pipe returns two Conns: a duplex pair over a unix socket, or a simplex
// pair over a pipe (the first end receives, the second sends; the other
// direction is ErrNotAllowed). Messages keep their boundaries whatever
// their size (an empty message is a message); RecvBytes fails with ErrEOF
// once every copy of the other end is closed and the messages sent before
// are received. Poll waits for something to receive. A send or receive
// waits until its context ends only for its message to begin: once begun,
// a message is sent or received whole.
//
//	q, err := mp.NewQueue(3)
//	...
//	p := mp.New(producer, q) // producer calls q.Put(ctx, v)
//	var v int
//	err = q.Get(ctx, &v)
//
// Queues and Conns reach a child as (part of) the argument of New, as the
// synchronization primitives do.
//
// # Managers
//
// NewManager starts CPython's Manager: a server process (SyncManager-k)
// that owns dicts, lists, namespaces, values and locks, used through
// proxies (DictProxy, ListProxy, NamespaceProxy, ValueProxy, LockProxy)
// from any process they are passed to, as above. Keys and values keep
// Python's types (6, "2" and 0.25 are three keys; nil is a value; see
// Items); a proxy stored in another object stays shared. Each op is
// atomic on the server; a read then a write is not, unless a LockProxy is
// held around them. A missing key is ErrKey, an index out of range
// ErrIndex; after Shutdown every proxy op, in every process, fails with
// ErrClosed. Local clients connect through an inherited socket (nothing in
// any file system), and their requests and replies cross in shared memory,
// without a system call while client and server are busy; ManagerServe
// also serves on a unix or tcp address, for ConnectManager with CPython's
// HMAC challenge (ErrAuth for a wrong key).
//
// A manager also serves the SyncManager's other types, by method name:
// Queue and JoinableQueue (QueueProxy), Event, Semaphore and
// BoundedSemaphore, Barrier and Array, whose waits take a context as the
// primitives' do; and types registered with RegisterManaged (as
// BaseManager.register), whose exposed methods a ManagedProxy calls by
// name (any other is ErrNotAllowed).
//
//	m, err := mp.NewManager()
//	...
//	defer m.Shutdown()
//	d, err := m.Dict(nil)
//	p := mp.New(worker, d) // worker calls d.Set(k, v)
//
// # Pools
//
// NewPool starts CPython's Pool: Processes workers (by default
// runtime.NumCPU(), the CPUs this process may run on, as CPython 3.13),
// daemonic children named PoolWorker-k, that run tasks: functions
// registered with RegisterTask, typed by their argument and result. Apply
// and ApplyAsync (an AsyncResult with Get, Wait, Ready, Successful and
// optional Callbacks) run one call; Map and MapAsync run a slice in chunks
// (CPython's default chunk size) and return the results in input order;
// Imap and ImapUnordered yield them as they come (an iter.Seq2). CPython's
// starmap is Map over a struct argument. A task's error or panic comes back
// as a *TaskError with its message. Initializer runs a target once in each
// worker; MaxTasksPerChild replaces a worker after that many jobs. Close
// then Join waits for the tasks; Terminate kills the workers and fails what
// is pending with ErrClosed; Pool.Use and UsePool run a function with a
// pool and terminate it afterwards, as `with Pool() as p:`. Beyond CPython, a worker that dies in a task
// (killed, or os.Exit) fails that task with ErrWorkerLost and is replaced,
// and the others go on: CPython waits for ever there. Tasks and results
// cross in shared-memory rings, without a system call while both sides are
// busy.
//
//	var square = mp.RegisterTask("square", func(x int) (int, error) { return x * x, nil })
//
//	p, err := mp.NewPool(mp.Processes(4))
//	...
//	squares, err := mp.Map(ctx, p, square, []int{1, 2, 3}) // [1 4 9]
//	p.Close()
//	p.Join(ctx)
//
// Package mp is Linux-only.
package mp
