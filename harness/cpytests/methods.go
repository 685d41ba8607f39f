// Package cpytests traces CPython 3.11's own multiprocessing tests
// (Lib/test/_test_multiprocessing.py) to the behaviours of the catalogue that
// cover them, and renders docs/cpython-tests.md.
//
// Its opinion: CPython's suite is the fullest statement of what
// multiprocessing promises, so every test method in it must be accounted for,
// either by a behaviour that checks what it tests (the behaviour's
// CPythonTests) or by a reason it does not apply (catalogue.NotApplicable):
// never both, never neither, and never by a name that is not a method. The
// method list is read from CPython's source with Python's own parser, never
// written by hand, so a method that nobody thought of still shows up.
package cpytests

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/mpconform/mpconform/harness/catalogue"
)

// Method is one test method, named by the class that defines it (not the
// classes that inherit it: CPython mixes _TestLock into one class per start
// method and per processes/threads/manager, which are the same test).
type Method struct {
	Class, Name string
	Line        int // in the source file, for the error messages
}

// Key is "Class.method", the form CPythonTests and NotApplicable use.
func (m Method) Key() string { return m.Class + "." + m.Name }

// parser prints each test method of the module-level classes of a file, as
// unittest finds them: functions whose name starts with "test" directly in a
// class body. A def in a string or a comment, or nested in a function, is not
// one.
const parser = `
import ast, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)
for c in tree.body:
    if isinstance(c, ast.ClassDef):
        for d in c.body:
            if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name.startswith("test"):
                print(c.name, d.name, d.lineno)
`

// Methods returns the test methods of the Python test file at path, in the
// file's order, parsed by python3.
func Methods(path string) ([]Method, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, errors.New("cpytests: python3 is not on PATH: it parses CPython's test file")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, "-I", "-c", parser, path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		return nil, fmt.Errorf("cpytests: python3 could not parse %s: %s", path, lines[len(lines)-1])
	}
	var ms []Method
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.Atoi(f[2])
		ms = append(ms, Method{Class: f[0], Name: f[1], Line: n})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("cpytests: %s defines no test method", path)
	}
	return ms, nil
}

// Load locates CPython's test file, reads its methods and joins them with
// the behaviours and the NotApplicable reasons.
func Load(behaviours []*catalogue.Behaviour, na map[string]string) (*Table, error) {
	path, err := Locate()
	if err != nil {
		return nil, err
	}
	ms, err := Methods(path)
	if err != nil {
		return nil, err
	}
	return Join(path, ms, behaviours, na), nil
}
