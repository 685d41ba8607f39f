package mp

import (
	"context"
	"encoding/json"
)

// QueueOf is a Queue of values of type T. Ints, floats, bools, strings, byte
// slices and struct{} travel in a fixed binary form, as pool tasks' do (an
// int is 8 bytes, with no encoding/json on the way); any other T travels as
// JSON, so it must round-trip through encoding/json. A QueueOf passes to a
// child in a target's argument as a Queue does.
type QueueOf[T any] struct {
	*Queue
	c codec[T]
}

// NewQueueOf returns a new Queue of values of type T, of at most maxsize
// values, or unbounded when maxsize <= 0.
func NewQueueOf[T any](maxsize int) (QueueOf[T], error) {
	q, err := NewQueue(maxsize)
	return QueueOf[T]{q, codecFor[T]()}, err
}

// Put puts v, waiting while the queue is full until ctx ends (ErrFull and
// ctx's error), as Queue.PutBytes.
func (q QueueOf[T]) Put(ctx context.Context, v T) error {
	return q.Queue.PutBytes(ctx, q.c.enc(nil, &v))
}

// Get gets a value, waiting while the queue is empty until ctx ends
// (ErrEmpty and ctx's error), as Queue.GetBytes.
func (q QueueOf[T]) Get(ctx context.Context) (T, error) {
	var v T
	b, err := q.Queue.GetBytes(ctx)
	if err != nil {
		return v, err
	}
	return v, q.c.dec(b, &v)
}

// PutNowait is Put without waiting.
func (q QueueOf[T]) PutNowait(v T) error { return q.Put(canceled, v) }

// GetNowait is Get without waiting.
func (q QueueOf[T]) GetNowait() (T, error) { return q.Get(canceled) }

// MarshalJSON encodes the queue for a child being started.
func (q QueueOf[T]) MarshalJSON() ([]byte, error) { return q.Queue.MarshalJSON() }

// UnmarshalJSON maps, in a child, the queue its parent passed.
func (q *QueueOf[T]) UnmarshalJSON(data []byte) error {
	q.Queue, q.c = new(Queue), codecFor[T]()
	return json.Unmarshal(data, q.Queue)
}

// ConnOf is a Conn that sends and receives values of type T, encoded as
// QueueOf's are.
type ConnOf[T any] struct {
	*Conn
	c codec[T]
}

// PipeOf is Pipe for values of type T.
func PipeOf[T any](duplex bool) (ConnOf[T], ConnOf[T], error) {
	a, b, err := Pipe(duplex)
	c := codecFor[T]()
	return ConnOf[T]{a, c}, ConnOf[T]{b, c}, err
}

// Send sends v as one message, as Conn.SendBytes.
func (c ConnOf[T]) Send(ctx context.Context, v T) error {
	return c.Conn.SendBytes(ctx, c.c.enc(nil, &v))
}

// Recv receives one value, as Conn.RecvBytes; ErrEOF once the other end is
// closed and drained.
func (c ConnOf[T]) Recv(ctx context.Context) (T, error) {
	var v T
	b, err := c.Conn.RecvBytes(ctx)
	if err != nil {
		return v, err
	}
	return v, c.c.dec(b, &v)
}

// MarshalJSON encodes the end for a child being started.
func (c ConnOf[T]) MarshalJSON() ([]byte, error) { return c.Conn.MarshalJSON() }

// UnmarshalJSON opens, in a child, the end its parent passed.
func (c *ConnOf[T]) UnmarshalJSON(data []byte) error {
	c.Conn, c.c = new(Conn), codecFor[T]()
	return json.Unmarshal(data, c.Conn)
}
