package mp

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The pool's side of each worker process: its start, the goroutines that
// watch it and collect its results, and the sending of its jobs.

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
