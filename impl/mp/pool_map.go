package mp

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// Map and its variants: items in chunks, one job a chunk.

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
