package mp

import "errors"

// Errors are sentinels, so that callers test them with errors.Is; the error a
// call returns wraps one of them with the reason.
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

	// ErrBroken reports a Barrier that is broken, or broke while waiting.
	ErrBroken = errors.New("mp: broken barrier")

	// ErrFull reports a put on a full Queue that could not wait, or whose
	// context ended first.
	ErrFull = errors.New("mp: queue full")

	// ErrEmpty reports a get on an empty Queue that could not wait, or
	// whose context ended first.
	ErrEmpty = errors.New("mp: queue empty")

	// ErrClosed reports the use of a Queue or Conn that this process closed.
	ErrClosed = errors.New("mp: closed")

	// ErrEOF reports a receive on a Conn whose every copy of the other end is
	// closed, once the messages sent before are drained.
	ErrEOF = errors.New("mp: end of file")
)
