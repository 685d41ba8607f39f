package synchronize_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	_ "github.com/mpconform/mpconform/suites/synchronize"
)

func TestSynchronize(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "synchronize")
}
