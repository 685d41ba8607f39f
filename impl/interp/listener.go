package interp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mpconform/mpconform/impl/mp"
)

// A listenerRes is a listener resource (protocol.md §5): the mp.Listener in
// main, which made it; only its address in a child it is passed to, which
// connects to it with connection.client.
type listenerRes struct {
	Network string `json:"network"`
	Address string `json:"address"`
	l       *mp.Listener
}

// newListener makes a listener resource. "unix" is an abstract name here,
// as "abstract": a socket path would be left behind by a process killed.
// "pipe", a Windows named pipe, is mp's network "pipe", which it refuses
// (ErrValue): the resource is refused (§5).
//
// With AddressOf, it listens on the address of that listener, declared
// before it: mp refuses the address in use (ErrAddrInUse), and so the
// resource (§5).
func newListener(spec ResourceSpec, made map[string]*Resource) (*listenerRes, error) {
	network, address := "unix", ""
	if spec.Family == "tcp" || spec.Family == "pipe" {
		network = spec.Family
	}
	if o := made[spec.AddressOf]; spec.AddressOf != "" {
		if o == nil || o.Listener == nil {
			return nil, fmt.Errorf("listener.address_of: %q is no listener made before", spec.AddressOf)
		}
		network, address = o.Listener.Network, o.Listener.Address
	}
	var opts []mp.ConnOption
	if spec.AuthKey != nil {
		opts = append(opts, mp.ConnAuthKey([]byte(*spec.AuthKey)))
	}
	l, err := mp.Listen(network, address, opts...)
	if err != nil {
		return nil, err
	}
	return &listenerRes{Network: network, Address: l.Addr(), l: l}, nil
}

// setListener validates field k of a listener resource and sets it in spec.
func (spec *ResourceSpec) setListener(where, k string, raw any, types map[string]string) error {
	s, ok := raw.(string)
	switch {
	case k == "family" && ok && slices.Contains([]string{"unix", "abstract", "tcp", "pipe"}, s):
		spec.Family = s
	case k == "authkey" && ok:
		spec.AuthKey = &s
	case k == "address_of" && ok && types[s] == "listener":
		spec.AddressOf = s
	case k == "address_of":
		return errorAt(where, "listener.address_of: want the name of a listener declared before it, got %s", describe(raw))
	case k == "family":
		return errorAt(where, `listener.family: want "unix", "abstract", "tcp" or "pipe", got %s`, describe(raw))
	default:
		return errorAt(where, "listener.%s: want a string, got %s", k, describe(raw))
	}
	return nil
}

// bindsConnection lists the ops that bind "as" to a connection.
var bindsConnection = map[string]bool{"listener.accept": true, "connection.client": true}

// listenerOps are the connection feature's ops (protocol.md §6 pipe,
// connection): a connection they bind is a pipe_end resource, on which the
// pipe ops act.
func listenerOps() map[string]Op {
	ops := map[string]Op{}
	listener := []string{"listener"}
	as := Field{Name, true}
	ops["listener.accept"] = Op{Fields: on(map[string]Field{"as": as}), Blocks: true, On: listener,
		Run: func(c *Call) (any, error) {
			l, err := c.listener()
			if err != nil {
				return nil, err
			}
			conn, err := l.Accept(context.Background())
			return c.bindConn(conn, err)
		}}
	ops["listener.address"] = Op{Fields: on(nil), On: listener, Run: func(c *Call) (any, error) {
		l := c.On.Listener
		return addressValue(l.Network, l.Address), nil
	}}
	ops["listener.last_accepted"] = Op{Fields: on(nil), On: listener, Run: func(c *Call) (any, error) {
		l, err := c.listener()
		if err != nil {
			return nil, err
		}
		return addressValue(l.Network(), l.LastAccepted()), nil
	}}
	ops["listener.close"] = Op{Fields: on(nil), On: listener, Run: func(c *Call) (any, error) {
		l, err := c.listener()
		if err != nil {
			return nil, err
		}
		return nil, l.Close()
	}}
	ops["listener.with"] = Op{Fields: on(map[string]Field{"body": {Steps, true}}), Silent: true, On: listener,
		Run: func(c *Call) (any, error) {
			l, err := c.listener()
			if err != nil {
				c.r.fail(*c, err) // a silent op records only its failure
				return nil, nil
			}
			defer l.Close() // as Listener.__exit__, whatever ends the body
			c.r.steps(c.s.body, c.env)
			return nil, nil
		}}
	ops["connection.client"] = Op{Fields: on(map[string]Field{"as": as, "authkey": {String, false}}), Blocks: true,
		On: listener, Run: func(c *Call) (any, error) {
			var opts []mp.ConnOption
			if k, ok := c.In["authkey"].(string); ok {
				opts = append(opts, mp.ConnAuthKey([]byte(k)))
			}
			l := c.On.Listener
			return c.bindConn(mp.Dial(context.Background(), l.Network, l.Address, opts...))
		}}
	ops["connection.wait"] = Op{Fields: map[string]Field{"conns": {List, false}, "procs": {List, false},
		"timeout": {Number, false}}, Blocks: true, Run: waitOp}
	ops["recv_bytes_into"] = Op{Fields: on(map[string]Field{"size": {Int, true}, "offset": {Int, false}}),
		Blocks: true, On: []string{"pipe_end"}, Run: recvBytesInto}
	return ops
}

// listener returns the mp.Listener of the resource on, which only the
// process that made it holds.
func (c *Call) listener() (*mp.Listener, error) {
	if l := c.On.Listener.l; l != nil {
		return l, nil
	}
	return nil, errorf("Error", "listener %s is only an address here: only main, which made it, accepts", c.On.Name)
}

// bindConn binds the step's "as" to conn, a pipe end of this process.
func (c *Call) bindConn(conn *mp.Conn, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	as := c.In["as"].(string)
	c.r.resources[as] = &Resource{Name: as, Type: "pipe_end", Conn: conn}
	return nil, nil
}

// addressValue is an address as the trace records it (protocol.md §6):
// [host, port] for tcp; for unix a string, an abstract name starting with
// NUL (mp writes it with "@").
func addressValue(network, address string) any {
	if network == "tcp" {
		i := strings.LastIndexByte(address, ':')
		if i < 0 {
			return address
		}
		port, _ := strconv.ParseInt(address[i+1:], 10, 64)
		return []any{address[:i], port}
	}
	if strings.HasPrefix(address, "@") {
		return "\x00" + address[1:]
	}
	return address
}

// waitOp is connection.wait: mp.Wait over the connections that conns
// names and the processes of the handles that procs names.
func waitOp(c *Call) (any, error) {
	var objs []mp.Waitable
	var names []string
	conns, _ := c.In["conns"].([]any)
	for _, x := range conns {
		name, ok := x.(string)
		if !ok {
			return nil, errorf("Error", "connection.wait: conns holds %s, not a name", appendValue(nil, x, true))
		}
		r := c.r.resources[name]
		if r == nil {
			return nil, c.r.notHeld(name)
		}
		if r.Conn == nil {
			return nil, errorf("Error", "connection.wait: %s is no connection", name)
		}
		objs, names = append(objs, r.Conn), append(names, name)
	}
	procs, _ := c.In["procs"].([]any)
	for _, x := range procs {
		name, ok := x.(string)
		group := c.r.groups[name]
		if !ok || len(group) == 0 {
			return nil, errorf("Error", "connection.wait: no process bound to %s", appendValue(nil, x, true))
		}
		for _, p := range group {
			objs, names = append(objs, p), append(names, name)
		}
	}
	ctx, cancel := c.timeoutContext()
	defer cancel()
	ready, err := mp.Wait(ctx, objs...)
	if errors.Is(err, context.DeadlineExceeded) {
		return []any{}, nil
	}
	if err != nil {
		return nil, err
	}
	var got []string
	for _, w := range ready {
		name := names[slices.Index(objs, w)]
		if !slices.Contains(got, name) {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	value := []any{}
	for _, n := range got {
		value = append(value, n)
	}
	return value, nil
}

// recvBytesInto is recv_bytes_into: a message into a new buffer of size
// zero bytes, at offset.
func recvBytesInto(c *Call) (any, error) {
	size, _ := c.int("size")
	offset, _ := c.int("offset")
	if offset > size {
		return nil, errorf("ValueError", "offset %d is past the buffer's %d bytes", offset, size)
	}
	buf := make([]byte, size)
	room := buf[offset:]
	b, err := c.On.Conn.RecvBytesInto(context.Background(), room)
	if err != nil {
		return nil, err
	}
	if len(b) > len(room) {
		// mp gave it new memory: CPython's BufferTooShort, whose args[0]
		// is the message.
		return nil, errorf("BufferTooShort", "%s", utf8Message(b))
	}
	return []any{int64(len(b)), Bytes(buf)}, nil
}

// utf8Message is a message as BufferTooShort's message says it.
func utf8Message(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
