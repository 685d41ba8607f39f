package mp

import (
	"encoding/binary"
	"slices"
	"sync"
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
	served   servedObject  // an object served by method name (opCall)
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
