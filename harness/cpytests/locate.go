package cpytests

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// File is the test file's name inside the test package.
const File = "_test_multiprocessing.py"

// systemDirs are test packages installed by a distribution: Debian's
// libpython3.11-testsuite puts CPython's suite there.
var systemDirs = []string{"/usr/lib/python3.11/test"}

// ErrNotFound says that no CPython 3.11 test suite is installed; the message
// says where it looked and how to install one.
var ErrNotFound = errors.New("cpytests: CPython 3.11's Lib/test/" + File + " not found " +
	"(looked in python3's test package when python3 is 3.11, $(pyenv root)/versions/3.11.*/lib/python3.11/test/, " +
	strings.Join(systemDirs, ", ") + "/): install it with `apt-get install libpython3.11-testsuite` (Debian) " +
	"or `pyenv install 3.11`")

// Locate returns the path of CPython 3.11's _test_multiprocessing.py: in the
// test package of python3 if python3 is 3.11, else in the newest pyenv 3.11.*,
// else where Debian installs it.
func Locate() (string, error) {
	var dirs []string
	if d := python311TestDir(); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, pyenvTestDirs()...)
	dirs = append(dirs, systemDirs...)
	for _, d := range dirs {
		p := filepath.Join(d, File)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// python311TestDir is the directory of python3's test package, or "" when
// python3 is missing, is not 3.11, or has no test package.
func python311TestDir() string {
	py, err := exec.LookPath("python3")
	if err != nil {
		return ""
	}
	out, err := exec.Command(py, "-I", "-c",
		"import sys, os, test; print('%d.%d' % sys.version_info[:2]); print(os.path.dirname(test.__file__))").Output()
	if err != nil {
		return ""
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if version != "3.11" {
		return ""
	}
	return dir
}

// pyenvTestDirs are the test packages of pyenv's 3.11 versions, newest first.
func pyenvTestDirs() []string {
	root := os.Getenv("PYENV_ROOT")
	if pyenv, err := exec.LookPath("pyenv"); err == nil {
		if out, err := exec.Command(pyenv, "root").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		root = filepath.Join(home, ".pyenv")
	}
	versions, _ := filepath.Glob(filepath.Join(root, "versions", "3.11.*"))
	// 3.11.10 is newer than 3.11.9.
	patch := func(v string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(v), "3.11."))
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortStableFunc(versions, func(a, b string) int { return patch(b) - patch(a) })
	var dirs []string
	for _, v := range versions {
		dirs = append(dirs, filepath.Join(v, "lib", "python3.11", "test"))
	}
	return dirs
}
