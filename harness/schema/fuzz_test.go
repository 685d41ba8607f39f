package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/schema"
)

// FuzzScenario hands the harness's scenario validator (what `conform scenario
// run` checks a file with) arbitrary bytes: it must accept or reject each
// with a one-line error, never panic. The committed corpus is in testdata/fuzz.
func FuzzScenario(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/scenarios/tutorial/*.json")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"protocol": 1, "name": "x", "resources": [{"name": "q", "type": "queue", "maxsize": {"param": "n"}}], "programs": {}, "main": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := schema.Scenario(data); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("a multi-line error: %q", err)
		}
	})
}
