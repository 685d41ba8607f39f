package interp_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/mpconform/mpconform/harness/protocol"
	"github.com/mpconform/mpconform/impl/interp"
)

// reference returns the reference driver's op table and the features its hello
// lists: the one place this test knows where interp keeps them.
func reference() (map[string]interp.Op, []string) {
	d := interp.Reference()
	return d.Ops, d.Features
}

// TestOpsAreTheProtocols: interp implements every op of the features it lists,
// knows no op the protocol does not, and gives each the protocol's fields.
func TestOpsAreTheProtocols(t *testing.T) {
	ops, hello := reference()
	var features []protocol.Feature
	for _, f := range hello {
		features = append(features, protocol.Feature(f))
	}
	for _, op := range protocol.Ops() {
		if _, ok := ops[op.Name]; !ok && op.OfferedBy(features) {
			t.Errorf("%s: interp lists %v in hello but has no op %s", op.Name, op.Families, op.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ops)) {
		want, ok := protocol.Lookup(name)
		if !ok {
			t.Errorf("%s: interp has an op the protocol does not (harness/protocol)", name)
			continue
		}
		have := ops[name]
		for _, f := range want.Fields {
			if g, ok := have.Fields[f.Name]; !ok || g.Required != f.Required {
				t.Errorf("%s.%s: interp has it %v (required: %v), the protocol required: %v", name, f.Name, ok,
					g.Required, f.Required)
			}
		}
		for f := range have.Fields {
			if _, ok := want.Field(f); !ok {
				t.Errorf("%s.%s: interp has a field the protocol does not", name, f)
			}
		}
		if have.Blocks != want.Blocks {
			t.Errorf("%s: interp writes a pending record: %v, the protocol says it may block: %v", name, have.Blocks, want.Blocks)
		}
		if !slices.Equal(have.OneOf, want.OneOf) {
			t.Errorf("%s: interp's one-of is %v, the protocol's %v", name, have.OneOf, want.OneOf)
		}
	}
}
