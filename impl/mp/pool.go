package mp

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is CPython's multiprocessing.Pool: a fixed number of worker
// processes that run tasks, functions registered with RegisterTask, and
// send their results back.
//
// Design. Each worker is a daemonic child process (named PoolWorker-k)
// started with this package's Process machinery; it talks to the pool over
// a link of two shared-memory rings (pool_wire.go), so that a task and its
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
// and less than 1 is an error.
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

// A worker is the pool's side of one worker process.
type worker struct {
	p    *Pool
	proc *Process
	link *link
	tx   ring
	rx   ring

	rxMu sync.Mutex // held to read results
	rd   ringReader

	txMu    sync.Mutex // held to send
	txq     []*job     // jobs waiting for the streaming goroutine
	txBusy  bool       // a goroutine streams txq
	scratch []byte

	unmapped atomic.Bool   // the link is gone: the worker was collected
	dead     atomic.Bool   // the process has exited
	watched  chan struct{} // closed when watch no longer touches the link
	kick     chan struct{} // wakes the collector when the worker dies
	pollers  atomic.Int32

	// Guarded by p.mu.
	inflight map[uint64]*job
	assigned int
	retiring bool // takes no more jobs: MaxTasksPerChild reached, or told to exit
	told     bool // was sent exitJob
}

// A job is what a worker runs in one go: one task call, or a chunk of a
// Map's items.
type job struct {
	id     uint64
	task   string
	n      int
	encode func(b []byte) []byte // appends the n encoded arguments
	// deliver takes the job's results (the item part of a result
	// message), or err if the job failed as a whole. It runs once.
	deliver func(m *wireReader, err error)
	w       atomic.Pointer[worker] // where it was last handed out
	// ahead lets the job wait in a worker's ring behind another such job:
	// a Map's chunks, whose results nobody sees before the last one, so
	// that the worker need not wait for the parent between two chunks.
	ahead bool
}

// exitJob is the job that tells a worker to exit.
var exitJob = &job{}

// A pendingEntry is one job, or a chunker that makes a Map's jobs as they
// are handed out.
type pendingEntry struct {
	j     *job
	chunk *chunker
}

type chunker struct {
	left  int
	next  func() *job
	ahead bool // its jobs may be queued ahead (see job.ahead)
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

// workerArg is what a worker is started with.
type workerArg struct {
	Link     *link    `json:"link"`
	MaxTasks int      `json:"max_tasks"`
	Init     string   `json:"init"`
	InitArg  lazyJSON `json:"init_arg"`
}

// lazyJSON is a value encoded when the worker's argument is, so that the
// handles it holds pass their descriptors to that worker; a worker gets it
// raw, for the initializer's runner to decode.
type lazyJSON struct {
	v   any
	raw json.RawMessage
}

func (l lazyJSON) MarshalJSON() ([]byte, error) {
	if l.raw != nil {
		return l.raw, nil
	}
	return json.Marshal(l.v)
}

func (l *lazyJSON) UnmarshalJSON(data []byte) error {
	l.raw = append(json.RawMessage(nil), data...)
	return nil
}

var poolWorker = Register("mp.pool.worker", runWorker)

// startWorker starts a worker process and the goroutines that serve it.
func (p *Pool) startWorker() (*worker, error) {
	l, err := newLink()
	if err != nil {
		return nil, err
	}
	arg := workerArg{Link: l, MaxTasks: p.opts.maxTasks, Init: p.opts.init, InitArg: lazyJSON{v: p.opts.initArg}}
	opts := append([]Option{Prefix("PoolWorker")}, p.opts.workerOpts...)
	proc := New(poolWorker, arg, append(opts, Daemon(true))...)
	if err := proc.Start(); err != nil {
		l.close()
		return nil, err
	}
	w := &worker{p: p, proc: proc, link: l, tx: l.tasks(), rx: l.results(), inflight: map[uint64]*job{},
		watched: make(chan struct{}), kick: make(chan struct{}, 1)}
	w.rd.r = w.rx
	go w.watch()
	go w.collect()
	return w, nil
}

// watch marks the worker dead when its process exits, and wakes whoever
// waits on its link.
func (w *worker) watch() {
	<-w.proc.Done()
	w.dead.Store(true)
	wakeSide(w.rx, w.tx)
	close(w.watched)
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// collectIdle is how long the collector leaves a worker's results to a
// waiting Get before it looks again: results that nobody waits for (those
// with callbacks, say) are read this late at worst while a Get waits for
// another result of the same worker.
const collectIdle = time.Millisecond

// collect reads the worker's results when no Get waits for one, until the
// worker has exited and everything it sent is read. While a Get waits, the
// collector stays out of the way: a second reader would make the worker
// wake it (a system call) for every result, and compete for the CPU.
func (w *worker) collect() {
	stop := func() bool { return w.dead.Load() || w.pollers.Load() > 0 }
	ready := func() bool { return w.rx.avail() > 0 }
	idle := time.NewTimer(collectIdle)
	defer idle.Stop()
	for !w.dead.Load() {
		if w.pollers.Load() > 0 {
			idle.Reset(collectIdle)
			select {
			case <-idle.C:
			case <-w.kick:
			}
			continue
		}
		if linkWait(&w.rx.s.data, true, ready, stop, -1) {
			w.drain()
		}
	}
	// Whatever the worker published before it died is in the ring now.
	w.drain()
	w.p.gone(w)
}

// drain reads every whole result message there is and delivers it.
func (w *worker) drain() {
	w.rxMu.Lock()
	sends := w.drainLocked(nil)
	w.rxMu.Unlock()
	w.p.send(sends)
}

// drainLocked is drain with rxMu held; it returns the jobs to send, which
// the caller sends once it has released rxMu (a send may wait for the
// worker, which may wait for its results to be read).
func (w *worker) drainLocked(sends []sendReq) []sendReq {
	if w.unmapped.Load() {
		return sends
	}
	for {
		msg, ok := w.rd.next()
		if !ok {
			return sends
		}
		m := poolMessage(msg)
		id := m.u64()
		p := w.p
		p.mu.Lock()
		j := w.inflight[id]
		delete(w.inflight, id)
		if j != nil {
			p.outstanding--
		}
		sends = p.dispatchLocked(sends)
		sends = p.finishLocked(sends)
		p.mu.Unlock()
		if j != nil {
			m.u32() // the count: the job knows it
			j.deliver(&m, m.err)
		}
	}
}

// A sendReq is a job to send to a worker.
type sendReq struct {
	w *worker
	j *job
}

func (p *Pool) send(sends []sendReq) {
	for _, s := range sends {
		s.w.send(s.j)
	}
}

// send sends j to the worker: at once when the ring has room, or through a
// goroutine that streams it (and any that follow) without making the
// caller wait.
func (w *worker) send(j *job) {
	w.txMu.Lock()
	if w.unmapped.Load() {
		w.txMu.Unlock()
		return // collected: gone() has dealt with its jobs
	}
	if !w.txBusy && len(w.txq) == 0 {
		msg, err := encodeJob(w.scratch[:0], j)
		if err != nil {
			w.txMu.Unlock()
			w.p.fail(w, j, err)
			return
		}
		if cap(msg) <= 64<<10 {
			w.scratch = msg[:0]
		}
		if len(msg) <= w.tx.free() {
			binary.LittleEndian.PutUint64(msg, uint64(len(msg)-headerSize))
			w.tx.put(msg)
			w.txMu.Unlock()
			return
		}
	}
	w.txq = append(w.txq, j)
	if !w.txBusy {
		w.txBusy = true
		go w.stream()
	}
	w.txMu.Unlock()
}

// stream sends the queued jobs, waiting for room in the ring.
func (w *worker) stream() {
	for {
		w.txMu.Lock()
		if len(w.txq) == 0 || w.dead.Load() {
			w.txq, w.txBusy = nil, false
			w.txMu.Unlock()
			return
		}
		j := w.txq[0]
		w.txq = w.txq[1:]
		w.txMu.Unlock()
		msg, err := encodeJob(nil, j)
		if err != nil {
			w.p.fail(w, j, err)
			continue
		}
		w.tx.write(msg, w.dead.Load) // fails only when it died: gone() requeues j
	}
}

// encodeJob appends j's message to b, the first 8 bytes left for its
// length. An argument that cannot be encoded fails the job, not the pool.
func encodeJob(b []byte, j *job) (msg []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: task %s: %v", ErrValue, j.task, r)
		}
	}()
	b = append(b[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	if j == exitJob {
		return append(b, msgExit), nil
	}
	b = append(b, msgTask)
	b = binary.LittleEndian.AppendUint64(b, j.id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(j.task)))
	b = append(b, j.task...)
	b = binary.LittleEndian.AppendUint32(b, uint32(j.n))
	return j.encode(b), nil
}

// fail finishes a job handed to w with err.
func (p *Pool) fail(w *worker, j *job, err error) {
	p.mu.Lock()
	if _, ok := w.inflight[j.id]; !ok {
		p.mu.Unlock()
		return
	}
	delete(w.inflight, j.id)
	p.outstanding--
	sends := p.dispatchLocked(nil)
	sends = p.finishLocked(sends)
	p.mu.Unlock()
	j.deliver(nil, err)
	p.send(sends)
}

// window is how many jobs a worker holds at most, but for a Map's chunks
// (job.ahead), which may be two. More than one would let
// a worker start its next job without waiting for the parent, but a job
// queued behind a long one would wait while another worker idles: tasks
// that wait for one another could then deadlock where CPython's pool,
// whose workers take one task at a time from a shared queue, does not.
const window = 1

// dispatchLocked hands pending jobs to workers with room, and starts a
// worker when one is missing and there is work for it.
func (p *Pool) dispatchLocked(sends []sendReq) []sendReq {
	for p.pendHead < len(p.pending) && p.state != poolTerminated {
		limit := window
		if p.nextAheadLocked() {
			limit = 2
		}
		var best *worker
		for _, w := range p.workers {
			if w.retiring || w.dead.Load() || len(w.inflight) >= limit || len(w.inflight) > 0 && !w.ahead() {
				continue
			}
			if best == nil || len(w.inflight) < len(best.inflight) {
				best = w
			}
		}
		if best == nil {
			p.growLocked()
			break
		}
		j := p.popLocked()
		p.nextID++
		j.id = p.nextID
		j.w.Store(best)
		best.inflight[j.id] = j
		best.assigned++
		if p.opts.maxTasks > 0 && best.assigned >= p.opts.maxTasks {
			best.retiring = true
		}
		sends = append(sends, sendReq{best, j})
	}
	return sends
}

// growLocked starts a worker in the background if the pool has fewer than
// its size (one died or retired).
func (p *Pool) growLocked() {
	// A retiring worker counts while it still runs a job: the pool never
	// runs more tasks at once than its size.
	live := 0
	for _, w := range p.workers {
		if !w.dead.Load() && (!w.retiring || len(w.inflight) > 0) {
			live++
		}
	}
	if live+p.starting >= p.opts.processes || p.state == poolTerminated {
		return
	}
	p.starting++
	go func() {
		w, err := p.startWorker()
		p.mu.Lock()
		p.starting--
		var sends []sendReq
		var failed []pendingEntry
		switch {
		case err != nil:
			// Without a worker the pending jobs would wait for ever.
			p.startErr = err
			if len(p.workers) == 0 && p.starting == 0 {
				failed = p.takePendingLocked()
			}
		case p.state == poolTerminated:
			w.proc.Kill()
			p.workers = append(p.workers, w) // gone() will remove it
		default:
			p.workers = append(p.workers, w)
			sends = p.dispatchLocked(sends)
			sends = p.finishLocked(sends)
		}
		p.checkDoneLocked()
		p.mu.Unlock()
		failPending(failed, fmt.Errorf("mp: pool: starting a worker: %w", err))
		p.send(sends)
	}()
}

// nextAheadLocked reports whether the next pending job may be queued
// ahead.
func (p *Pool) nextAheadLocked() bool {
	if e := &p.pending[p.pendHead]; e.chunk != nil {
		return e.chunk.ahead
	}
	return p.pending[p.pendHead].j.ahead
}

// ahead reports whether every job the worker holds may have one queued
// behind it.
func (w *worker) ahead() bool {
	for _, j := range w.inflight {
		if !j.ahead {
			return false
		}
	}
	return true
}

func (p *Pool) popLocked() *job {
	e := &p.pending[p.pendHead]
	var j *job
	if e.chunk != nil {
		j = e.chunk.next()
		e.chunk.left--
		if e.chunk.left > 0 {
			return j
		}
	} else {
		j = e.j
	}
	*e = pendingEntry{}
	p.pendHead++
	if p.pendHead == len(p.pending) {
		p.pending, p.pendHead = p.pending[:0], 0
	}
	return j
}

// takePendingLocked removes every pending job.
func (p *Pool) takePendingLocked() []pendingEntry {
	taken := slices.Clone(p.pending[p.pendHead:])
	for _, e := range taken {
		if e.chunk != nil {
			p.outstanding -= e.chunk.left
		} else {
			p.outstanding--
		}
	}
	clear(p.pending)
	p.pending, p.pendHead = p.pending[:0], 0
	return taken
}

func failPending(entries []pendingEntry, err error) {
	for _, e := range entries {
		if e.chunk != nil {
			for ; e.chunk.left > 0; e.chunk.left-- {
				e.chunk.next().deliver(nil, err)
			}
		} else {
			e.j.deliver(nil, err)
		}
	}
}

// finishLocked tells the workers to exit once the pool is closed and every
// job has finished.
func (p *Pool) finishLocked(sends []sendReq) []sendReq {
	if p.state != poolClosed || p.outstanding != 0 {
		return sends
	}
	for _, w := range p.workers {
		if !w.told {
			w.told, w.retiring = true, true
			sends = append(sends, sendReq{w, exitJob})
		}
	}
	return sends
}

// checkDoneLocked closes done once the pool is closed or terminated, every
// job has finished and every worker is gone.
func (p *Pool) checkDoneLocked() {
	if p.state == poolRunning || p.outstanding != 0 || len(p.workers) != 0 || p.starting != 0 {
		return
	}
	select {
	case <-p.done:
	default:
		close(p.done)
		livePools.remove(p)
	}
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

// gone deals with a worker whose process has exited and whose results are
// all read: the job it was running fails, the others go back to the head
// of the FIFO, and a replacement starts if there is work for it.
func (p *Pool) gone(w *worker) {
	// Nothing may touch the link after this: wait for a streaming send to
	// see the death, and keep Gets from reading.
	w.txMu.Lock()
	for w.txBusy {
		w.txMu.Unlock()
		time.Sleep(100 * time.Microsecond)
		w.txMu.Lock()
	}
	w.rxMu.Lock()
	w.unmapped.Store(true)
	w.rxMu.Unlock()
	w.txMu.Unlock()
	<-w.watched
	// A Get that waits on the link leaves it once it sees the death (the
	// watcher woke it); a new one sees unmapped and does not touch it.
	for w.pollers.Load() != 0 {
		time.Sleep(50 * time.Microsecond)
	}
	running := w.link.st.running.Load()
	code, _ := w.proc.ExitCode()
	w.link.close()

	p.mu.Lock()
	p.workers = slices.DeleteFunc(p.workers, func(x *worker) bool { return x == w })
	var lost []*job
	var back []*job
	for id, j := range w.inflight {
		switch {
		case id != running && p.state != poolTerminated:
			back = append(back, j)
		case id == running && p.opts.lostHangs && p.state != poolTerminated:
			// Forgotten, as CPython forgets it: it stays outstanding
			// until Terminate.
			p.forgotten = append(p.forgotten, pendingEntry{j: j})
		default:
			lost = append(lost, j)
		}
	}
	clear(w.inflight)
	p.outstanding -= len(lost)
	slices.SortFunc(back, func(a, b *job) int { return cmp.Compare(b.id, a.id) }) // pushed in reverse
	for _, j := range back {
		j.w.Store(nil)
		p.pending = slices.Insert(p.pending, p.pendHead, pendingEntry{j: j})
	}
	state := p.state
	// Keep the pool at its size, as CPython does (Shutdown terminates the
	// pool before it ends the daemonic children, so it never sees this).
	if state == poolRunning || state == poolClosed && p.outstanding > 0 {
		p.growLocked()
	}
	sends := p.dispatchLocked(nil)
	sends = p.finishLocked(sends)
	p.checkDoneLocked()
	p.mu.Unlock()

	var err error
	if state == poolTerminated {
		err = errTerminated
	} else {
		err = fmt.Errorf("%w: %s (pid %d) exited with code %d while it ran the task", ErrWorkerLost, w.proc.Name(), w.proc.Pid(), code)
	}
	for _, j := range lost {
		j.deliver(nil, err)
	}
	p.send(sends)
}

var (
	errTerminated = fmt.Errorf("%w: the pool was terminated", ErrClosed)
	errNotRunning = fmt.Errorf("%w: the pool is not running (closed or terminated)", ErrNotAllowed)
)

// submit queues jobs (one entry each) and hands out what it can.
func (p *Pool) submit(entries ...pendingEntry) error {
	p.mu.Lock()
	if p.state != poolRunning {
		p.mu.Unlock()
		return errNotRunning
	}
	for _, e := range entries {
		if e.chunk != nil {
			if e.chunk.left == 0 {
				continue
			}
			p.outstanding += e.chunk.left
		} else {
			p.outstanding++
		}
		p.pending = append(p.pending, e)
	}
	sends := p.dispatchLocked(nil)
	p.mu.Unlock()
	p.send(sends)
	return nil
}

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

// Tasks.

// A Task is a function registered with RegisterTask, that pool workers run:
// it takes an A and returns an R.
type Task[A, R any] struct {
	name string
	arg  codec[A]
	res  codec[R]
}

// Name returns the name the task was registered under.
func (t Task[A, R]) Name() string { return t.name }

// taskRunner runs one item of a task in a worker: it decodes the argument
// from in and appends the encoded result to out.
type taskRunner func(in, out []byte) ([]byte, error)

var tasks struct {
	sync.Mutex
	byName map[string]taskRunner
}

// RegisterTask makes fn runnable by pool workers under name, as Register
// does for a Process's target, and with the same rules: call it at package
// level, so that it runs in workers too. Ints, floats, bools, strings,
// byte slices and struct{} travel in a compact binary form; any other A or
// R travels with encoding/json, so it must round-trip through it. An error
// fn returns, or a panic, fails the call with a *TaskError that holds its
// message.
func RegisterTask[A, R any](name string, fn func(A) (R, error)) Task[A, R] {
	if mainCalled.Load() {
		panic("mp: RegisterTask(" + name + ") after Main: register tasks at package level")
	}
	t := Task[A, R]{name: name, arg: codecFor[A](), res: codecFor[R]()}
	tasks.Lock()
	defer tasks.Unlock()
	if _, dup := tasks.byName[name]; dup {
		panic("mp: RegisterTask called twice for task " + name)
	}
	if tasks.byName == nil {
		tasks.byName = map[string]taskRunner{}
	}
	tasks.byName[name] = func(in, out []byte) ([]byte, error) {
		var a A
		if err := t.arg.dec(in, &a); err != nil {
			return out, fmt.Errorf("decoding the argument: %v", err)
		}
		r, err := fn(a)
		if err != nil {
			return out, err
		}
		return t.res.enc(out, &r), nil
	}
	return t
}

func lookupTask(name string) taskRunner {
	tasks.Lock()
	defer tasks.Unlock()
	return tasks.byName[name]
}

// workerExit holds the functions AtWorkerExit registered.
var workerExit []func()

// AtWorkerExit registers f to run in a pool worker when it exits of its own
// accord (after Close, or MaxTasksPerChild): an initializer's counterpart,
// for instance to flush what it opened. A worker that is killed runs
// nothing. Call it from the initializer or a task.
func AtWorkerExit(f func()) { workerExit = append(workerExit, f) }

// runWorker is a worker process's target: the initializer, then jobs until
// told to exit or MaxTasksPerChild is reached.
func runWorker(a workerArg) error {
	if a.Init != "" {
		run, ok := lookupTarget(a.Init)
		if !ok {
			return fmt.Errorf("mp: pool initializer %q is not registered", a.Init)
		}
		if err := run(a.InitArg.raw); err != nil {
			return fmt.Errorf("mp: pool initializer: %w", err)
		}
	}
	l := a.Link
	rd := ringReader{r: l.tasks()}
	results := l.results()
	var out []byte
	for n := 0; a.MaxTasks == 0 || n < a.MaxTasks; n++ {
		m := poolMessage(rd.read())
		if m.u8() != msgTask {
			break
		}
		id := m.u64()
		name := string(m.take(m.u16()))
		count := m.u32()
		if m.err != nil {
			return m.err
		}
		l.st.running.Store(id)
		run := lookupTask(name)
		out = binary.LittleEndian.AppendUint64(append(out[:0], 0, 0, 0, 0, 0, 0, 0, 0), id)
		out = binary.LittleEndian.AppendUint32(out, uint32(count))
		if need := len(m.b) + 5*count + 64; cap(out) < need {
			out = append(make([]byte, 0, need), out...)
		}
		for done := 0; done < count; {
			out, done = runItems(run, name, &m, done, count, out)
		}
		results.write(out, nil)
		l.st.running.Store(0)
		if cap(out) > 1<<20 {
			out = nil
		}
	}
	for _, f := range workerExit {
		f()
	}
	return nil
}

// runItems runs the calls of a job from item i on, and appends each
// one's status and result (or error message) to out. It returns at the end
// of the job, or after a call that panicked, with the index of the next
// item: one deferred recover covers a whole run of calls, which costs less
// than one per call.
func runItems(run taskRunner, name string, m *wireReader, i, count int, buf []byte) (out []byte, next int) {
	out = buf
	at := len(out)
	defer func() {
		if r := recover(); r != nil {
			out = appendFailure(out[:at], fmt.Errorf("panic: %v", r))
			next = i + 1
		}
	}()
	if run == nil {
		err := fmt.Errorf("no task %q is registered (RegisterTask must run at package level)", name)
		for ; i < count; i++ {
			m.bytes()
			out = appendFailure(out, err)
		}
		return out, count
	}
	for ; i < count; i++ {
		at = len(out)
		res, err := run(m.bytes(), append(out, 0, 0, 0, 0, 0))
		if err != nil {
			out = appendFailure(out[:at], err)
			continue
		}
		out = res
		binary.LittleEndian.PutUint32(out[at+1:], uint32(len(out)-at-5))
	}
	return out, count
}

func appendFailure(out []byte, err error) []byte {
	out = append(out, 1)
	return appendItem(out, func(b []byte) []byte { return append(b, err.Error()...) })
}

// decodeItem decodes one result item of a result message: the value, or
// the task's error.
func decodeItem[R any](m *wireReader, task string, c codec[R], v *R) error {
	status := m.u8()
	b := m.bytes()
	if m.err != nil {
		return m.err
	}
	if status != 0 {
		return &TaskError{Task: task, Message: string(b)}
	}
	if err := c.dec(b, v); err != nil {
		return fmt.Errorf("mp: task %s: decoding the result: %w", task, err)
	}
	return nil
}

// Results.

// An AsyncResult is the result of a task submitted with ApplyAsync (or of a
// whole MapAsync), as CPython's AsyncResult.
type AsyncResult[R any] struct {
	p     *Pool
	j     *job // a single call's job: Get polls its worker
	done  chan struct{}
	ready atomic.Bool
	val   R
	err   error
	cb    Callbacks[R]
}

// Callbacks are called with a result when it is ready, before any Get
// returns it: OnResult with a successful result, OnError with the error
// of a failed one. As in CPython they run on the goroutine that reads the
// result, so they must not block, nor wait for another result.
type Callbacks[R any] struct {
	OnResult func(R)
	OnError  func(error)
}

func newResult[R any](p *Pool, cb []Callbacks[R]) *AsyncResult[R] {
	r := &AsyncResult[R]{p: p, done: make(chan struct{})}
	if len(cb) > 0 {
		r.cb = cb[0]
	}
	return r
}

func (r *AsyncResult[R]) finish(v R, err error) {
	r.val, r.err = v, err
	switch {
	case err == nil && r.cb.OnResult != nil:
		r.cb.OnResult(v)
	case err != nil && r.cb.OnError != nil:
		r.cb.OnError(err)
	}
	r.ready.Store(true)
	close(r.done)
}

// Ready reports whether the result is ready.
func (r *AsyncResult[R]) Ready() bool { return r.ready.Load() }

// Successful reports whether the task succeeded; before the result is
// ready it fails with ErrValue.
func (r *AsyncResult[R]) Successful() (bool, error) {
	if !r.ready.Load() {
		return false, fmt.Errorf("%w: the result is not ready", ErrValue)
	}
	return r.err == nil, nil
}

// Wait waits until the result is ready or ctx ends (then it returns
// ctx.Err()).
func (r *AsyncResult[R]) Wait(ctx context.Context) error {
	if !r.ready.Load() {
		r.await(ctx)
	}
	select {
	case <-r.done:
		return nil
	default:
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get waits for the result as Wait does and returns it: the task's value,
// or its error (a *TaskError, ErrWorkerLost, ErrClosed after Terminate), or
// ctx.Err() if ctx ends first.
func (r *AsyncResult[R]) Get(ctx context.Context) (R, error) {
	if err := r.Wait(ctx); err != nil {
		var zero R
		return zero, err
	}
	return r.val, r.err
}

// await reads the results of the worker that runs the task itself, rather
// than wait for the collector to: it polls the ring for a while, then
// sleeps on it, and reads as soon as something comes. A result that comes
// within microseconds is then taken with no system call on either side,
// and a later one with a single wake-up. It returns when the result is
// ready, the worker died (the collector then fails the task) or ctx ended.
func (r *AsyncResult[R]) await(ctx context.Context) {
	if r.j == nil {
		return // a Map's result: its chunks are collected
	}
	w := r.j.w.Load()
	if w == nil {
		return // not handed out yet
	}
	w.pollers.Add(1)
	defer w.pollers.Add(-1)
	if w.unmapped.Load() {
		return // collected: the link may be unmapped (see gone)
	}
	var sends []sendReq
	read := func() bool {
		if r.ready.Load() {
			return true
		}
		if w.rxMu.TryLock() {
			sends = w.drainLocked(sends[:0])
			w.rxMu.Unlock()
			r.p.send(sends)
		}
		return r.ready.Load()
	}
	if read() || linkSpin.spin(nil, read) {
		return
	}
	stop := func() bool { return w.dead.Load() || ctx.Err() != nil || r.j.w.Load() != w }
	arrived := func() bool { return w.rx.avail() > 0 || r.ready.Load() }
	// The sleep is bounded, for what no wake announces: another goroutine
	// that read the result, or ctx canceled.
	for nap := 100 * time.Microsecond; !read() && !stop(); nap = min(2*nap, 20*time.Millisecond) {
		if deadline, ok := ctx.Deadline(); ok {
			nap = max(min(nap, time.Until(deadline)), 0)
		}
		linkWait(&w.rx.s.data, false, arrived, stop, nap)
	}
}

// ApplyAsync submits t(arg) and returns its result. It fails with
// ErrNotAllowed once the pool is closed or terminated.
func ApplyAsync[A, R any](p *Pool, t Task[A, R], arg A, cb ...Callbacks[R]) (*AsyncResult[R], error) {
	r := newResult(p, cb)
	j := &job{task: t.name, n: 1}
	j.encode = func(b []byte) []byte {
		return appendItem(b, func(b []byte) []byte { return t.arg.enc(b, &arg) })
	}
	j.deliver = func(m *wireReader, err error) {
		var v R
		if err == nil {
			err = decodeItem(m, t.name, t.res, &v)
		}
		r.finish(v, err)
	}
	r.j = j
	if err := p.submit(pendingEntry{j: j}); err != nil {
		return nil, err
	}
	return r, nil
}

// Apply runs t(arg) in a worker and returns its result, as ApplyAsync then
// Get.
func Apply[A, R any](ctx context.Context, p *Pool, t Task[A, R], arg A) (R, error) {
	r, err := ApplyAsync(p, t, arg)
	if err != nil {
		var zero R
		return zero, err
	}
	return r.Get(ctx)
}

// A MapOption configures Map and its variants.
type MapOption func(*mapOptions)

type mapOptions struct{ chunksize int }

// Chunksize sets how many items a worker gets in one job. Map's default
// is CPython's: the items divided by four times the pool's size, rounded
// up; Imap's is 1. Less than 1 is an error (ErrValue).
func Chunksize(n int) MapOption { return func(o *mapOptions) { o.chunksize = n } }

// chunks returns the chunk size for n items.
func (p *Pool) chunks(n int, defaultOne bool, opts []MapOption) (int, error) {
	o := mapOptions{chunksize: -1}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.chunksize == -1 && defaultOne:
		return 1, nil
	case o.chunksize == -1:
		if n == 0 {
			return 0, nil
		}
		size, extra := n/(p.opts.processes*4), n%(p.opts.processes*4)
		if extra != 0 {
			size++
		}
		return size, nil
	case o.chunksize < 1:
		return 0, fmt.Errorf("%w: chunksize must be at least 1, not %d", ErrValue, o.chunksize)
	}
	return o.chunksize, nil
}

// mapJobs submits items in chunks; deliver gets each item's index and its
// result or error, once per item. ahead lets chunks queue in a worker
// behind another (Map, whose results come all at once, but not Imap).
func mapJobs[A, R any](p *Pool, t Task[A, R], items []A, size int, ahead bool, deliver func(i int, v R, err error), chunkDone func()) error {
	n := len(items)
	if n == 0 {
		return p.submit()
	}
	next := 0
	c := &chunker{left: (n + size - 1) / size, ahead: ahead}
	c.next = func() *job {
		start := next
		end := min(start+size, n)
		next = end
		j := &job{task: t.name, n: end - start, ahead: ahead}
		j.encode = func(b []byte) []byte {
			for i := start; i < end; i++ {
				b = appendItem(b, func(b []byte) []byte { return t.arg.enc(b, &items[i]) })
			}
			return b
		}
		j.deliver = func(m *wireReader, err error) {
			for i := start; i < end; i++ {
				var v R
				e := err
				if e == nil {
					e = decodeItem(m, t.name, t.res, &v)
				}
				deliver(i, v, e)
			}
			chunkDone()
		}
		return j
	}
	return p.submit(pendingEntry{chunk: c})
}

// MapAsync submits t for each item, in chunks, and returns a result that is
// ready when every chunk has finished: the results in input order, or the
// error of the first item that failed, in input order.
func MapAsync[A, R any](p *Pool, t Task[A, R], items []A, opts []MapOption, cb ...Callbacks[[]R]) (*AsyncResult[[]R], error) {
	size, err := p.chunks(len(items), false, opts)
	if err != nil {
		return nil, err
	}
	r := newResult(p, cb)
	out := make([]R, len(items))
	errs := make([]error, len(items))
	var left atomic.Int64
	if size > 0 {
		left.Store(int64((len(items) + size - 1) / size))
	}
	finish := func() {
		for _, err := range errs {
			if err != nil {
				r.finish(nil, err)
				return
			}
		}
		r.finish(out, nil)
	}
	err = mapJobs(p, t, items, size, true,
		func(i int, v R, err error) { out[i], errs[i] = v, err },
		func() {
			if left.Add(-1) == 0 {
				finish()
			}
		})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		finish()
	}
	return r, nil
}

// Map runs t on every item in the workers and returns the results in input
// order, as CPython's Pool.map: it waits for every item, even after one
// failed, and then returns the first error in input order.
func Map[A, R any](ctx context.Context, p *Pool, t Task[A, R], items []A, opts ...MapOption) ([]R, error) {
	r, err := MapAsync(p, t, items, opts)
	if err != nil {
		return nil, err
	}
	return r.Get(ctx)
}

// Imap runs t on every item as Map does, with a chunk size of 1 unless set,
// and yields each result, or its error, in input order as soon as it and
// those before it are ready. The iteration stops with ctx.Err() if ctx ends
// first; the tasks still run.
func Imap[A, R any](ctx context.Context, p *Pool, t Task[A, R], items []A, opts ...MapOption) (iter.Seq2[R, error], error) {
	return imap(ctx, p, t, items, true, opts)
}

// ImapUnordered is Imap, yielding results in the order they finish.
func ImapUnordered[A, R any](ctx context.Context, p *Pool, t Task[A, R], items []A, opts ...MapOption) (iter.Seq2[R, error], error) {
	return imap(ctx, p, t, items, false, opts)
}

func imap[A, R any](ctx context.Context, p *Pool, t Task[A, R], items []A, ordered bool, opts []MapOption) (iter.Seq2[R, error], error) {
	size, err := p.chunks(len(items), true, opts)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	out := make([]R, len(items))
	errs := make([]error, len(items))
	got := make([]bool, len(items))
	var order []int // indices in the order they finished
	signal := make(chan struct{}, 1)
	err = mapJobs(p, t, items, size, false,
		func(i int, v R, err error) {
			mu.Lock()
			out[i], errs[i], got[i] = v, err, true
			order = append(order, i)
			mu.Unlock()
		},
		func() {
			select {
			case signal <- struct{}{}:
			default:
			}
		})
	if err != nil {
		return nil, err
	}
	return func(yield func(R, error) bool) {
		for k := range len(items) {
			var i int
			for {
				mu.Lock()
				ok := false
				if ordered {
					i, ok = k, got[k]
				} else if k < len(order) {
					i, ok = order[k], true
				}
				mu.Unlock()
				if ok {
					break
				}
				select {
				case <-signal:
				case <-ctx.Done():
					var zero R
					yield(zero, ctx.Err())
					return
				}
			}
			v, err := out[i], errs[i]
			var zero R
			out[i] = zero // let it go once yielded
			if !yield(v, err) {
				return
			}
		}
	}, nil
}

// String describes the pool as CPython's repr does.
func (p *Pool) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	state := [...]string{"RUN", "CLOSE", "TERMINATE"}[p.state]
	return fmt.Sprintf("<Pool state=%s pool_size=%d>", state, p.opts.processes)
}
