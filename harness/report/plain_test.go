package report

import (
	"strings"
	"testing"
)

func TestPlainDropsGoTypesAndBuildPaths(t *testing.T) {
	msg := "Unexpected error:\n    <*runner.DriverError | 0x3e30ec39d050>: \n    driver error: x exited 1: boom\n    driver error: x exited 1: boom\noccurred\n  at " +
		sourceRoot + "suites/process/process.go:12"
	got := Plain(msg)
	want := "Unexpected error:\n    driver error: x exited 1: boom\noccurred\n  at suites/process/process.go:12"
	if got != want {
		t.Errorf("Plain:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(Plain("<*fmt.wrapError | 0x26bc0>: a: b"), "0x") {
		t.Error("a wrapError's type survived")
	}
}
