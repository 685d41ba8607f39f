package report

import (
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// gomegaType is the header Gomega puts before a value it formats, with the
// value's Go type and its address or length: `<*runner.DriverError |
// 0x3e30ec39d050>: `, `<[]runner.Proc | len:2, cap:2>: `, `<string>: `. It
// says nothing to the person who reads a failure.
var gomegaType = regexp.MustCompile(`<[\[\]*\w./{}]+(?: \| [^<>\n]*)?>:? ?`)

// Plain rewrites a spec's failure message in plain words: without Gomega's
// type headers (suites/suite formats errors as their text), the lines that
// those leave blank or repeated, and with paths into the source tree the
// harness was built from made relative to the repository.
func Plain(msg string) string {
	msg = gomegaType.ReplaceAllString(msg, "")
	msg = Relative(msg)
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" || (len(out) > 0 && strings.TrimSpace(l) == strings.TrimSpace(out[len(out)-1])) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// sourceRoot is the repository's directory as this binary was built from it,
// with a slash; with -trimpath, the module path.
var sourceRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file))) + "/" // harness/report/plain.go
}()

// Relative makes the source tree's paths in s relative to the repository.
func Relative(s string) string {
	if sourceRoot == "" || sourceRoot == "/" {
		return s
	}
	return strings.ReplaceAll(s, sourceRoot, "")
}
