package mp

import "errors"

// Errors are sentinels, so that callers test them with errors.Is; the error a
// call returns wraps one of them with the reason.
var (
	// ErrNotAllowed reports an operation that the object's state forbids:
	// starting a process twice, changing the daemon flag after Start, a
	// daemonic process creating a child, joining a process never started.
	ErrNotAllowed = errors.New("mp: not allowed")
)
