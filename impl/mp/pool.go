package mp

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
)

// Pool is CPython's multiprocessing.Pool: a fixed number of worker
// processes that run tasks, functions registered with RegisterTask, and
// send their results back.
//
// Design. Each worker is a daemonic child process (named PoolWorker-k)
// started with this package's Process machinery; it talks to the pool over
// a link of two shared-memory rings (link.go), so that a task and its
// result cross without a system call while both sides are busy. The pool
// hands out jobs (a task call, or a chunk of a Map) from a FIFO, one at a
// time to each idle worker, as CPython's workers take them from a shared
// queue (a Map's chunks alone may queue two deep in a worker, so that it
// never waits for the parent between chunks); a job's arguments are
// encoded only when it is handed out, and a Map's jobs are made as they
// are, so that a million queued items are not a million messages waiting
// in memory. A worker's results are read by whoever
// waits for one of them (AsyncResult.Get polls the ring for a while before
// it sleeps), or else by a collector goroutine per worker.
//
// A worker that dies (killed, or a task that calls os.Exit) fails the job it
// was running with ErrWorkerLost, its other jobs go back to the head of the
// FIFO, and a new worker replaces it when there is work for one; CPython, in
// that case, waits for the lost result for ever (gh-66587). With
// MaxTasksPerChild a worker exits after that many jobs and is replaced the
// same way.
//
// Close lets the jobs submitted finish, then the workers exit; Join waits
// for that. Terminate kills the workers at once: the results still pending
// fail with ErrClosed. Either way, every worker has been reaped when Join or
// Terminate returns. As in CPython the workers are daemonic, so Shutdown
// terminates those of a pool still running at exit, and a task may not
// start processes of its own.
type Pool struct {
	opts poolOptions

	mu          sync.Mutex
	state       poolState
	pending     []pendingEntry // jobs not handed out yet, from pendHead on
	pendHead    int
	workers     []*worker
	starting    int            // workers being started
	outstanding int            // jobs submitted and not finished
	nextID      uint64         // the last job id handed out
	startErr    error          // why the last worker failed to start
	forgotten   []pendingEntry // lost jobs kept outstanding (the lostTasksHang fault)
	done        chan struct{}
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

// A PoolOption configures a Pool created by NewPool.
type PoolOption func(*poolOptions)

type poolOptions struct {
	processes   int
	maxTasks    int
	maxTasksSet bool
	init        string // the initializer's target, "" for none
	initArg     any
	workerOpts  []Option
	lostHangs   bool
}

// Processes sets the number of workers; the default is runtime.NumCPU(),
// the CPUs this process may run on (its affinity mask), as CPython 3.13's
// os.process_cpu_count() (up to 3.12 Pool used os.cpu_count(), the CPUs
// online, which CPUCount gives); less than 1 is an error.
func Processes(n int) PoolOption { return func(o *poolOptions) { o.processes = n } }

// MaxTasksPerChild makes each worker exit after n jobs (a task call, or a
// chunk of a Map), to be replaced by a fresh one: the way to bound what a
// leaky task can accumulate. n must be at least 1; by default a worker
// lives as long as the pool.
func MaxTasksPerChild(n int) PoolOption {
	return func(o *poolOptions) { o.maxTasks, o.maxTasksSet = n, true }
}

// Initializer makes each worker run t(arg) once, when it starts, before
// any task. Arg is encoded when each worker starts, so it may hold Locks,
// Queues and the like, as a Process's argument may: that is how workers
// share them (tasks' arguments may not). A worker whose initializer fails
// exits, and is replaced when there is work.
func Initializer[A any](t Target[A], arg A) PoolOption {
	return func(o *poolOptions) { o.init, o.initArg = t.name, arg }
}

// WorkerOptions adds options to the workers' Process (Prefix, to name
// them other than PoolWorker-k, or ParentDeathSignal). They stay daemonic
// whatever Daemon says.
func WorkerOptions(opts ...Option) PoolOption {
	return func(o *poolOptions) { o.workerOpts = append(o.workerOpts, opts...) }
}

// NewPool starts a pool of workers. It fails with ErrValue for a number of
// processes below 1 or a MaxTasksPerChild below 1, and with ErrNotAllowed in
// a daemonic process (a pool worker included).
func NewPool(opts ...PoolOption) (*Pool, error) {
	o := poolOptions{processes: runtime.NumCPU()}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.processes < 1:
		return nil, fmt.Errorf("%w: a pool needs at least 1 process, not %d", ErrValue, o.processes)
	case o.maxTasksSet && o.maxTasks < 1:
		return nil, fmt.Errorf("%w: MaxTasksPerChild must be at least 1, not %d", ErrValue, o.maxTasks)
	case self.daemon:
		return nil, fmt.Errorf("%w: daemonic processes are not allowed to have children", ErrNotAllowed)
	}
	p := &Pool{opts: o, done: make(chan struct{})}
	livePools.add(p)
	for range o.processes {
		w, err := p.startWorker()
		if err != nil {
			p.Terminate()
			return nil, err
		}
		p.mu.Lock()
		p.workers = append(p.workers, w)
		p.mu.Unlock()
	}
	return p, nil
}

// livePools are this process's pools not done yet: Shutdown terminates them
// before it ends the daemonic children, as CPython's exit runs the pools'
// finalizers first, so that no pool replaces a worker Shutdown has ended.
var livePools poolSet

type poolSet struct {
	mu sync.Mutex
	m  map[*Pool]bool
}

func (s *poolSet) add(p *Pool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[*Pool]bool{}
	}
	s.m[p] = true
}

func (s *poolSet) remove(p *Pool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, p)
}

// terminateAll terminates every live pool.
func (s *poolSet) terminateAll() {
	s.mu.Lock()
	pools := slices.Collect(maps.Keys(s.m))
	s.mu.Unlock()
	for _, p := range pools {
		p.Terminate()
	}
}

var (
	errTerminated = fmt.Errorf("%w: the pool was terminated", ErrClosed)
	errNotRunning = fmt.Errorf("%w: the pool is not running (closed or terminated)", ErrNotAllowed)
)

// Close stops the pool from taking tasks: those submitted still run, then
// the workers exit. Using the pool afterwards fails with ErrNotAllowed.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state == poolRunning {
		p.state = poolClosed
	}
	sends := p.finishLocked(nil)
	p.checkDoneLocked()
	p.mu.Unlock()
	p.send(sends)
	return nil
}

// Terminate kills the workers at once: running tasks stop, and every result
// not ready yet fails with ErrClosed. It returns once every worker is
// reaped.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	p.state = poolTerminated
	failed := append(p.takePendingLocked(), p.forgotten...)
	p.outstanding -= len(p.forgotten)
	p.forgotten = nil
	workers := slices.Clone(p.workers)
	p.checkDoneLocked()
	p.mu.Unlock()
	failPending(failed, errTerminated)
	for _, w := range workers {
		w.proc.Kill()
	}
	<-p.done
	return nil
}

// Join waits until the workers have exited, after Close (once every task
// has finished) or Terminate, or until ctx ends. Before either, it fails
// with ErrNotAllowed.
func (p *Pool) Join(ctx context.Context) error {
	p.mu.Lock()
	state := p.state
	p.mu.Unlock()
	if state == poolRunning {
		return fmt.Errorf("%w: join a pool only after Close or Terminate", ErrNotAllowed)
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Processes returns the pool's size.
func (p *Pool) Processes() int { return p.opts.processes }

// Workers returns the worker processes alive now (a test sees their pids).
func (p *Pool) Workers() []*Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	var procs []*Process
	for _, w := range p.workers {
		if !w.dead.Load() {
			procs = append(procs, w.proc)
		}
	}
	return procs
}

// String describes the pool as CPython's repr does.
func (p *Pool) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	state := [...]string{"RUN", "CLOSE", "TERMINATE"}[p.state]
	return fmt.Sprintf("<Pool state=%s pool_size=%d>", state, p.opts.processes)
}
