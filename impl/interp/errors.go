package interp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpconform/mpconform/impl/mp"
)

// A kindError is an error of one of the portable kinds of protocol.md §8
// that no mp sentinel stands for.
type kindError struct{ kind, msg string }

func (e *kindError) Error() string { return e.msg }

func errorf(kind, format string, args ...any) error {
	return &kindError{kind, fmt.Sprintf(format, args...)}
}

// errorKind maps an error to its portable kind.
func errorKind(err error) string {
	var ke *kindError
	switch {
	case errors.As(err, &ke):
		return ke.kind
	case shmKind(err) != "":
		return shmKind(err)
	case errors.Is(err, mp.ErrNotAllowed):
		return "NotAllowed"
	case errors.Is(err, mp.ErrValue):
		return "ValueError"
	case errors.Is(err, mp.ErrBroken):
		return "Broken"
	case errors.Is(err, mp.ErrFull):
		return "Full"
	case errors.Is(err, mp.ErrEmpty):
		return "Empty"
	case errors.Is(err, mp.ErrClosed):
		return "Closed"
	case errors.Is(err, mp.ErrEOF):
		return "EOF"
	case errors.Is(err, mp.ErrKey):
		return "KeyError"
	case errors.Is(err, mp.ErrIndex):
		return "IndexError"
	case errors.Is(err, mp.ErrAuth):
		return "AuthError"
	case errors.Is(err, mp.ErrRefused):
		return "Refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	return "Error"
}
