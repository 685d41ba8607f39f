package catalogue

// NotApplicable explains each test method of CPython 3.11's
// _test_multiprocessing.py that no behaviour covers, keyed "Class.method":
// thread-only, a platform mpconform does not run, or a CPython internal. A
// method is either here or in some behaviour's CPythonTests, never both.
var NotApplicable = map[string]string{}
