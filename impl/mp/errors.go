package mp

import (
	"context"
	"errors"
)

// Errors are sentinels, so that callers test them with errors.Is; the error a
// call returns wraps one of them with the reason. A wait that its context
// ended returns an error that wraps the context's (see Waiting in the
// package doc).
var (
	// ErrNotAllowed reports an operation that the object's state forbids:
	// starting a process twice, changing the daemon flag after Start, a
	// daemonic process creating a child, joining a process never started,
	// releasing an RLock that the caller does not hold, waiting on or
	// notifying a Condition without holding its lock.
	ErrNotAllowed = errors.New("mp: not allowed")

	// ErrValue reports a value or a use that the API rejects: releasing a
	// Lock that is not locked, releasing a BoundedSemaphore above its
	// initial value, a negative semaphore value.
	ErrValue = errors.New("mp: invalid value")

	// ErrBroken reports a Barrier that is broken, or broke while waiting
	// (a Wait whose context ended breaks it: that error is also the
	// context's).
	ErrBroken = errors.New("mp: broken barrier")

	// ErrFull reports a put on a full Queue that could not wait (PutNowait),
	// or whose context ended first: that error is also the context's.
	ErrFull = errors.New("mp: queue full")

	// ErrEmpty reports a get on an empty Queue that could not wait
	// (GetNowait), or whose context ended first: that error is also the
	// context's.
	ErrEmpty = errors.New("mp: queue empty")

	// ErrClosed reports the use of a Queue or Conn that this process closed,
	// or of a proxy whose Manager is shut down.
	ErrClosed = errors.New("mp: closed")

	// ErrEOF reports a receive on a Conn whose every copy of the other end is
	// closed, once the messages sent before are drained.
	ErrEOF = errors.New("mp: end of file")

	// ErrTaskError reports a pool task that failed (returned an error or
	// panicked). The error is a *TaskError, which carries the message.
	ErrTaskError = errors.New("mp: task failed")

	// ErrWorkerLost reports a pool task whose worker process died while it
	// ran the task (killed, or exited from inside it). CPython waits for
	// such a result for ever; a Pool fails it and replaces the worker.
	ErrWorkerLost = errors.New("mp: pool worker lost")

	// ErrKey reports a key missing from a managed dict (or an attribute
	// missing from a Namespace), as Python's KeyError.
	ErrKey = errors.New("mp: key not found")

	// ErrIndex reports an index out of range of a managed list, as
	// Python's IndexError.
	ErrIndex = errors.New("mp: index out of range")

	// ErrAuth reports a connection to a manager refused for a wrong authkey
	// (on either side), as Python's AuthenticationError.
	ErrAuth = errors.New("mp: authentication failed")
)

// A TaskError is how a pool task's failure reaches the caller: the task's
// error message (or panic value) as text, since the error itself lived in
// another process. errors.Is(err, ErrTaskError) holds for it.
type TaskError struct {
	Task    string // the name the task was registered under
	Message string // the task's error message
}

func (e *TaskError) Error() string { return "mp: task " + e.Task + ": " + e.Message }

// Is makes errors.Is(err, ErrTaskError) hold.
func (e *TaskError) Is(target error) bool { return target == ErrTaskError }

// waitEnded is the error of a wait that ended because ctx did: ctx.Err(),
// or context.DeadlineExceeded when the deadline has passed but ctx has not
// noticed yet (a wait never ends before the deadline, and the context's
// timer may fire a little after it).
func waitEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// waitResult is the error of a wait that reports ok: nil, or waitEnded.
func waitResult(ctx context.Context, ok bool) error {
	if ok {
		return nil
	}
	return waitEnded(ctx)
}

// timedOut is the error of a wait that ended because ctx did, where CPython
// raises an error of its own on timeout (queue.Empty, queue.Full,
// BrokenBarrierError): errors.Is holds for both kind and the context's
// error. The calls that never wait (GetNowait, PutNowait) pass canceled
// and get kind alone, as CPython's get_nowait raises Empty, not a timeout.
func timedOut(ctx context.Context, kind error) error {
	if ctx == canceled {
		return kind
	}
	return &waitError{kind, waitEnded(ctx)}
}

// A waitError is kind, then the context's error that caused it.
type waitError struct{ kind, ctx error }

func (e *waitError) Error() string   { return e.kind.Error() + ": " + e.ctx.Error() }
func (e *waitError) Unwrap() []error { return []error{e.kind, e.ctx} }
