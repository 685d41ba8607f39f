package mp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What the server does for each op on an object.

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
	case kindQueue, kindEvent, kindSemaphore, kindBarrier, kindArray, kindRegistered, kindRLock, kindCondition:
		var err error
		if o.served, err = s.newServed(o.kind, a); err == nil && !a.end() {
			return nil, false, false
		}
		if errors.Is(err, errMalformed) {
			return nil, false, false
		} else if err != nil {
			return callError(c, err), true, false
		}
	default:
		return nil, false, false
	}
	return refReply(c, o.kind, s.add(o)), true, false
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
	// keyed checks, for an op on key k, that the request ends there and
	// that k is hashable: it returns the reply to send at once, if any,
	// and ok false for a malformed request.
	keyed := func(k []byte) (id keyID, reply []byte, ok bool) {
		if !a.end() {
			return id, nil, false
		}
		id, err := keyOf(k)
		if err != nil {
			return id, errReply(c, errKindValue, "unhashable key (a list or dict)"), true
		}
		return id, nil, true
	}
	switch {
	case isDict && op == opSet:
		k, v := a.rawValue(0), a.rawValue(0)
		id, reply, ok := keyed(k)
		if reply != nil || !ok {
			return reply, ok
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
		id, reply, ok := keyed(k)
		if reply != nil || !ok {
			return reply, ok
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
		id, reply, ok := keyed(k)
		if reply != nil || !ok {
			return reply, ok
		}
		if o.dict.del(id) == nil {
			return missing(k), true
		}
		return nilReply(c), true
	case isDict && op == opSetDefault:
		k, v := a.rawValue(0), a.rawValue(0)
		id, reply, ok := keyed(k)
		if reply != nil || !ok {
			return reply, ok
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
		id, reply, ok := keyed(k)
		if reply != nil || !ok {
			return reply, ok
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
	v, _ := (*managerClient)(nil).decodeOne(k)
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
