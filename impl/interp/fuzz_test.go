package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseScenario feeds the driver's scenario decoder arbitrary bytes: it
// must accept or reject each input with a one-line error, never panic (its
// recover turns a panic into "cannot validate", which counts as a failure
// here) and never hang. The committed corpus is in testdata/fuzz.
func FuzzParseScenario(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/scenarios/tutorial/*.json")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"protocol": 1, "name": "x", "main": [{"op": "repeat", "times": 3, "as": "k", "body": [{"op": "emit", "value": {"param": "k"}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parseScenario(data)
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "cannot validate") {
			t.Fatalf("the decoder panicked: %v", msg)
		}
		if strings.Contains(msg, "\n") {
			t.Fatalf("a multi-line error: %q", msg)
		}
	})
}
