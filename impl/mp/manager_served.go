package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The objects a server serves by method name (opCall): the queue, event,
// semaphore, barrier and array of a SyncManager, and registered types
// (manager_register.go). Each holds its encoded values as the server's
// other objects do, and waits under its own lock, so that a blocked get
// does not hold up a put from another client.
type servedObject interface {
	// call runs method with its encoded args; ctx ends at the request's
	// timeout or at the server's shutdown. It returns the encoded value.
	call(ctx context.Context, method string, args [][]byte) ([]byte, error)
}

// errNoMethod is a method a served object does not have (or does not expose).
var errNoMethod = fmt.Errorf("%w: no such method", ErrNotAllowed)

// waitState is a lock and a wake-up for waiters on a served object's state.
type waitState struct {
	mu   sync.Mutex
	wake chan struct{}
}

// changed wakes every waiter, to look at the state again; mu is held.
func (w *waitState) changed() {
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
}

// await waits, with mu held, until ready() or ctx ends, and reports ready.
func (w *waitState) await(ctx context.Context, ready func() bool) bool {
	for !ready() {
		if ctx.Err() != nil {
			return false
		}
		if w.wake == nil {
			w.wake = make(chan struct{})
		}
		wake := w.wake
		w.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		w.mu.Lock()
	}
	return true
}

var encNil = []byte{tagNil}

func encBool(v bool) []byte {
	if v {
		return []byte{tagTrue}
	}
	return []byte{tagFalse}
}

func encInt(i int) []byte { return binary.AppendVarint([]byte{tagInt}, int64(i)) }

// argCount checks a call's arity.
func argCount(method string, args [][]byte, n int) error {
	if len(args) != n {
		return fmt.Errorf("%w: %s takes %d arguments, got %d", ErrValue, method, n, len(args))
	}
	return nil
}

// argInt is an encoded int argument.
func argInt(b []byte) (int64, error) {
	if len(b) == 0 || b[0] != tagInt {
		return 0, fmt.Errorf("%w: want an int", ErrValue)
	}
	i, _ := binary.Varint(b[1:])
	return i, nil
}

// servedQueue is a manager's Queue (and JoinableQueue: CPython serves a
// queue.Queue for both, so either has task_done and join).
type servedQueue struct {
	waitState
	items      [][]byte
	maxsize    int
	unfinished int
}

func (q *servedQueue) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	if method == "put" {
		n = 1
	}
	if err := argCount(method, args, n); err != nil {
		return nil, err
	}
	switch method {
	case "put":
		if !q.await(ctx, func() bool { return q.maxsize <= 0 || len(q.items) < q.maxsize }) {
			return nil, ErrFull
		}
		q.items = append(q.items, args[0])
		q.unfinished++
		q.changed()
		return encNil, nil
	case "get":
		if !q.await(ctx, func() bool { return len(q.items) > 0 }) {
			return nil, ErrEmpty
		}
		v := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.changed()
		return v, nil
	case "qsize":
		return encInt(len(q.items)), nil
	case "empty":
		return encBool(len(q.items) == 0), nil
	case "full":
		return encBool(q.maxsize > 0 && len(q.items) >= q.maxsize), nil
	case "task_done":
		if q.unfinished <= 0 {
			return nil, fmt.Errorf("%w: task_done() called too many times", ErrValue)
		}
		q.unfinished--
		q.changed()
		return encNil, nil
	case "join":
		if !q.await(ctx, func() bool { return q.unfinished == 0 }) {
			return nil, waitEnded(ctx)
		}
		return encNil, nil
	}
	return nil, errNoMethod
}

// servedEvent is a manager's Event.
type servedEvent struct {
	waitState
	flag bool
}

func (e *servedEvent) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := argCount(method, args, 0); err != nil {
		return nil, err
	}
	switch method {
	case "set":
		e.flag = true
		e.changed()
		return encNil, nil
	case "clear":
		e.flag = false
		return encNil, nil
	case "is_set":
		return encBool(e.flag), nil
	case "wait":
		return encBool(e.await(ctx, func() bool { return e.flag })), nil
	}
	return nil, errNoMethod
}

// servedSemaphore is a manager's Semaphore, or BoundedSemaphore when
// bounded: then a release above the initial value is ErrValue.
type servedSemaphore struct {
	waitState
	value, initial int
	bounded        bool
}

func (s *servedSemaphore) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := argCount(method, args, 0); err != nil {
		return nil, err
	}
	switch method {
	case "acquire":
		ok := s.await(ctx, func() bool { return s.value > 0 })
		if ok {
			s.value--
		}
		return encBool(ok), nil
	case "release":
		if s.bounded && s.value >= s.initial {
			return nil, fmt.Errorf("%w: Semaphore released too many times", ErrValue)
		}
		s.value++
		s.changed()
		return encNil, nil
	}
	return nil, errNoMethod
}

// servedBarrier is a manager's Barrier (without an action, which would run
// in the server). A wait that times out breaks it, as threading.Barrier's.
type servedBarrier struct {
	waitState
	parties int
	timeout time.Duration // the default timeout of wait; < 0 for none
	count   int           // parties waiting in this generation
	gen     uint64        // generations passed
	epoch   uint64        // resets, which release waiters with ErrBroken
	broken  bool
}

func (b *servedBarrier) call(ctx context.Context, method string, args [][]byte) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := argCount(method, args, 0); err != nil {
		return nil, err
	}
	switch method {
	case "wait":
		return b.wait(ctx)
	case "abort":
		b.broken, b.count = true, 0
		b.changed()
		return encNil, nil
	case "reset":
		b.epoch++
		b.broken, b.count = false, 0
		b.changed()
		return encNil, nil
	case "parties":
		return encInt(b.parties), nil
	case "n_waiting":
		return encInt(b.count), nil
	case "broken":
		return encBool(b.broken), nil
	}
	return nil, errNoMethod
}

func (b *servedBarrier) wait(ctx context.Context) ([]byte, error) {
	if b.broken {
		return nil, ErrBroken
	}
	if _, ok := ctx.Deadline(); !ok && b.timeout >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	idx := b.count
	if b.count++; b.count == b.parties {
		b.count = 0
		b.gen++
		b.changed()
		return encInt(idx), nil
	}
	gen, epoch := b.gen, b.epoch
	b.await(ctx, func() bool { return b.gen != gen || b.broken || b.epoch != epoch })
	switch {
	case b.gen != gen:
		return encInt(idx), nil
	case !b.broken && b.epoch == epoch: // timed out: that breaks it
		b.broken, b.count = true, 0
		b.changed()
	}
	return nil, ErrBroken
}

// servedArray is a manager's Array: a fixed-length list of items.
type servedArray struct {
	mu       sync.Mutex
	typecode string
	items    [][]byte
}

func (a *servedArray) call(_ context.Context, method string, args [][]byte) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch method {
	case "get", "set":
		n := 1
		if method == "set" {
			n = 2
		}
		if err := argCount(method, args, n); err != nil {
			return nil, err
		}
		i, err := argInt(args[0])
		if err != nil {
			return nil, err
		}
		j, ok := index(i, len(a.items))
		if !ok {
			return nil, fmt.Errorf("%w: array index out of range", ErrIndex)
		}
		if method == "get" {
			return a.items[j], nil
		}
		a.items[j] = args[1]
		return encNil, nil
	case "len":
		return encInt(len(a.items)), argCount(method, args, 0)
	case "copy":
		b := binary.AppendUvarint([]byte{tagList}, uint64(len(a.items)))
		for _, it := range a.items {
			b = append(b, it...)
		}
		return b, argCount(method, args, 0)
	}
	return nil, errNoMethod
}

// newServed makes the served object of a create request of kind.
func (s *server) newServed(kind byte, a *wireReader) (servedObject, error) {
	switch kind {
	case kindQueue:
		return &servedQueue{maxsize: int(a.varint())}, nil
	case kindEvent:
		return &servedEvent{}, nil
	case kindSemaphore:
		v, bounded := int(a.varint()), a.u8() != 0
		if v < 0 {
			return nil, fmt.Errorf("%w: semaphore initial value must be >= 0", ErrValue)
		}
		return &servedSemaphore{value: v, initial: v, bounded: bounded}, nil
	case kindBarrier:
		parties, timeout := int(a.varint()), time.Duration(a.varint())
		if parties < 1 {
			return nil, fmt.Errorf("%w: a barrier needs at least one party", ErrValue)
		}
		return &servedBarrier{parties: parties, timeout: timeout}, nil
	case kindArray:
		typecode, init := a.str(), a.rawValue(0)
		if a.err != nil {
			return nil, a.err
		}
		if init[0] != tagList {
			return nil, fmt.Errorf("%w: an array's initial value must be a list", ErrValue)
		}
		return &servedArray{typecode: typecode, items: splitList(init)}, nil
	case kindRegistered:
		return newRegistered(a.str())
	case kindRLock, kindCondition:
		return &servedCondition{cond: kind == kindCondition, done: s.ctx.Done()}, nil
	}
	return nil, errMalformed
}

// callReply is the reply to an opCall.
func (s *server) callReply(c *managerConn, o *managedObject, a *wireReader) ([]byte, bool) {
	method, timeout, args := a.str(), a.varint(), a.rawValue(0)
	if !a.end() || o.served == nil || args[0] != tagList {
		return nil, false
	}
	ctx, cancel := context.WithCancel(s.ctx)
	if timeout >= 0 {
		ctx, cancel = context.WithTimeout(s.ctx, time.Duration(timeout))
	}
	v, err := o.served.call(ctx, method, splitList(args))
	cancel()
	if err != nil {
		return callError(c, err), true
	}
	return append(okReply(c), v...), true
}

// callErrorKinds are the error kinds of a call's reply, by sentinel.
var callErrorKinds = []struct {
	err  error
	kind byte
}{{ErrEmpty, errKindEmpty}, {ErrFull, errKindFull}, {ErrBroken, errKindBroken},
	{ErrNotAllowed, errKindNotAllow}, {ErrValue, errKindValue}, {ErrIndex, errKindIndex}, {ErrKey, errKindKey},
	{context.DeadlineExceeded, errKindTimeout}}

// callError is the error reply of a call: its kind from the sentinel, and
// the message without it, which the client puts back.
func callError(c *managerConn, err error) []byte {
	for _, k := range callErrorKinds {
		if errors.Is(err, k.err) {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), k.err.Error()), ": ")
			return errReply(c, k.kind, "%s", msg)
		}
	}
	return errReply(c, errKindOther, "%v", err)
}
