package protocol

// An ErrorKind is a portable error kind (§8): what a failed op records as
// error.kind, whatever the implementation's language calls it.
type ErrorKind string

// The error kinds.
const (
	ErrFull        ErrorKind = "Full"
	ErrEmpty       ErrorKind = "Empty"
	ErrTimeout     ErrorKind = "Timeout"
	ErrEOF         ErrorKind = "EOF"
	ErrClosed      ErrorKind = "Closed"
	ErrValueError  ErrorKind = "ValueError"
	ErrKeyError    ErrorKind = "KeyError"
	ErrIndexError  ErrorKind = "IndexError"
	ErrNotAllowed  ErrorKind = "NotAllowed"
	ErrBroken      ErrorKind = "Broken"
	ErrTaskError   ErrorKind = "TaskError"
	ErrWorkerLost  ErrorKind = "WorkerLost"
	ErrAuthError   ErrorKind = "AuthError"
	ErrUnsupported ErrorKind = "Unsupported"
	ErrNotFound    ErrorKind = "NotFound" // shared memory: FileNotFoundError
	ErrExists      ErrorKind = "Exists"   // shared memory: FileExistsError
	ErrOther       ErrorKind = "Error"
)

// The error kinds of multiprocessing.connection.
const (
	ErrRefused        ErrorKind = "Refused"
	ErrBufferTooShort ErrorKind = "BufferTooShort"
)

// ErrorKinds lists every error kind with when it is recorded, in §8's order.
var ErrorKinds = []struct {
	Kind ErrorKind
	When string
}{
	{ErrFull, "put on a full queue without blocking, or timed out"},
	{ErrEmpty, "get on an empty queue without blocking, or timed out"},
	{ErrTimeout, "a timed wait ran out (`result.get`, ...)"},
	{ErrEOF, "recv on a pipe whose every writer is closed and drained"},
	{ErrClosed, "use of a closed queue, pipe end or shut-down manager; a send when every copy of the other " +
		"end is closed; a pending result of a terminated pool (a closed pool refuses new work with " +
		"`NotAllowed`, as CPython's `ValueError: Pool not running`)"},
	{ErrValueError, "a bad value or misuse the API rejects (release too many times, task_done too often, a " +
		"value of the wrong type for a shared value or array)"},
	{ErrKeyError, "missing key or attribute in a managed dict or namespace"},
	{ErrIndexError, "missing index in a managed list; an index out of range of an array"},
	{ErrNotAllowed, "an operation the object's state forbids (start twice, daemon flag after start, a " +
		"daemon creating a child, join before close)"},
	{ErrBroken, "a barrier that is broken"},
	{ErrTaskError, "a pool task raised; `message` is its message"},
	{ErrWorkerLost, "the worker running a task died"},
	{ErrAuthError, "a wrong authkey"},
	{ErrUnsupported, "the driver knows the op but cannot do it here"},
	{ErrNotFound, "attach to a shared memory segment (or list) whose name does not exist, or unlink one already " +
		"unlinked (CPython's `FileNotFoundError`)"},
	{ErrExists, "create a shared memory segment under a name that exists (CPython's `FileExistsError`); listen on an address in use (CPython's `OSError` EADDRINUSE)"},
	{ErrRefused, "a connection to an address nobody listens on (CPython's ConnectionRefusedError, or " +
		"FileNotFoundError for a socket path that is gone)"},
	{ErrBufferTooShort, "`recv_bytes_into` of a message longer than the buffer after `offset`: the message " +
		"is taken all the same, and `message` is its bytes decoded as UTF-8 (CPython: `e.args[0]`)"},
	{ErrOther, "anything else, with a message (e.g. an op on a process handle that no `spawn` bound yet, or an " +
		"`index` past the group's end)"},
}
