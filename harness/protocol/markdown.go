package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// protocolDoc rewrites the generated tables of docs/protocol.md: each lies
// between `<!-- ops:begin NAME -->` and `<!-- ops:end -->`, where NAME is a
// section of §6 (control, process, ...), kinds (the field kinds) or errors (§8).
// The prose around them is hand-written.
func protocolDoc(doc []byte) ([]byte, error) {
	tables := map[string]string{"kinds": kindsTable(), "errors": errorsTable()}
	for _, s := range sections {
		tables[s.name] = opsTable(s.ops)
	}
	var out bytes.Buffer
	rest := doc
	for {
		loc := beginMarker.FindSubmatchIndex(rest)
		if loc == nil {
			break
		}
		name := string(rest[loc[2]:loc[3]])
		table, ok := tables[name]
		if !ok {
			return nil, fmt.Errorf("<!-- ops:begin %s -->: no such table, or it is there twice", name)
		}
		delete(tables, name)
		end := bytes.Index(rest[loc[1]:], []byte(endMarker))
		if end < 0 {
			return nil, fmt.Errorf("%s has no %s", rest[loc[0]:loc[1]], endMarker)
		}
		out.Write(rest[:loc[1]])
		out.WriteString(table)
		rest = rest[loc[1]+end:]
	}
	out.Write(rest)
	if len(tables) > 0 {
		missing := slices.Sorted(maps.Keys(tables))
		return nil, fmt.Errorf("no <!-- ops:begin NAME --> marker for %s", strings.Join(missing, ", "))
	}
	return out.Bytes(), nil
}

var beginMarker = regexp.MustCompile(`<!-- ops:begin ([a-z]+) -->\n`)

const endMarker = "<!-- ops:end -->"

// opsTable is one table of §6: an op per row.
func opsTable(ops []Op) string {
	var b strings.Builder
	b.WriteString("| op | features | fields | value | errors |\n|---|---|---|---|---|\n")
	for _, op := range ops {
		name := "`" + op.Name + "`"
		if op.Blocks {
			name += " (blocks)"
		}
		features := join(op.Families, ", ")
		if op.With != nil {
			features += " + " + join(op.With, " + ")
		}
		var fields []string
		for _, f := range op.Fields {
			fields = append(fields, fieldCell(f))
		}
		fieldsCell := strings.Join(fields, ", ")
		if op.OneOf != nil {
			fieldsCell += "; exactly one of `" + strings.Join(op.OneOf, "`, `") + "`"
		}
		var errs []string
		for _, e := range op.Errors {
			errs = append(errs, strings.TrimSpace("`"+string(e.Kind)+"` "+e.When))
		}
		row(&b, name, features, fieldsCell, op.Value, strings.Join(errs, "; "))
	}
	return b.String()
}

// fieldCell shows a field as `name?`: kind = default (notes).
func fieldCell(f Field) string {
	s := "`" + f.Name
	if !f.Required {
		s += "?"
	}
	s += "`: " + string(f.Kind)
	if f.Default != nil {
		def, _ := json.Marshal(f.Default)
		s += " = `" + string(def) + "`"
	}
	var notes []string
	if f.Note != "" {
		notes = append(notes, f.Note)
	}
	if f.Feature != "" {
		notes = append(notes, "feature "+string(f.Feature))
	}
	if notes != nil {
		s += " (" + strings.Join(notes, "; ") + ")"
	}
	return s
}

func kindsTable() string {
	var b strings.Builder
	b.WriteString("| kind | a field of this kind is |\n|---|---|\n")
	for _, k := range Kinds() {
		row(&b, "`"+string(k)+"`", k.About())
	}
	return b.String()
}

func errorsTable() string {
	var b strings.Builder
	b.WriteString("| kind | when |\n|---|---|\n")
	for _, e := range ErrorKinds {
		row(&b, "`"+string(e.Kind)+"`", e.When)
	}
	return b.String()
}

func row(b *strings.Builder, cells ...string) {
	for _, c := range cells {
		b.WriteString("| " + strings.ReplaceAll(c, "|", `\|`) + " ")
	}
	b.WriteString("|\n")
}

func join[T ~string](xs []T, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, sep)
}
