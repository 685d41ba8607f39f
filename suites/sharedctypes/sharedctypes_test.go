package sharedctypes_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	_ "github.com/mpconform/mpconform/suites/sharedctypes"
)

func TestSharedctypes(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sharedctypes")
}
