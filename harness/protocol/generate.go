package protocol

import (
	"fmt"
	"os"
	"path/filepath"
)

// A File is a file generated from the table: its path from the module's root,
// and what it holds.
type File struct {
	Path string
	Data []byte
}

// Generate returns the files that the table makes, reading their templates and
// hand-written parts under root, the module's root. `go generate
// ./harness/protocol` writes them; a test fails when one is stale.
func Generate(root string) ([]File, error) {
	read := func(path string) ([]byte, error) { return os.ReadFile(filepath.Join(root, path)) }
	tmpl, err := read("harness/schema/scenario.schema.json.tmpl")
	if err != nil {
		return nil, err
	}
	sch, err := scenarioSchema(tmpl)
	if err != nil {
		return nil, fmt.Errorf("harness/schema/scenario.schema.json.tmpl: %v", err)
	}
	doc, err := read("docs/protocol.md")
	if err != nil {
		return nil, err
	}
	if doc, err = protocolDoc(doc); err != nil {
		return nil, fmt.Errorf("docs/protocol.md: %v", err)
	}
	ops, err := opsJSON()
	if err != nil {
		return nil, err
	}
	return []File{
		{"harness/schema/scenario.schema.json", sch},
		{"docs/protocol.md", doc},
		{"fixtures/impls/cpython/ops.json", ops},
	}, nil
}
