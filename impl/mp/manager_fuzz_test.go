package mp

import (
	"encoding/binary"
	"testing"
)

// FuzzManagerFrame feeds arbitrary request frames to a manager server's
// handler, with a dict, a list, a namespace, a value and a lock to act on:
// a malformed frame must be refused (closing its connection), never crash
// the server. Values that the server accepts are then decoded as a client
// would, which must not fail either.
func FuzzManagerFrame(f *testing.F) {
	seeds := [][]byte{
		{opSet, 1, tagInt, 12, tagStr, 1, 'x'},
		{opGet, 1, tagFloat, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f, 0},
		{opGet, 1, tagNil, 1, tagTrue},
		{opUpdate, 1, tagDict, 2, tagStr, 1, '2', tagInt, 4, tagBytes, 0, tagList, 1, tagRef, 'l', 2},
		{opCopy, 1},
		{opAppend, 2, tagDict, 1, tagNil, tagFalse},
		{opExtend, 2, tagList, 2, tagInt, 2, tagStr, 0},
		{opInsert, 2, 0x7f, tagNil},
		{opListPop, 2, 1},
		{opRemove, 2, tagInt, 2},
		{opSet, 3, tagStr, 1, 'a', tagNil},
		{opValueSet, 4, tagFloat, 1, 2, 3, 4, 5, 6, 7, 8},
		{opAcquire, 5, 0},
		{opRelease, 5},
		{opCreate, 0, kindList, tagList, 1, tagList, 1, tagList, 0},
		{opCreate, 0, kindValue, tagStr, 1, 'i', tagInt, 2},
		{opExpose, 1, tagStr, 1, 'd'},
		{opLookup, 0, tagStr, 1, 'd'},
		{opSet, 1, tagList, 0xff, 0xff, 0xff, 0xff, 0x0f},
		{opSet, 1, tagStr, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		s := newServer(managerConfig{maxFrame: DefaultMaxFrame}, "fuzz")
		c := newSocketConn(-1)
		for _, init := range [][]byte{
			{opCreate, 0, kindDict, tagNil},
			{opCreate, 0, kindList, tagList, 1, tagInt, 2},
			{opCreate, 0, kindNamespace, tagNil},
			{opCreate, 0, kindValue, tagStr, 1, 'i', tagInt, 0},
			{opCreate, 0, kindLock},
		} {
			if _, ok, _ := s.handle(c, init); !ok {
				t.Fatalf("setting up: %q refused", init)
			}
		}
		out, ok, _ := s.handle(c, req)
		if !ok {
			return
		}
		// The reply, and every object's state, must read back as a client
		// reads it.
		cl := &managerClient{token: "fuzz"}
		if err := cl.reply(out[4:], func(d *decoder) error { _, err := d.value(0); return err }); err != nil && out[4] == 0 {
			t.Fatalf("reply %q to %q does not decode: %v", out[4:], req, err)
		}
		for id := uint64(1); id <= 4; id++ {
			op := byte(opCopy)
			if id == 4 {
				op = opValueGet
			}
			out, ok, _ := s.handle(c, binary.AppendUvarint([]byte{op}, id))
			if !ok {
				t.Fatalf("reading object %d back after %q was refused", id, req)
			}
			if err := cl.reply(out[4:], func(d *decoder) error { _, err := d.value(0); return err }); err != nil {
				t.Fatalf("object %d after %q does not decode: %v", id, req, err)
			}
		}
	})
}
