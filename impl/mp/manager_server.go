package mp

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Ops of the manager's wire protocol (see manager_wire.go).
const (
	opCreate     = 'c' // kind byte, init value (typecode string for a value first) -> ref
	opExpose     = 'x' // name string -> nil
	opLookup     = 'L' // name string -> ref
	opName       = 'n' // -> the name the object was exposed under, or nil
	opShutdown   = 'S' // -> nil, then the server exits
	opToken      = 't' // -> the server's token (string)
	opSet        = 's' // key, value
	opGet        = 'g' // key, has-default byte, default
	opDel        = 'D' // key
	opPop        = 'p' // key, has-default byte, default
	opSetDefault = 'e' // key, value -> the value now stored
	opUpdate     = 'u' // dict value
	opLen        = 'l' // -> int
	opContains   = 'h' // key -> bool
	opCopy       = 'C' // -> dict or list
	opClear      = 'z'
	opAppend     = 'a' // value
	opExtend     = 'E' // list value
	opIndexGet   = 'G' // index varint -> item
	opIndexSet   = 'I' // index varint, value
	opListPop    = 'P' // index varint -> item
	opInsert     = 'i' // index varint, value
	opRemove     = 'r' // value
	opReverse    = 'R'
	opValueGet   = 'v'
	opValueSet   = 'V' // value
	opAcquire    = 'A' // timeout in ns (varint; < 0 forever) -> bool
	opRelease    = 'Z'
)

// Object kinds.
const (
	kindDict      = 'd'
	kindList      = 'l'
	kindNamespace = 'n'
	kindValue     = 'v'
	kindLock      = 'k'
)

// Error kinds of a reply.
const (
	errKindKey      = 'K'
	errKindIndex    = 'I'
	errKindValue    = 'V'
	errKindNotAllow = 'N'
	errKindOther    = 'E'
)

// A managedObject is an object that the server owns. Each op on it holds its
// mutex: ops are atomic, as CPython's server runs each method under the
// object's owner thread (a read-modify-write by a client is not).
type managedObject struct {
	mu       sync.Mutex
	kind     byte
	dict     *orderedDict
	list     [][]byte
	val      []byte
	typecode string
	lock     chan struct{} // a Lock: holds a token while locked
	name     string        // exposed under this name, if any

	stale *managedObject // ManagerStaleReads: the state before the latest write
}

// orderedDict is a dict in insertion order, as Python's: entries in order (nil
// once deleted) and an index by key identity. A key keeps the form it was
// first stored with (d[1] then d[1.0] leaves the key 1).
type orderedDict struct {
	entries []*dictEntry
	index   map[keyID]int
	dead    int
}

type dictEntry struct{ key, val []byte }

func newOrderedDict() *orderedDict { return &orderedDict{index: map[keyID]int{}} }

func (d *orderedDict) get(id keyID) *dictEntry {
	if i, ok := d.index[id]; ok {
		return d.entries[i]
	}
	return nil
}

func (d *orderedDict) set(id keyID, key, val []byte) {
	if e := d.get(id); e != nil {
		e.val = val
		return
	}
	d.index[id] = len(d.entries)
	d.entries = append(d.entries, &dictEntry{key, val})
}

func (d *orderedDict) del(id keyID) *dictEntry {
	i, ok := d.index[id]
	if !ok {
		return nil
	}
	e := d.entries[i]
	delete(d.index, id)
	d.entries[i] = nil
	if d.dead++; d.dead > 16 && d.dead > len(d.entries)/2 {
		live := d.entries[:0]
		for _, e := range d.entries {
			if e != nil {
				live = append(live, e)
			}
		}
		clear(d.entries[len(live):])
		d.entries, d.dead = live, 0
		for i, e := range d.entries {
			id, _ := keyOf(e.key)
			d.index[id] = i
		}
	}
	return e
}

func (d *orderedDict) clone() *orderedDict {
	c := &orderedDict{index: make(map[keyID]int, len(d.index))}
	for _, e := range d.entries {
		if e != nil {
			id, _ := keyOf(e.key)
			c.index[id] = len(c.entries)
			c.entries = append(c.entries, &dictEntry{e.key, e.val})
		}
	}
	return c
}

func (o *managedObject) snapshot() *managedObject {
	c := &managedObject{kind: o.kind, val: o.val, typecode: o.typecode, list: slices.Clone(o.list)}
	if o.dict != nil {
		c.dict = o.dict.clone()
	}
	return c
}

// A server is a manager's server process: it owns the objects and serves
// connections, each with a goroutine doing blocking reads.
type server struct {
	mu    sync.Mutex
	objs  map[uint64]*managedObject
	names map[string]*managedObject
	ids   map[*managedObject]uint64
	next  uint64

	cfg      managerConfig
	token    string
	inflight atomic.Int32  // requests read and not yet answered
	seq      atomic.Uint64 // requests read so far
	done     chan struct{}
	stopOnce sync.Once
	path     string // a unix socket file to remove at shutdown

	// The sockets to shut down with the server: listener, connector and
	// every connection (with its link, for a local one), so that a client
	// that asks for the shutdown finds, once answered, that every other
	// client is cut off too.
	sockets map[int]*linkConn
}

func newServer(cfg managerConfig, token string) *server {
	return &server{objs: map[uint64]*managedObject{}, names: map[string]*managedObject{}, ids: map[*managedObject]uint64{},
		cfg: cfg, token: token, done: make(chan struct{}), sockets: map[int]*linkConn{}}
}

func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.path != "" {
			os.Remove(s.path)
		}
		close(s.done)
	})
}

// track adds a socket (and its link, if not nil) to shut down with the
// server; it reports false once the server is shutting down.
func (s *server) track(fd int, l *linkConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sockets == nil {
		return false
	}
	s.sockets[fd] = l
	return true
}

func (s *server) untrack(fd int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sockets, fd)
}

// cutOff shuts down every socket but keep: later requests meet their end,
// and new connections are refused. Shutdown, not close, so that no
// descriptor number is reused while another goroutine still uses it; and
// under the lock, which a connection's untrack takes before it closes, so
// that no link is unmapped while it is cut.
func (s *server) cutOff(keep int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sockets := s.sockets
	s.sockets = nil
	if s.path != "" {
		os.Remove(s.path)
	}
	for fd, l := range sockets {
		if fd != keep {
			if l != nil {
				l.cut()
			}
			unix.Shutdown(fd, unix.SHUT_RDWR)
		}
	}
}

// serveConn answers one connection's requests until it closes, sends a
// frame that is too large or malformed (which closes it, and only it), or
// the server shuts down.
func (s *server) serveConn(c *managerConn) {
	defer c.close()
	if !s.track(c.fd, c.l) {
		return
	}
	defer s.untrack(c.fd)
	for {
		req, err := c.readFrame(s.cfg.maxFrame)
		if err != nil {
			return
		}
		s.inflight.Add(1)
		s.seq.Add(1)
		out, ok, shutdown := s.handle(c, req)
		s.inflight.Add(-1)
		if !ok {
			return
		}
		if shutdown {
			s.cutOff(c.fd)
			c.writeFrame(out)
			s.stop()
			return
		}
		err = c.writeFrame(out)
		if err != nil {
			return
		}
	}
}

// reply builders.
func okReply(c *managerConn) []byte { return append(c.startFrame(), 0) }

func errReply(c *managerConn, kind byte, format string, args ...any) []byte {
	msg := fmt.Sprintf(format, args...)
	b := append(c.startFrame(), 1, kind)
	b = binary.AppendUvarint(b, uint64(len(msg)))
	return append(b, msg...)
}

func nilReply(c *managerConn) []byte { return append(okReply(c), tagNil) }

func boolReply(c *managerConn, v bool) []byte {
	if v {
		return append(okReply(c), tagTrue)
	}
	return append(okReply(c), tagFalse)
}

func intReply(c *managerConn, i int) []byte {
	return binary.AppendVarint(append(okReply(c), tagInt), int64(i))
}

func refReply(c *managerConn, kind byte, id uint64) []byte {
	return binary.AppendUvarint(append(okReply(c), tagRef, kind), id)
}

func (s *server) object(id uint64) *managedObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objs[id]
}

func (s *server) add(o *managedObject) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.objs[s.next] = o
	s.ids[o] = s.next
	return s.next
}

// handle runs one request and returns its reply frame; ok is false for a
// malformed request.
func (s *server) handle(c *managerConn, req []byte) (out []byte, ok, shutdown bool) {
	if len(req) == 0 {
		return nil, false, false
	}
	op := req[0]
	a := &wireReader{b: req[1:], malformed: errMalformed}
	id := a.uvarint()
	if a.err != nil {
		return nil, false, false
	}
	switch op {
	case opShutdown:
		return nilReply(c), a.end(), true
	case opToken:
		t := append(binary.AppendUvarint(append(okReply(c), tagStr), uint64(len(s.token))), s.token...)
		return t, a.end(), false
	case opCreate:
		return s.create(c, a)
	case opLookup:
		name := a.str()
		if !a.end() {
			return nil, false, false
		}
		s.mu.Lock()
		o := s.names[name]
		oid := s.ids[o]
		s.mu.Unlock()
		if o == nil {
			return errReply(c, errKindKey, "no object is exposed as %q", name), true, false
		}
		return refReply(c, o.kind, oid), true, false
	}
	o := s.object(id)
	if o == nil {
		// Not malformed: a proxy may outlive nothing here, but say so.
		a.b = nil
		return errReply(c, errKindOther, "no object %d on this manager", id), true, false
	}
	switch op {
	case opExpose:
		name := a.str()
		if !a.end() {
			return nil, false, false
		}
		s.mu.Lock()
		s.names[name] = o
		o.name = name
		s.mu.Unlock()
		return nilReply(c), true, false
	case opName:
		s.mu.Lock()
		name := o.name
		s.mu.Unlock()
		if name == "" {
			return nilReply(c), a.end(), false
		}
		b := append(binary.AppendUvarint(append(okReply(c), tagStr), uint64(len(name))), name...)
		return b, a.end(), false
	case opAcquire:
		timeout := a.varint()
		if !a.end() || o.kind != kindLock {
			return nil, false, false
		}
		return boolReply(c, s.acquire(o, timeout)), true, false
	case opRelease:
		if !a.end() || o.kind != kindLock {
			return nil, false, false
		}
		select {
		case <-o.lock:
			return nilReply(c), true, false
		default:
			return errReply(c, errKindValue, "release unlocked lock"), true, false
		}
	}
	if o.kind == kindLock {
		return nil, false, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out, ok = s.objectOp(c, o, op, a)
	return out, ok, false
}

func (s *server) acquire(o *managedObject, timeout int64) bool {
	switch {
	case timeout == 0:
		select {
		case o.lock <- struct{}{}:
			return true
		default:
			return false
		}
	case timeout < 0:
		select {
		case o.lock <- struct{}{}:
			return true
		case <-s.done:
			return false
		}
	}
	t := time.NewTimer(time.Duration(timeout))
	defer t.Stop()
	select {
	case o.lock <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-s.done:
		return false
	}
}

func (s *server) create(c *managerConn, a *wireReader) ([]byte, bool, bool) {
	o := &managedObject{kind: a.u8()}
	switch o.kind {
	case kindDict, kindNamespace:
		o.dict = newOrderedDict()
		init := a.rawValue(0)
		if !a.end() {
			return nil, false, false
		}
		if init[0] != tagNil {
			if msg := o.update(init); msg != "" {
				return errReply(c, errKindValue, "%s", msg), true, false
			}
		}
	case kindList:
		init := a.rawValue(0)
		if !a.end() {
			return nil, false, false
		}
		if init[0] == tagList {
			o.list = splitList(init)
		} else if init[0] != tagNil {
			return errReply(c, errKindValue, "a list's initial value must be a list"), true, false
		}
	case kindValue:
		o.typecode = a.str()
		o.val = slices.Clone(a.rawValue(0))
		if !a.end() {
			return nil, false, false
		}
	case kindLock:
		o.lock = make(chan struct{}, 1)
		if !a.end() {
			return nil, false, false
		}
	default:
		return nil, false, false
	}
	return refReply(c, o.kind, s.add(o)), true, false
}

// splitList returns the encoded items of an encoded list, copied.
func splitList(b []byte) [][]byte {
	count, n := binary.Uvarint(b[1:])
	b = b[1+n:]
	items := make([][]byte, 0, count)
	for range count {
		m, _ := scanValue(b, 0)
		items = append(items, slices.Clone(b[:m]))
		b = b[m:]
	}
	return items
}

// update adds the items of an encoded dict; it returns a message for a
// value that is no dict or an unhashable key.
func (o *managedObject) update(b []byte) string {
	if b[0] != tagDict {
		return "update wants a dict"
	}
	count, n := binary.Uvarint(b[1:])
	b = b[1+n:]
	for range count {
		m, _ := scanValue(b, 0)
		k := b[:m]
		b = b[m:]
		m, _ = scanValue(b, 0)
		v := b[:m]
		b = b[m:]
		id, err := keyOf(k)
		if err != nil {
			return "unhashable key (a list or dict)"
		}
		o.dict.set(id, slices.Clone(k), slices.Clone(v))
	}
	return ""
}

// writes lists the ops that change an object, for the harness's mutants.
var writes = map[byte]bool{opSet: true, opDel: true, opPop: true, opSetDefault: true, opUpdate: true,
	opClear: true, opAppend: true, opExtend: true, opIndexSet: true, opListPop: true, opInsert: true,
	opRemove: true, opReverse: true, opValueSet: true}

// objectOp runs a dict, namespace, list or value op on o, locked.
func (s *server) objectOp(c *managerConn, o *managedObject, op byte, a *wireReader) ([]byte, bool) {
	view := o // what reads see
	if writes[op] {
		if s.cfg.dropConcurrent && s.concurrent() {
			// ManagerDropConcurrentWrites: acknowledge, change nothing.
			return nilReply(c), true
		}
		if s.cfg.staleReads {
			o.stale = o.snapshot()
		}
	} else if s.cfg.staleReads && o.stale != nil {
		view = o.stale
	}
	isDict := o.kind == kindDict || o.kind == kindNamespace
	missing := func(k []byte) []byte {
		if o.kind == kindNamespace {
			return errReply(c, errKindKey, "'Namespace' object has no attribute %s", showKey(k))
		}
		return errReply(c, errKindKey, "%s", showKey(k))
	}
	switch {
	case isDict && op == opSet:
		k, v := a.rawValue(0), a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		if e := o.dict.get(id); e != nil {
			e.val = append(e.val[:0:0], v...)
		} else {
			o.dict.set(id, slices.Clone(k), slices.Clone(v))
		}
		return nilReply(c), true
	case isDict && (op == opGet || op == opPop):
		k := a.rawValue(0)
		hasDefault := a.u8()
		var def []byte
		if hasDefault != 0 {
			def = a.rawValue(0)
		}
		if !a.end() {
			return nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		var e *dictEntry
		if op == opGet {
			e = view.dict.get(id)
		} else {
			e = o.dict.del(id)
		}
		switch {
		case e != nil:
			return append(okReply(c), e.val...), true
		case hasDefault != 0:
			return append(okReply(c), def...), true
		}
		return missing(k), true
	case isDict && op == opDel:
		k := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		if o.dict.del(id) == nil {
			return missing(k), true
		}
		return nilReply(c), true
	case isDict && op == opSetDefault:
		k, v := a.rawValue(0), a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		e := o.dict.get(id)
		if e == nil {
			o.dict.set(id, slices.Clone(k), slices.Clone(v))
			e = o.dict.get(id)
		}
		return append(okReply(c), e.val...), true
	case isDict && op == opUpdate:
		v := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		if msg := o.update(v); msg != "" {
			return errReply(c, errKindValue, "%s", msg), true
		}
		return nilReply(c), true
	case isDict && op == opContains:
		k := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		return boolReply(c, view.dict.get(id) != nil), true
	case isDict && op == opLen:
		return intReply(c, len(view.dict.index)), a.end()
	case isDict && op == opCopy:
		b := binary.AppendUvarint(append(okReply(c), tagDict), uint64(len(view.dict.index)))
		for _, e := range view.dict.entries {
			if e != nil {
				b = append(append(b, e.key...), e.val...)
			}
		}
		return b, a.end()
	case isDict && op == opClear:
		o.dict = newOrderedDict()
		return nilReply(c), a.end()

	case o.kind == kindList:
		return s.listOp(c, o, view, op, a)

	case o.kind == kindValue && op == opValueGet:
		return append(okReply(c), view.val...), a.end()
	case o.kind == kindValue && op == opValueSet:
		v := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		o.val = slices.Clone(v)
		return nilReply(c), true
	}
	return nil, false
}

// concurrent reports, for ManagerDropConcurrentWrites, whether another
// request is pending or arrives within a short window.
func (s *server) concurrent() bool {
	seq := s.seq.Load()
	if s.inflight.Load() > 1 {
		return true
	}
	time.Sleep(2 * time.Millisecond)
	return s.inflight.Load() > 1 || s.seq.Load() != seq
}

// index resolves a Python index (negative from the end) into [0, n).
func index(i int64, n int) (int, bool) {
	if i < 0 {
		i += int64(n)
	}
	return int(i), i >= 0 && i < int64(n)
}

func (s *server) listOp(c *managerConn, o, view *managedObject, op byte, a *wireReader) ([]byte, bool) {
	switch op {
	case opAppend:
		v := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		o.list = append(o.list, slices.Clone(v))
		return nilReply(c), true
	case opExtend:
		v := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		if v[0] != tagList {
			return errReply(c, errKindValue, "extend wants a list"), true
		}
		o.list = append(o.list, splitList(v)...)
		return nilReply(c), true
	case opIndexGet:
		i := a.varint()
		if !a.end() {
			return nil, false
		}
		j, ok := index(i, len(view.list))
		if !ok {
			return errReply(c, errKindIndex, "list index out of range"), true
		}
		return append(okReply(c), view.list[j]...), true
	case opIndexSet:
		i, v := a.varint(), a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		j, ok := index(i, len(o.list))
		if !ok {
			return errReply(c, errKindIndex, "list assignment index out of range"), true
		}
		o.list[j] = slices.Clone(v)
		return nilReply(c), true
	case opListPop:
		i := a.varint()
		if !a.end() {
			return nil, false
		}
		if len(o.list) == 0 {
			return errReply(c, errKindIndex, "pop from empty list"), true
		}
		j, ok := index(i, len(o.list))
		if !ok {
			return errReply(c, errKindIndex, "pop index out of range"), true
		}
		v := o.list[j]
		o.list = slices.Delete(o.list, j, j+1)
		return append(okReply(c), v...), true
	case opInsert:
		i, v := a.varint(), a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		n := int64(len(o.list))
		if i < 0 {
			i = max(i+n, 0)
		}
		o.list = slices.Insert(o.list, int(min(i, n)), slices.Clone(v))
		return nilReply(c), true
	case opRemove:
		v := a.rawValue(0)
		if !a.end() {
			return nil, false
		}
		for j, item := range o.list {
			if equalValues(item, v) {
				o.list = slices.Delete(o.list, j, j+1)
				return nilReply(c), true
			}
		}
		return errReply(c, errKindValue, "list.remove(x): x not in list"), true
	case opReverse:
		slices.Reverse(o.list)
		return nilReply(c), a.end()
	case opLen:
		return intReply(c, len(view.list)), a.end()
	case opCopy:
		b := binary.AppendUvarint(append(okReply(c), tagList), uint64(len(view.list)))
		for _, item := range view.list {
			b = append(b, item...)
		}
		return b, a.end()
	case opClear:
		o.list = nil
		return nilReply(c), a.end()
	}
	return nil, false
}

// showKey writes an encoded key as Python's repr would, roughly, for a
// KeyError's message.
func showKey(k []byte) string {
	v, _ := (*mclient)(nil).decodeOne(k)
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case []byte:
		return fmt.Sprintf("b%q", v)
	}
	return fmt.Sprint(v)
}

// The handshake of a connection to a served manager, as CPython's
// multiprocessing.connection (3.12): the server challenges the client, then
// the client the server, each proving it knows the authkey with an HMAC of
// a random message. The digest is SHA-256, named in the message as CPython
// names it: the challenge is "#CHALLENGE#" then the message "{sha256}" and
// 40 random bytes; the answer is "{sha256}" then the HMAC of the message.
var (
	challengePrefix = []byte("#CHALLENGE#")
	digestName      = []byte("{sha256}")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

// handshakeMax is the largest handshake message (CPython's recv_bytes(256)).
const handshakeMax = 256

func digest(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return append(slices.Clone(digestName), h.Sum(nil)...)
}

// deliverChallenge sends a challenge and checks the answer; skip accepts
// any answer (ManagerSkipAuth).
func deliverChallenge(c *managerConn, key []byte, skip bool) error {
	msg := make([]byte, len(digestName)+40)
	copy(msg, digestName)
	rand.Read(msg[len(digestName):])
	if err := c.writeFrame(append(append(c.startFrame(), challengePrefix...), msg...)); err != nil {
		return err
	}
	resp, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !skip && !hmac.Equal(resp, digest(key, msg)) {
		c.writeFrame(append(c.startFrame(), failure...))
		return fmt.Errorf("%w: digest received was wrong", ErrAuth)
	}
	return c.writeFrame(append(c.startFrame(), welcome...))
}

// answerChallenge answers a challenge and reads the verdict.
func answerChallenge(c *managerConn, key []byte) error {
	msg, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challengePrefix) || !bytes.HasPrefix(msg[len(challengePrefix):], digestName) {
		return fmt.Errorf("%w: not a challenge (or not one with a sha256 digest)", ErrAuth)
	}
	if err := c.writeFrame(append(c.startFrame(), digest(key, msg[len(challengePrefix):])...)); err != nil {
		return err
	}
	verdict, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !bytes.Equal(verdict, welcome) {
		return fmt.Errorf("%w: digest sent was rejected", ErrAuth)
	}
	return nil
}

// acceptLoop accepts connections on a listening socket, authenticates them
// and serves them.
func (s *server) acceptLoop(lfd int) {
	if !s.track(lfd, nil) {
		return
	}
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return
		}
		go func() {
			c := newSocketConn(fd)
			// A client that never answers must not hold a goroutine forever.
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10})
			if err := deliverChallenge(c, s.cfg.authkey, s.cfg.skipAuth); err != nil {
				c.close()
				return
			}
			if err := answerChallenge(c, s.cfg.authkey); err != nil && !s.cfg.skipAuth {
				c.close()
				return
			}
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{})
			s.serveConn(c)
		}()
	}
}

// connectorLoop receives the connections of local clients: each is one end
// of a socketpair and the memfd of its link, sent with SCM_RIGHTS over the
// connector.
func (s *server) connectorLoop(fd int) {
	if !s.track(fd, nil) {
		return
	}
	buf := make([]byte, 16)
	oob := make([]byte, unix.CmsgSpace(4*8))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			return // every local client's connector is closed
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			if len(fds) != 2 {
				// Not a client's: a socket and its link.
				for _, fd := range fds {
					unix.Close(fd)
				}
				continue
			}
			go s.serveLink(fds[0], fds[1])
		}
	}
}

// serveLink serves a local client's connection: its socket, and the
// memfd of its link.
func (s *server) serveLink(sock, mem int) {
	seg, err := mapSegment(os.NewFile(uintptr(mem), "mp-manager"), -1)
	if err != nil {
		unix.Close(sock)
		return
	}
	lk := &link{}
	lk.attach(seg)
	if lk.ringSize() <= 0 || lk.ringSize()%4096 != 0 {
		unix.Close(sock)
		lk.close()
		return
	}
	c, err := newLocalConn(lk, sock, true, s.cfg.maxFrame)
	if err != nil {
		return
	}
	s.serveConn(c)
}
