// Package schema holds the JSON Schemas of the driver protocol (scenarios and trace
// records, docs/protocol.md) and validates documents against them with one-line
// errors.
//
// The schemas are the machine-readable half of the protocol: the harness checks
// every scenario before it sends it and every trace record it reads back. They say
// what is well-formed, not what is correct; the suites judge behaviour.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var english = message.NewPrinter(language.English)

var (
	//go:embed scenario.schema.json
	scenarioJSON []byte
	//go:embed trace.schema.json
	traceJSON []byte
)

var compiled = sync.OnceValues(func() ([2]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	var out [2]*jsonschema.Schema
	for i, doc := range [][]byte{scenarioJSON, traceJSON} {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			return out, err
		}
		url := fmt.Sprintf("mem:///%d.json", i)
		if err := c.AddResource(url, v); err != nil {
			return out, err
		}
		if out[i], err = c.Compile(url); err != nil {
			return out, err
		}
	}
	return out, nil
})

// Scenario validates a scenario document.
func Scenario(doc []byte) error { return validate(0, doc) }

// TraceRecord validates one trace line.
func TraceRecord(line []byte) error { return validate(1, line) }

func validate(which int, doc []byte) error {
	schemas, err := compiled()
	if err != nil {
		return fmt.Errorf("schema: %v", err) // a bug in the embedded schemas
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if err := schemas[which].Validate(v); err != nil {
		if ve, ok := err.(*jsonschema.ValidationError); ok {
			return fmt.Errorf("%s", oneLine(ve))
		}
		return err
	}
	return nil
}

// oneLine reports the deepest, most specific cause: the one that names the field.
func oneLine(e *jsonschema.ValidationError) string {
	for len(e.Causes) > 0 {
		e = deepest(e.Causes)
	}
	loc := "/" + strings.Join(e.InstanceLocation, "/")
	msg := e.ErrorKind.LocalizedString(english)
	if strings.HasSuffix(loc, "/op") && strings.HasPrefix(msg, "value must be one of") {
		msg = "unknown op (docs/protocol.md §6 lists them)"
	}
	return fmt.Sprintf("at %s: %s", loc, msg)
}

func deepest(es []*jsonschema.ValidationError) *jsonschema.ValidationError {
	best, depth := es[0], -1
	for _, e := range es {
		if d := len(e.InstanceLocation); d > depth {
			best, depth = e, d
		}
	}
	return best
}
