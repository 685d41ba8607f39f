package scenario_test

import (
	"strings"
	"testing"

	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/schema"
)

func TestFloatsKeepTheirPoint(t *testing.T) {
	s := New("values").Main(Emit([]any{1, 1.0, 0.25, nil, "爸爸你好!", Dict([2]any{6, "1"}, [2]any{0.25, nil})}))
	doc, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `"value":[1,1.0,0.25,null,"爸爸你好!",{"dict":[[6,"1"],[0.25,null]]}]`
	if !strings.Contains(string(doc), want) {
		t.Errorf("encoded %s\nwant it to contain %s", doc, want)
	}
	if err := schema.Scenario(doc); err != nil {
		t.Error(err)
	}
}

func TestScaledMultipliesDurationsOnly(t *testing.T) {
	s := New("scale").
		Program("p", nil, Repeat(2, "", Sleep(100), Emit(100))).
		Main(JoinTimeout("c", 50), Exit(3))
	doc, err := s.Scaled(2.5).JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ms":250`, `"value":100`, `"timeout":125`, `"code":3`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("scaled %s\nwant it to contain %s", doc, want)
		}
	}
	raw, err := ScaleJSON([]byte(`{"main":[{"op":"sleep","ms":3},{"op":"emit","value":3}]}`), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"ms":6`) || !strings.Contains(string(raw), `"value":3`) {
		t.Errorf("ScaleJSON gave %s", raw)
	}
}

func TestSchemaRejectsWithOneLine(t *testing.T) {
	for doc, want := range map[string]string{
		`{"protocol":1,"name":"x","main":[{"op":"frobnicate"}]}`:     "at /main/0/op: unknown op",
		`{"protocol":1,"name":"x","main":[{"op":"sleep"}]}`:          "at /main/0: missing property 'ms'",
		`{"protocol":1,"name":"x","main":[{"op":"sleep","ms":"1"}]}`: "at /main/0/ms: got string, want number",
	} {
		err := schema.Scenario([]byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line starting %q", doc, err, want)
		}
	}
}
