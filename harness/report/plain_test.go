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
	for _, typed := range []string{"<*fmt.wrapError | 0x26bc0>: a: b", "Expected <[]runner.Proc | len:2, cap:2>: [pid 7]", "Expected <string>: x"} {
		if got := Plain(typed); strings.ContainsAny(got, "<>") {
			t.Errorf("Plain(%q) = %q: a Go type survived", typed, got)
		}
	}
}
