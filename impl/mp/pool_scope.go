package mp

// Use runs f with the pool and then terminates it, as Python's `with pool:`
// (__exit__ calls terminate(), not close()): tasks still running when f
// returns are stopped, their results fail with ErrClosed, and new work fails
// with ErrNotAllowed. A pool already closed or terminated fails with
// ErrNotAllowed and f does not run, as __enter__ raises "Pool not running".
// It returns f's error, or Terminate's.
func (p *Pool) Use(f func(*Pool) error) error {
	p.mu.Lock()
	running := p.state == poolRunning
	p.mu.Unlock()
	if !running {
		return errNotRunning
	}
	err := f(p)
	if terr := p.Terminate(); err == nil {
		err = terr
	}
	return err
}

// UsePool starts a pool with opts, runs f with it and terminates it, as
// `with Pool(...) as p:` (see Pool.Use). It fails with NewPool's error
// before f runs.
func UsePool(f func(*Pool) error, opts ...PoolOption) error {
	p, err := NewPool(opts...)
	if err != nil {
		return err
	}
	return p.Use(f)
}
