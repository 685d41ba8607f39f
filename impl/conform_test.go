// The reference implementation passes every behaviour: this test runs the
// suites against it, as `conform run --impl ./impl` does.
package impl_test

import (
	"testing"

	"github.com/mpconform/mpconform/harness/conformtest"
)

func TestMain(m *testing.M) { conformtest.Main(m) }

func TestConforms(t *testing.T) { conformtest.Conforms(t, "./impl", false) }
