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
// would; so after the first Start, the package keeps one spare child executed
// in advance, waiting for its target, and the next Start that passes no files
// (no Lock and the like) and keeps the default ParentDeathSignal hands it its
// target instead of executing a new one. The spare is used only if the
// environment, the working directory, os.Stdout and os.Stderr are still what
// it inherited; otherwise it is discarded. It is invisible: not among
// ActiveChildren, and Shutdown and Exit end it first. A program that starts
// no children never has one.
//
// Errors that callers may want to tell apart wrap the sentinels of errors.go,
// for errors.Is: a second Start, SetDaemon after Start, or Start in a daemonic
// process fail with ErrNotAllowed. Join takes a context for timeouts; when it
// ends first, the child goes on running and ExitCode reports it has not exited.
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
//		l.Acquire(context.Background())
//		defer l.Release()
//		fmt.Println("in the critical section:", mp.Current().Name)
//		return nil
//	})
//
//	l, err := mp.NewLock()
//	...
//	p := mp.New(worker, l)
//
// Waits take a context: Acquire returns false, not an error, when the
// context ends first, and never before its deadline. Misuse is reported with
// sentinel errors: releasing an unlocked Lock or over-releasing a bounded
// Semaphore is ErrValue, releasing an RLock one does not hold or waiting on a
// Condition without its lock is ErrNotAllowed, a broken Barrier is ErrBroken.
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
// its context ends, then fails with ErrFull or ErrEmpty; PutNowait and
// GetNowait do not wait. Qsize, Empty and Full are approximate while others
// put and get. Close marks the handle closed (later puts and gets fail with
// ErrClosed); JoinThread and CancelJoinThread are no-ops, for a Go put has
// written its message when it returns (no feeder thread). A JoinableQueue's
// TaskDone fails with ErrValue when called more often than messages were
// put, and Join waits until every message has had its TaskDone.
//
// Pipe returns two Conns: a duplex pair over a unix socket, or a simplex
// pair over a pipe (the first end receives, the second sends; the other
// direction is ErrNotAllowed). Messages keep their boundaries whatever
// their size (an empty message is a message); RecvBytes fails with ErrEOF
// once every copy of the other end is closed and the messages sent before
// are received. Poll waits for something to receive, for at most a
// timeout.
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
// Package mp is Linux-only.
package mp
