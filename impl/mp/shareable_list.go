package mp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A ShareableList is a fixed-length list of items in a SharedMemory, as
// CPython's multiprocessing.shared_memory.ShareableList: every process
// that attaches by the segment's name reads and writes the same items. An
// item is an int64, a float64, a bool, a string, a []byte or nil; an item
// may be set to a value of another of these types, but a string or []byte
// has only the room its slot was made with: that of the item it replaced,
// or 8 bytes for a slot made for a number, a bool or nil.
//
// Its layout in the segment is mp's own, not CPython's (the two cannot read
// each other's lists): the item count (8 bytes), then per item its slot's
// offset, capacity, kind and length (16 bytes), then the slots. A string or
// []byte slot has room for its length rounded up past a multiple of 8, as
// in CPython, but counted in bytes (CPython counts a str's characters, so a
// longer UTF-8 encoding may not fit), and an item keeps its length, so
// trailing NULs survive (CPython strips them).
//
// Like CPython's, it has no lock: a process reading an item while another
// sets it may see a mix of both.
type ShareableList struct {
	shm *SharedMemory
	n   int
}

// The kinds of items, and the struct format letters Format shows for them
// (CPython's).
const (
	itemInt byte = iota + 1
	itemFloat
	itemBool
	itemString
	itemBytes
	itemNone
)

const (
	listHeader = 8
	slotHeader = 16
	slotAlign  = 8
)

// NewShareableList creates a segment holding items, under name or a fresh
// random name when name is "", as ShareableList(items, name=name). An item
// of another type than those the list holds fails with ErrValue.
func NewShareableList(name string, items []any) (*ShareableList, error) {
	caps := make([]int, len(items))
	size := listHeader + slotHeader*len(items)
	for i, it := range items {
		kind, raw, err := encodeItem(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		caps[i] = slotAlign
		if kind == itemString || kind == itemBytes {
			caps[i] = slotAlign * (len(raw)/slotAlign + 1)
		}
		size += caps[i]
	}
	m, err := CreateSharedMemory(name, size)
	if err != nil {
		return nil, err
	}
	l := &ShareableList{shm: m, n: len(items)}
	buf := m.Buf()
	binary.LittleEndian.PutUint64(buf, uint64(len(items)))
	off := listHeader + slotHeader*len(items)
	for i, c := range caps {
		h := buf[listHeader+slotHeader*i:]
		binary.LittleEndian.PutUint32(h, uint32(off))
		binary.LittleEndian.PutUint32(h[4:], uint32(c))
		off += c
	}
	for i, it := range items {
		if err := l.Set(i, it); err != nil {
			m.Close()
			m.Unlink()
			return nil, err
		}
	}
	return l, nil
}

// AttachShareableList attaches to the list in the segment called name, as
// ShareableList(name=name). A name that does not exist fails as
// AttachSharedMemory does; a segment that holds no list, with ErrValue.
func AttachShareableList(name string) (*ShareableList, error) {
	m, err := AttachSharedMemory(name)
	if err != nil {
		return nil, err
	}
	l, err := listIn(m)
	if err != nil {
		m.Close()
	}
	return l, err
}

// listIn checks the header of a list's segment.
func listIn(m *SharedMemory) (*ShareableList, error) {
	buf := m.Buf()
	n := binary.LittleEndian.Uint64(buf)
	if n > uint64(len(buf)-listHeader)/slotHeader {
		return nil, fmt.Errorf("%w: shared memory %q holds no list", ErrValue, m.Name())
	}
	for i := range int(n) {
		h := buf[listHeader+slotHeader*i:]
		off, c := binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[4:])
		if uint64(off)+uint64(c) > uint64(len(buf)) {
			return nil, fmt.Errorf("%w: shared memory %q holds no list", ErrValue, m.Name())
		}
	}
	return &ShareableList{shm: m, n: int(n)}, nil
}

// SharedMemory returns the list's segment (CPython's shm): its Close and
// Unlink are the list's.
func (l *ShareableList) SharedMemory() *SharedMemory { return l.shm }

// Len returns the number of items, which never changes.
func (l *ShareableList) Len() int { return l.n }

// slot returns item i's header and slot; a negative i counts from the end.
func (l *ShareableList) slot(i int) (hdr, data []byte, err error) {
	if i < 0 {
		i += l.n
	}
	if i < 0 || i >= l.n {
		return nil, nil, fmt.Errorf("%w: %d in a shareable list of %d", ErrIndex, i, l.n)
	}
	buf := l.shm.mem // the caller holds l.shm.mu
	if buf == nil {
		return nil, nil, fmt.Errorf("%w: shareable list %q", ErrClosed, l.shm.Name())
	}
	hdr = buf[listHeader+slotHeader*i : listHeader+slotHeader*(i+1)]
	off, c := binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint32(hdr[4:])
	return hdr, buf[off : off+c], nil
}

// Get returns item i: an int64, float64, bool, string, []byte (a copy) or
// nil. An index out of range fails with ErrIndex, a closed list with
// ErrClosed.
func (l *ShareableList) Get(i int) (any, error) {
	l.shm.mu.RLock()
	defer l.shm.mu.RUnlock()
	hdr, data, err := l.slot(i)
	if err != nil {
		return nil, err
	}
	n := min(int(binary.LittleEndian.Uint32(hdr[12:])), len(data))
	switch hdr[8] {
	case itemInt:
		return int64(binary.LittleEndian.Uint64(data)), nil
	case itemFloat:
		return math.Float64frombits(binary.LittleEndian.Uint64(data)), nil
	case itemBool:
		return data[0] != 0, nil
	case itemString:
		return string(data[:n]), nil
	case itemBytes:
		return bytes.Clone(data[:n]), nil
	}
	return nil, nil
}

// Set stores v as item i. A string or []byte longer than the slot fails
// with ErrValue and changes nothing, as do types a list does not hold.
func (l *ShareableList) Set(i int, v any) error {
	kind, raw, err := encodeItem(v)
	if err != nil {
		return err
	}
	l.shm.mu.RLock()
	defer l.shm.mu.RUnlock()
	hdr, data, err := l.slot(i)
	if err != nil {
		return err
	}
	if len(raw) > len(data) {
		return fmt.Errorf("%w: %d bytes in a slot of %d of a shareable list", ErrValue, len(raw), len(data))
	}
	copy(data, raw)
	hdr[8] = kind
	binary.LittleEndian.PutUint32(hdr[12:], uint32(len(raw)))
	return nil
}

// Items returns every item, in order.
func (l *ShareableList) Items() ([]any, error) {
	items := make([]any, l.n)
	for i := range items {
		v, err := l.Get(i)
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

// Count returns how many items equal v (see Index).
func (l *ShareableList) Count(v any) (int, error) {
	items, err := l.Items()
	n := 0
	for _, it := range items {
		if itemEqual(it, v) {
			n++
		}
	}
	return n, err
}

// Index returns the position of the first item equal to v: of the same
// type and value, except that ints, floats and bools compare as numbers, as
// in Python (1 == 1.0 == True). An absent value fails with ErrValue.
func (l *ShareableList) Index(v any) (int, error) {
	items, err := l.Items()
	if err != nil {
		return 0, err
	}
	for i, it := range items {
		if itemEqual(it, v) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: %v is not in the shareable list", ErrValue, v)
}

// Format returns the struct packing format of the stored items, as
// CPython's format: q for an int, d a float, xxxxxxx? a bool, xxxxxx?x
// None, and Ns for a string or bytes slot of N bytes.
func (l *ShareableList) Format() (string, error) {
	l.shm.mu.RLock()
	defer l.shm.mu.RUnlock()
	var b strings.Builder
	for i := range l.n {
		hdr, data, err := l.slot(i)
		if err != nil {
			return "", err
		}
		switch hdr[8] {
		case itemInt:
			b.WriteString("q")
		case itemFloat:
			b.WriteString("d")
		case itemBool:
			b.WriteString("xxxxxxx?")
		case itemString, itemBytes:
			b.WriteString(strconv.Itoa(len(data)) + "s")
		default:
			b.WriteString("xxxxxx?x")
		}
	}
	return b.String(), nil
}

// Close closes the list's segment in this process.
func (l *ShareableList) Close() error { return l.shm.Close() }

// Unlink removes the list's segment's name (see SharedMemory.Unlink).
func (l *ShareableList) Unlink() error { return l.shm.Unlink() }

// MarshalJSON encodes the list by its segment's name, as CPython pickles it.
func (l *ShareableList) MarshalJSON() ([]byte, error) {
	return json.Marshal(shmJSON{Type: "shareable_list", Name: l.shm.Name()})
}

// UnmarshalJSON attaches to the list the JSON names.
func (l *ShareableList) UnmarshalJSON(data []byte) error {
	var j shmJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Type != "shareable_list" {
		return fmt.Errorf("mp: decoding a shareable list from a %q", j.Type)
	}
	a, err := AttachShareableList(j.Name)
	if err != nil {
		return err
	}
	*l = *a
	return nil
}

// encodeItem returns v's kind and bytes in a slot.
func encodeItem(v any) (byte, []byte, error) {
	var b [8]byte
	switch v := v.(type) {
	case nil:
		return itemNone, nil, nil
	case int64:
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		return itemInt, b[:], nil
	case int:
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		return itemInt, b[:], nil
	case float64:
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		return itemFloat, b[:], nil
	case bool:
		if v {
			b[0] = 1
		}
		return itemBool, b[:1], nil
	case string:
		return itemString, []byte(v), nil
	case []byte:
		return itemBytes, v, nil
	}
	return 0, nil, fmt.Errorf("%w: a shareable list holds no %T", ErrValue, v)
}

// itemEqual is Python's == on items.
func itemEqual(a, b any) bool {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return x == y // exactly, beyond float64's 53 bits
		}
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch a := a.(type) {
	case string:
		s, ok := b.(string)
		return ok && s == a
	case []byte:
		s, ok := b.([]byte)
		return ok && bytes.Equal(a, s)
	}
	return a == nil && b == nil
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case float64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
