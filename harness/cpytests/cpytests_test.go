package cpytests

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/catalogue"
)

func keys(ms []Method) []string {
	var k []string
	for _, m := range ms {
		k = append(k, m.Key())
	}
	return k
}

// TestMethods: the methods are what unittest would run, defined directly in
// a module-level class; a def in a string, a comment or a function is not one.
func TestMethods(t *testing.T) {
	ms, err := Methods("testdata/_test_fake.py")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"_TestThing.test_one", "_TestThing.test_async", "_TestThing.test_one", "OtherTest.test_two"}
	if got := keys(ms); !reflect.DeepEqual(got, want) {
		t.Errorf("methods %v, want %v", got, want)
	}
	if ms[0].Line != 10 {
		t.Errorf("test_one at line %d, want 10", ms[0].Line)
	}
}

func TestMethodsBadFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.py")
	os.WriteFile(bad, []byte("class X(:\n"), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.py")
	os.WriteFile(empty, []byte("x = 1\n"), 0o644)
	for _, p := range []string{bad, empty, filepath.Join(t.TempDir(), "missing.py")} {
		_, err := Methods(p)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want one line naming the file", p, err)
		}
	}
}

// TestLocateNotFound: with no python3, no pyenv and no system test suite,
// Locate fails with one line that says how to install the suite.
func TestLocateNotFound(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("PYENV_ROOT", empty)
	defer func(d []string) { systemDirs = d }(systemDirs)
	systemDirs = []string{filepath.Join(empty, "usr-lib")}
	_, err := Locate()
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "libpython3.11-testsuite") {
		t.Errorf("Locate: %v", err)
	}
}

// TestLocatePyenv: without a python3 of 3.11, the newest pyenv 3.11.* wins,
// 3.11.10 over 3.11.9; a 3.12 does not count.
func TestLocatePyenv(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"3.11.9", "3.11.10", "3.12.1"} {
		d := filepath.Join(root, "versions", v, "lib", "python3.11", "test")
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, File), []byte("class T:\n    def test(self): pass\n"), 0o644)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PYENV_ROOT", root)
	got, err := Locate()
	if want := filepath.Join(root, "versions", "3.11.10", "lib", "python3.11", "test", File); err != nil || got != want {
		t.Errorf("Locate: %q, %v; want %q", got, err, want)
	}
}

func testTable() *Table {
	ms := []Method{
		{Class: "_TestLock", Name: "test_lock"}, {Class: "_TestLock", Name: "test_rlock"},
		{Class: "TestWait", Name: "test_wait"}, {Class: "TestWait", Name: "test_wait_socket"},
		{Class: "MiscTestCase", Name: "test__all__"},
	}
	bs := []*catalogue.Behaviour{
		{ID: "lock.mutex", Profile: catalogue.Core, CPythonTests: []string{"_TestLock.test_lock", "_TestLock.test_nothing"}},
		{ID: "lock.again", Profile: catalogue.Extended, CPythonTests: []string{"_TestLock.test_lock", "TestWait.test_wait"}},
	}
	na := map[string]string{
		"MiscTestCase.test__all__": "Python API surface",
		"TestWait.test_wait":       "thread-only",
		"TestWait.test_gone":       "renamed",
		"_TestLock.test_rlock":     " ",
	}
	return Join("x.py", ms, bs, na)
}

// TestJoinWrong: an entry naming no method, a method both covered and n/a,
// and an empty reason are each one line of Wrong.
func TestJoinWrong(t *testing.T) {
	want := []string{
		"_TestLock.test_nothing: behaviour lock.mutex names it in CPythonTests, but " + File + " defines no such test method",
		"TestWait.test_gone: NotApplicable explains it, but " + File + " defines no such test method",
		"TestWait.test_wait: both covered (by lock.again) and explained in NotApplicable: keep one",
		"_TestLock.test_rlock: NotApplicable gives no reason",
	}
	if got := testTable().Wrong; !reflect.DeepEqual(got, want) {
		t.Errorf("Wrong:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLeftReport: the methods nothing accounts for, grouped by class, one
// line each.
func TestLeftReport(t *testing.T) {
	tb := testTable()
	if got := keys(tb.Left()); !reflect.DeepEqual(got, []string{"TestWait.test_wait_socket"}) {
		t.Errorf("left: %v", got)
	}
	tb = Join("x.py", []Method{{Class: "B", Name: "test_1"}, {Class: "_A", Name: "test_2"}, {Class: "_A", Name: "test_1"}, {Class: "B", Name: "test_3"}}, nil, nil)
	want := "4 test methods of " + File + " are neither covered nor explained"
	lines := strings.Split(strings.TrimSpace(tb.LeftReport()), "\n")
	if !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], Command) {
		t.Errorf("first line %q", lines[0])
	}
	rest := []string{
		"_A:",
		"  _A.test_2: no behaviour covers it and NotApplicable does not explain it",
		"  _A.test_1: no behaviour covers it and NotApplicable does not explain it",
		"B:",
		"  B.test_1: no behaviour covers it and NotApplicable does not explain it",
		"  B.test_3: no behaviour covers it and NotApplicable does not explain it",
	}
	if !reflect.DeepEqual(lines[1:], rest) {
		t.Errorf("report:\n%s", strings.Join(lines[1:], "\n"))
	}
	if r := testTable().class("_TestLock").LeftReport(); r != "" {
		t.Errorf("nothing left, but %q", r)
	}
}

// TestMarkdown: the counts, a summary row per class, a linked ID per
// covering behaviour, n/a and its reason, and left.
func TestMarkdown(t *testing.T) {
	md := testTable().Markdown()
	for _, want := range []string{
		"**5 test methods** in 3 classes: **2 covered**, **2 n/a**, **0 gaps**, **1 left**.",
		"| [`_TestLock`](#_testlock) | 2 | 1 | 1 | 0 | 0 |",
		"| `test_lock` | [`lock.mutex`](behaviours.md#core), [`lock.again`](behaviours.md#extended) |",
		"| `test__all__` | n/a: Python API surface |",
		"| `test_wait_socket` | **left**",
		Command,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the markdown lacks %q:\n%s", want, md)
		}
	}
	if a, b := strings.Index(md, "## `_TestLock`"), strings.Index(md, "## `TestWait`"); a < 0 || b < a {
		t.Errorf("classes out of order (leading underscores ignored):\n%s", md)
	}
}

// TestGap: a reason that starts with GapPrefix is a gap, counted and shown
// apart from n/a, and not left.
func TestGap(t *testing.T) {
	tb := &Table{Entries: []Entry{{Method: Method{Class: "TestWait", Name: "test_x"}, NA: GapPrefix + "needs descriptor passing"}}}
	if c := tb.Count(); c.Gaps != 1 || c.NA != 0 || c.Left != 0 {
		t.Errorf("counts %+v, want one gap", c)
	}
	if md := tb.Markdown(); !strings.Contains(md, "| `test_x` | **gap**: needs descriptor passing |") {
		t.Errorf("the markdown shows no gap:\n%s", md)
	}
}
