package interp

import (
	"bytes"
	"context"
	"errors"
	"maps"
)

// connectionOps are the ops of the pipe family and its bulk ops (protocol.md
// §6), on the two pipe_end resources that a pipe makes. Messages are values
// as encodeMessage makes them, as queue items are; close, which applies to a
// queue too, is a queue op (queue.go).
func connectionOps() map[string]Op {
	ops := map[string]Op{}
	ends := []string{"pipe_end"}
	timeout := Field{Number, false}
	value := Field{Value, true}
	collect := recvManyFields
	many := map[string]Field{"n": {Int, true}, "size": {Int, false}} // no start: a pipe's items count from 0

	ops["send"] = Op{Fields: on(map[string]Field{"value": value}), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		return nil, c.On.Conn.SendBytes(context.Background(), encodeMessage(c.In["value"]))
	}}
	ops["recv"] = Op{Fields: on(nil), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		return decodeMessage(c.On.Conn.RecvBytes(context.Background()))
	}}
	ops["send_bytes"] = Op{Fields: on(map[string]Field{"value": value, "offset": {Int, false}, "size": {Int, false}}),
		Blocks: true, On: ends, Run: func(c *Call) (any, error) {
			b, ok := c.In["value"].(Bytes)
			if !ok {
				return nil, errorf("ValueError", "send_bytes wants a bytes value, got %s", appendValue(nil, c.In["value"], true))
			}
			b, err := sendSlice(c, b)
			if err != nil {
				return nil, err
			}
			return nil, c.On.Conn.SendBytes(context.Background(), b)
		}}
	ops["recv_bytes"] = Op{Fields: on(map[string]Field{"maxlength": {Int, false}}), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		maxlength := int64(-1)
		if m, ok := c.int("maxlength"); ok {
			maxlength = m
		}
		b, err := c.On.Conn.RecvBytesMax(context.Background(), int(maxlength))
		if err != nil {
			return nil, err
		}
		return Bytes(b), nil
	}}
	ops["poll"] = Op{Fields: on(map[string]Field{"timeout": timeout}), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		d, _ := c.duration("timeout") // default 0: no wait
		ctx, cancel := context.WithTimeout(context.Background(), max(d, 0))
		defer cancel()
		err := c.On.Conn.Poll(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return false, nil
		}
		return err == nil, err
	}}
	ops["connection.with"] = Op{Fields: on(map[string]Field{"body": {Steps, true}}), Silent: true, On: ends,
		Run: func(c *Call) (any, error) {
			defer c.On.Conn.Close() // as Connection.__exit__, whatever ends the body
			c.r.steps(c.s.body, c.env)
			return nil, nil
		}}
	ops["send_many"] = Op{Fields: on(many), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		return sendMany(c, func(b []byte) error { return c.On.Conn.SendBytes(context.Background(), b) })
	}}
	ops["recv_many"] = Op{Fields: on(collect), Blocks: true, On: ends, Run: func(c *Call) (any, error) {
		return recvMany(c, func(buf []byte) ([]byte, error) { return c.On.Conn.RecvBytesInto(context.Background(), buf) })
	}}
	ops["echo_many"] = Op{Fields: on(map[string]Field{"n": {Int, true}}), Blocks: true, On: ends, Run: echoMany}
	ops["roundtrip_many"] = Op{Fields: on(many),
		Blocks: true, On: ends, Run: roundtripMany}
	maps.Copy(ops, listenerOps())
	return ops
}

// sendSlice is the part of b that send_bytes sends: b[offset:offset+size],
// refused as CPython's Connection.send_bytes refuses it (ValueError) when
// offset or size is negative or the part passes b's end.
func sendSlice(c *Call, b []byte) ([]byte, error) {
	n := int64(len(b))
	offset, _ := c.int("offset")
	size, sized := c.int("size")
	switch {
	case offset < 0:
		return nil, errorf("ValueError", "send_bytes: offset %d is negative", offset)
	case offset > n:
		return nil, errorf("ValueError", "send_bytes: offset %d passes the end of %d bytes", offset, n)
	case !sized:
		size = n - offset
	case size < 0:
		return nil, errorf("ValueError", "send_bytes: size %d is negative", size)
	case offset+size > n:
		return nil, errorf("ValueError", "send_bytes: offset %d + size %d passes the end of %d bytes", offset, size, n)
	}
	return b[offset : offset+size], nil
}

func echoMany(c *Call) (any, error) {
	n, _ := c.int("n")
	conn := c.On.Conn
	for range n {
		b, err := conn.RecvBytes(context.Background())
		if err != nil {
			return nil, err
		}
		if err := conn.SendBytes(context.Background(), b); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func roundtripMany(c *Call) (any, error) {
	n, _ := c.int("n")
	conn := c.On.Conn
	item := bulkItems(c)
	for k := range n {
		msg := item(k)
		if err := conn.SendBytes(context.Background(), msg); err != nil {
			return nil, err
		}
		b, err := conn.RecvBytes(context.Background())
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(b, msg) {
			return nil, errorf("Error", "round trip %d: sent %d bytes, got back %d different ones", k, len(msg), len(b))
		}
	}
	return n, nil
}
