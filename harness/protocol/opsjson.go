package protocol

import "encoding/json"

// Version is the protocol's version, as scenarios and hello carry it.
const Version = 1

// opsJSON is the table for drivers in other languages
// (fixtures/impls/cpython/ops.json): each op's families, with, fields (kind and
// whether required), one_of and blocks. Keys are sorted, so that a change to the
// table is a small diff.
func opsJSON() ([]byte, error) {
	type field struct {
		Kind     Kind `json:"kind"`
		Required bool `json:"required"`
	}
	type op struct {
		Blocks   bool             `json:"blocks"`
		Families []Feature        `json:"families"`
		Fields   map[string]field `json:"fields"`
		OneOf    []string         `json:"one_of"`
		With     []Feature        `json:"with"`
	}
	ops := map[string]op{}
	for _, o := range Ops() {
		fields := map[string]field{}
		for _, f := range o.Fields {
			fields[f.Name] = field{f.Kind, f.Required}
		}
		ops[o.Name] = op{o.Blocks, o.Families, fields, nonNil(o.OneOf), nonNil(o.With)}
	}
	b, err := json.MarshalIndent(map[string]any{"protocol": Version, "kinds": Kinds(), "ops": ops}, "", "  ")
	return append(b, '\n'), err
}

// nonNil makes an empty list [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
