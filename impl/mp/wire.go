package mp

import "encoding/binary"

// A wireReader reads the fields of a binary message in order: a pool's
// task and result messages (pool_wire.go), a manager's requests and its
// replies' values (manager_wire.go). A message cut short, or a field that
// is not well formed, sets err, for good: later fields read as zero values
// (and empty values as nil), so that a decoder reads a whole message and
// checks err once.
type wireReader struct {
	b   []byte
	err error
	// malformed is what err becomes for a message cut short.
	malformed error
}

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// take returns the next n bytes; zeros once err is set.
func (r *wireReader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.fail(r.malformed)
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// Fixed-size little-endian fields, and bytes with a 4-byte length before
// them (what appendItem writes).
func (r *wireReader) u8() byte      { return r.take(1)[0] }
func (r *wireReader) u16() int      { return int(binary.LittleEndian.Uint16(r.take(2))) }
func (r *wireReader) u32() int      { return int(binary.LittleEndian.Uint32(r.take(4))) }
func (r *wireReader) u64() uint64   { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *wireReader) bytes() []byte { return r.take(r.u32()) }

// appendItem appends bytes that enc appends, with their 4-byte length
// before them (what bytes reads).
func appendItem(b []byte, enc func([]byte) []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = enc(b)
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// varint and uvarint read variable-length integers.
func (r *wireReader) varint() int64   { return readVarint(r, binary.Varint) }
func (r *wireReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func readVarint[T int64 | uint64](r *wireReader, read func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	x, n := read(r.b)
	if n <= 0 {
		r.fail(r.malformed)
		return 0
	}
	r.b = r.b[n:]
	return x
}

// rawValue returns the bytes of the manager's tagged value (manager_wire.go)
// that comes next, nested no deeper than maxDepth-depth, once it has
// checked that it is well formed.
func (r *wireReader) rawValue(depth int) []byte {
	if r.err != nil {
		return nil
	}
	n, err := scanValue(r.b, depth)
	if err != nil {
		r.fail(err)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// str reads a tagged value that must be a string.
func (r *wireReader) str() string {
	v := r.rawValue(0)
	if r.err != nil || v[0] != tagStr {
		r.fail(r.malformed)
		return ""
	}
	l, n := binary.Uvarint(v[1:])
	return string(v[1+n : 1+n+int(l)])
}

// end reports whether the message was well formed and has been read to its
// end.
func (r *wireReader) end() bool { return r.err == nil && len(r.b) == 0 }
