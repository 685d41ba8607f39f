package protocol

import (
	"slices"
	"sync"
)

// An Op is one entry of the catalogue.
type Op struct {
	Name string

	// Families are the features that offer the op: a driver whose hello lists
	// any of them implements it. With are features that must be listed too
	// (bulk, for the *_many ops).
	Families []Feature
	With     []Feature

	Fields []Field
	// OneOf, when set, lists fields of which a step has exactly one (join:
	// "proc" for a process, "on" for a joinable queue).
	OneOf []string

	// Blocks: the op may wait, so a driver writes a pending record before it
	// (§7), and a hang shows who waits on what.
	Blocks bool

	// Value says what a success records, in one line of markdown; Errors are
	// the kinds (§8) the op fails with, beyond the Error every op may record.
	Value  string
	Errors []Error
}

// A Field is one field a step of an op may have.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	// Default is what an absent optional field means, where the protocol says
	// (nil: nothing to say, or the absence itself means something, as an
	// absent timeout waits forever).
	Default any
	// Note is shown beside the field in §6, in markdown.
	Note string
	// Feature, when set, is a feature a step that has this field needs beyond
	// the op's (spawn's daemon needs daemon).
	Feature Feature
}

// An Error is an error kind an op fails with, and when (empty: §8 says).
type Error struct {
	Kind ErrorKind
	When string
}

// Field returns the op's field called name.
func (op Op) Field(name string) (Field, bool) {
	i := slices.IndexFunc(op.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return op.Fields[i], true
}

// A section is the ops of one table of §6, in the order the table lists them.
type section struct {
	name string // the marker in docs/protocol.md: <!-- ops:begin NAME -->
	ops  []Op
}

// sections are §6's tables, in the document's order.
var sections = []section{
	{"control", controlOps},
	{"process", processOps},
	{"synchronize", synchronizeOps},
	{"queue", queueOps},
	{"connection", connectionOps},
	{"manager", managerOps},
	{"pool", poolOps},
	{"shm", sharedMemoryOps},
	{"sharedctypes", sharedctypesOps},
}

// Ops returns every op, in §6's order.
func Ops() []Op {
	var all []Op
	for _, s := range sections {
		all = append(all, s.ops...)
	}
	return all
}

var byName = sync.OnceValue(func() map[string]Op {
	m := map[string]Op{}
	for _, op := range Ops() {
		m[op.Name] = op
	}
	return m
})

// Lookup returns the op called name.
func Lookup(name string) (Op, bool) {
	op, ok := byName()[name]
	return op, ok
}

// req and opt make the fields of the tables.
func req(name string, k Kind) Field { return Field{Name: name, Kind: k, Required: true} }
func opt(name string, k Kind) Field { return Field{Name: name, Kind: k} }

func (f Field) or(def any) Field      { f.Default = def; return f }
func (f Field) note(s string) Field   { f.Note = s; return f }
func (f Field) needs(x Feature) Field { f.Feature = x; return f }

// on is the field of an op on a resource.
var on = req("on", Resource)
