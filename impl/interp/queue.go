package interp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mpconform/mpconform/impl/mp"
)

// queueOps are the ops of the queue, joinable_queue and simple_queue
// families, and their bulk ops (protocol.md §6). close applies to a pipe
// end too (connection.go): an op name has one entry in the table.
//
// join_thread and cancel_join_thread are no-ops: mp's Queue has no feeder
// thread (a put has written its item when it returns).
func queueOps() map[string]Op {
	ops := map[string]Op{}
	queues := []string{"queue", "joinable_queue", "simple_queue"}
	bounded := []string{"queue", "joinable_queue"}
	joinable := []string{"joinable_queue"}
	ends := []string{"pipe_end"}
	timeout := Field{Number, false}
	value := Field{Value, true}

	ops["put"] = Op{Fields: on(map[string]Field{"value": value, "block": {Bool, false}, "timeout": timeout}), Blocks: true, On: queues, Run: put}
	ops["get"] = Op{Fields: on(map[string]Field{"block": {Bool, false}, "timeout": timeout}), Blocks: true, On: queues, Run: get}
	ops["put_nowait"] = Op{Fields: on(map[string]Field{"value": value}), On: bounded, Run: func(c *Call) (any, error) {
		return nil, c.On.Queue.PutBytesNowait(encodeMessage(c.In["value"]))
	}}
	ops["get_nowait"] = Op{Fields: on(nil), On: bounded, Run: func(c *Call) (any, error) {
		return decodeMessage(c.On.Queue.GetBytesNowait())
	}}
	ops["qsize"] = Op{Fields: on(nil), On: bounded, Run: func(c *Call) (any, error) { return int64(c.On.Queue.Qsize()), nil }}
	ops["empty"] = Op{Fields: on(nil), On: queues, Run: func(c *Call) (any, error) {
		// CPython's SimpleQueue.empty polls its closed pipe: OSError. A
		// closed Queue's empty is not specified: its pipe closes only once
		// its feeder thread has ended, at a moment of the thread's choosing.
		if c.On.Type == "simple_queue" && c.On.Queue.Closed() {
			return nil, fmt.Errorf("%w: empty on a closed SimpleQueue", mp.ErrClosed)
		}
		return c.On.Queue.Empty(), nil
	}}
	ops["full"] = Op{Fields: on(nil), On: bounded, Run: func(c *Call) (any, error) { return c.On.Queue.Full(), nil }}
	// close closes a queue or a pipe end ("on"), or a process ("proc", process.go).
	closeFields := on(map[string]Field{"proc": {Name, false}, "index": {Int, false}})
	closeFields["on"] = Field{ResourceName, false}
	ops["close"] = Op{Fields: closeFields, OneOf: []string{"on", "proc"}, On: append(queues[:3:3], ends...), Run: func(c *Call) (any, error) {
		if c.Proc != nil {
			return nil, c.Proc.Close()
		}
		if c.On.Conn != nil {
			return nil, c.On.Conn.Close()
		}
		return nil, c.On.Queue.Close()
	}}
	ops["join_thread"] = Op{Fields: on(nil), Blocks: true, On: bounded, Run: func(c *Call) (any, error) { c.On.Queue.JoinThread(); return nil, nil }}
	ops["cancel_join_thread"] = Op{Fields: on(nil), On: bounded, Run: func(c *Call) (any, error) {
		c.On.Queue.CancelJoinThread()
		return nil, nil
	}}
	ops["task_done"] = Op{Fields: on(nil), On: joinable, Run: func(c *Call) (any, error) { return nil, c.On.Joinable.TaskDone() }}
	many, collect := sendManyFields, recvManyFields
	ops["put_many"] = Op{Fields: on(many), Blocks: true, On: queues, Run: func(c *Call) (any, error) {
		return sendMany(c, func(b []byte) error { return c.On.Queue.PutBytes(context.Background(), b) })
	}}
	ops["get_many"] = Op{Fields: on(collect), Blocks: true, On: queues, Run: func(c *Call) (any, error) {
		return recvMany(c, func(buf []byte) ([]byte, error) { return c.On.Queue.GetBytesInto(context.Background(), buf) })
	}}
	return ops
}

// encodeMessage is a value as a queue item or pipe message: a bytes value as
// the byte 'b' then its bytes (no encoding, whatever its size), any other
// value as 'j' then its JSON (§4).
func encodeMessage(v any) []byte {
	if b, ok := v.(Bytes); ok {
		return append([]byte{'b'}, b...)
	}
	return appendValue([]byte{'j'}, v, false)
}

// decodeMessage is the value of a message that encodeMessage made.
func decodeMessage(b []byte, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		switch b[0] {
		case 'b':
			return Bytes(b[1:]), nil
		case 'j':
			return decodeJSONValue(b[1:])
		}
	}
	return nil, errorf("Error", "a message of %d bytes that is no value (sent with send_bytes?)", len(b))
}

// blockContext is the context of a put or get: canceled for block false (a
// non-blocking call ignores its timeout, as in CPython), else the timeout's.
func (c *Call) blockContext() (context.Context, context.CancelFunc) {
	if block, ok := c.In["block"].(bool); ok && !block {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	}
	return c.timeoutContext()
}

func put(c *Call) (any, error) {
	ctx, cancel := c.blockContext()
	defer cancel()
	return nil, c.On.Queue.PutBytes(ctx, encodeMessage(c.In["value"]))
}

func get(c *Call) (any, error) {
	ctx, cancel := c.blockContext()
	defer cancel()
	return decodeMessage(c.On.Queue.GetBytes(ctx))
}

// joinQueue is join on a joinable queue.
func joinQueue(c *Call) (any, error) {
	ctx, cancel := c.timeoutContext()
	defer cancel()
	if err := c.On.Joinable.Join(ctx); errors.Is(err, context.DeadlineExceeded) {
		return nil, errorf("Timeout", "join: tasks not done before the timeout")
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}

// The fields of the bulk ops that send n items (put_many, send_many) and
// that receive them (get_many, recv_many).
var (
	sendManyFields = map[string]Field{"n": {Int, true}, "start": {Int, false}, "size": {Int, false}}
	recvManyFields = map[string]Field{"n": {Int, true}, "collect": {Bool, false}}
)

// bulkItems returns item k of put_many and the like: the int start+k, or size
// bytes beginning with start+k as 8 little-endian bytes, the rest as a blob.
// A sized item is one buffer rewritten for each k, so that a bulk op measures
// the primitive, not the making of its items: it is valid until the next call.
func bulkItems(c *Call) func(k int64) []byte {
	start, _ := c.int("start")
	size, sized := c.int("size")
	if !sized {
		return func(k int64) []byte { return encodeMessage(start + k) }
	}
	b := make([]byte, 1+max(size, 8))
	b[0] = 'b'
	for i := 9; i < len(b); i++ {
		b[i] = byte((i - 1) % 251)
	}
	return func(k int64) []byte {
		binary.LittleEndian.PutUint64(b[1:], uint64(start+k))
		return b[:1+size]
	}
}

func sendMany(c *Call, send func([]byte) error) (any, error) {
	n, _ := c.int("n")
	item := bulkItems(c)
	for k := range n {
		if err := send(item(k)); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// recvMany gets n messages with recv, which returns a message in the
// memory of the buffer it is given if it is big enough: one buffer serves
// them all unless they are collected.
func recvMany(c *Call, recv func(buf []byte) ([]byte, error)) (any, error) {
	n, _ := c.int("n")
	collect, _ := c.In["collect"].(bool)
	var sum int64
	items := []any{}
	var buf []byte
	for range n {
		b, err := recv(buf)
		if !collect {
			buf = b
		}
		v, err := decodeMessage(b, err)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case int64:
			sum += v
		case Bytes:
			var lead [8]byte
			copy(lead[:], v)
			sum += int64(binary.LittleEndian.Uint64(lead[:]))
		}
		if collect {
			items = append(items, v)
		}
	}
	d := Dict{{"count", n}, {"sum", sum}}
	if collect {
		d = append(d, Pair{"items", items})
	}
	return d, nil
}
