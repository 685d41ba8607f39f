package interp

import (
	"strings"
	"testing"
)

func TestManagerTypesScenarioErrors(t *testing.T) {
	for _, c := range []struct{ scenario, reason string }{
		{`{"resources":[{"name":"m","type":"manager"},{"name":"c","type":"manager.custom","typeid":"gauge"}],"main":[]}`,
			`manager.custom.typeid: want a custom type`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"c","type":"manager.custom"}],"main":[]}`,
			`missing field "typeid"`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"b","type":"manager.barrier"}],"main":[]}`,
			`missing field "parties"`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"a","type":"manager.array","init":{"dict":[]}}],"main":[]}`,
			`manager.array.init: want a list`},
		{`{"resources":[{"name":"m","type":"manager"},{"name":"b","type":"manager.barrier","parties":2,"action":"f"}],"main":[]}`,
			`unknown field "action"`},
	} {
		res := drive(t, c.scenario)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.reason) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.scenario, res.code, res.stderr, c.reason)
		}
	}
}
