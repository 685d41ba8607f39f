package interp

import (
	"encoding/json"
	"reflect"
	"testing"
)

// scanCases are values as encodeValue writes them, and JSON that the fast
// path must leave to the full decoder.
var scanCases = []string{
	`null`, `true`, `false`, `0`, `-0`, `7`, `-12`, `123456789012345678`, `-999999999999999999`,
	`9223372036854775807`, `-9223372036854775808`, `9223372036854775808`, `1.5`, `-2.0`, `1e3`, `1E-7`,
	`1.0e+300`, `1e400`, `""`, `"abc"`, `"a b<c>&"`, `"\u00e9"`, `"é"`, `"tab\there"`, `[]`, `[1]`,
	`[1,"x",null,[true,[]]]`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`{"dict":[[1,2.0]]}`, `{"bytes":"AAE="}`, `[{"ref":"L"}]`, ` 1`, `1 `, `[1, 2]`, `01`, `1.`, `.5`, `-`,
	`1e`, `[1,]`, `[,1]`, `[1`, `"abc`, `nul`, `truex`, `[1]]`, `+1`, `0x10`, "\"\x7f\"", "\"\x01\"", ``,
}

func TestScanValueAgreesWithTheDecoder(t *testing.T) {
	for _, in := range scanCases {
		checkScan(t, []byte(in))
	}
	for _, in := range []string{`null`, `-12`, `1.5`, `"abc"`, `[1,"x",null,[true,[]]]`, `9223372036854775807`} {
		if _, ok := scanValue([]byte(in)); !ok {
			t.Errorf("scanValue(%s) left to the decoder", in)
		}
	}
}

func FuzzScanValue(f *testing.F) {
	for _, in := range scanCases {
		f.Add([]byte(in))
	}
	f.Fuzz(checkScan)
}

// checkScan checks that what scanValue accepts, the full decoder decodes
// to the same value, and that encodeValue writes it back as it was.
func checkScan(t *testing.T, data []byte) {
	v, ok := scanValue(data)
	if !ok {
		return
	}
	raw, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("scanValue(%q) = %#v, the decoder fails: %v", data, v, err)
	}
	want, err := decodeValue(raw, true)
	if err != nil {
		t.Fatalf("scanValue(%q) = %#v, the decoder fails: %v", data, v, err)
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("scanValue(%q) = %#v, the decoder gives %#v", data, v, want)
	}
}

func TestAppendStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "main/3", "PoolWorker-1", `a"b`, `a\b`, "<&>", "é", "\x00\n\x7f", "\xff", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendString(%q) = %s, want x%s", s, got, want)
		}
	}
}
