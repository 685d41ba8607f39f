package mp

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// The results of ApplyAsync and MapAsync.

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
