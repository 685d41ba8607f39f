package shared_memory_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	_ "github.com/mpconform/mpconform/suites/shared_memory"
)

func TestSharedMemory(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "shared_memory")
}
