package mp

import "fmt"

// Close releases the Process, as CPython's Process.close: afterwards Start,
// Join, Terminate, Kill and Sentinel fail with ErrClosed (CPython raises
// ValueError "process object is closed" for them, and for pid, exitcode and
// is_alive; here Pid, ExitCode and IsAlive cannot fail, so Closed tells).
// Closing a process that has started and not yet exited fails with ErrValue
// and changes nothing; closing it again does nothing.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && !p.closed {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%w: cannot close process %s while it is still running; join or terminate it first",
				ErrValue, p.name)
		}
	}
	p.closed = true
	return nil
}

// Closed reports whether Close has succeeded.
func (p *Process) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Process) errClosed() error {
	return fmt.Errorf("%w: process object %s is closed", ErrClosed, p.name)
}

// Sentinel returns a channel that is closed when the child ends, as CPython's
// Process.sentinel becomes ready: a select on it waits for several processes
// (and anything else) at once, as connection.wait does. It fails with ErrValue
// before Start (CPython: "process not started") and ErrClosed after Close.
func (p *Process) Sentinel() (<-chan struct{}, error) {
	_, done := p.started()
	switch {
	case p.Closed():
		return nil, p.errClosed()
	case done == nil:
		return nil, fmt.Errorf("%w: process %s not started", ErrValue, p.name)
	}
	return done, nil
}
