package mp

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// The pool's dispatcher: jobs wait in a FIFO until a worker has room for
// them, are handed out one at a time (a Map's chunks two), and go back to
// the head of the FIFO when their worker dies before it runs them.

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
