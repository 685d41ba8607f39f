package interp

import (
	"strings"
	"testing"
)

// A value or array that cannot be made as declared is a scenario error, as
// CPython's Value and Array raise before anything runs.
func TestSharedResourceErrors(t *testing.T) {
	for _, c := range []struct{ resource, reason string }{
		{`{"name":"V","type":"value","typecode":"z"}`, `value.typecode: want a typecode`},
		{`{"name":"V","type":"value"}`, `value: missing field "typecode"`},
		{`{"name":"V","type":"value","typecode":"i","init":1.5}`, `value.init: 1.5 is no int item`},
		{`{"name":"V","type":"raw_value","typecode":"c","init":{"bytes":"YWI="}}`, `raw_value.init`},
		{`{"name":"V","type":"value","typecode":"i","lock":true}`, `value.lock: want false, or the name of a lock`},
		{`{"name":"V","type":"raw_value","typecode":"i","lock":false}`, `raw_value: unknown field "lock"`},
		{`{"name":"A","type":"array","typecode":"i"}`, `array: exactly one of size and init`},
		{`{"name":"A","type":"array","typecode":"i","size":2,"init":[1,2]}`, `array: exactly one of size and init`},
		{`{"name":"A","type":"raw_array","typecode":"d","init":["x"]}`, `raw_array.init`},
		{`{"name":"A","type":"array","typecode":"i","size":-1}`, `array.size: want an integer from 0`},
	} {
		res := drive(t, `{"protocol":1,"resources":[`+c.resource+`],"main":[]}`)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.resource, res.code, res.stderr, c.reason)
		}
	}
}
