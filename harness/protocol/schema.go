package protocol

import (
	"bytes"
	"encoding/json"
	"text/template"
)

// scenarioSchema fills the scenario schema's template with the ops: the step
// definition names them all and has one if/then case per op, on one line, which
// allows its fields and requires the required ones.
func scenarioSchema(tmpl []byte) ([]byte, error) {
	t, err := template.New("schema").Funcs(template.FuncMap{"json": oneLine, "opCase": opCase}).Parse(string(tmpl))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, Ops()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func opCase(op Op) (string, error) {
	props := object{{"op", object{{"const", op.Name}}}}
	required := []string{"op"}
	for _, f := range op.Fields {
		props = append(props, member{f.Name, object{{"$ref", "#/$defs/" + string(f.Kind)}}})
		if f.Required {
			required = append(required, f.Name)
		}
	}
	then := object{{"type", "object"}, {"properties", props}, {"required", required}, {"additionalProperties", false}}
	if op.OneOf != nil {
		var alts []object
		for _, f := range op.OneOf {
			alts = append(alts, object{{"required", []string{f}}})
		}
		then = append(then, member{"oneOf", alts})
	}
	return oneLine(object{
		{"if", object{{"properties", object{{"op", object{{"const", op.Name}}}}}, {"required", []string{"op"}}}},
		{"then", then},
	})
}

// An object is a JSON object that keeps its members' order.
type object []member

type member struct {
	key   string
	value any
}

func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// oneLine encodes v on one line, with a space after each ':' and ',' as a
// person would write it.
func oneLine(v any) (string, error) {
	compact, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var b []byte
	inString, escaped := false, false
	for _, c := range compact {
		b = append(b, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			b = append(b, ' ')
		}
	}
	return string(b), nil
}
