// Package sharedctypes holds the specs for Value, Array, RawValue and RawArray:
// numbers and bytes in shared memory, their locks, indexing and slicing, and
// the errors of their misuse (docs/behaviours.md, area "sharedctypes").
package sharedctypes

import (
	"encoding/base64"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	plain    = []string{"sharedctypes"}
	children = []string{"process", "sharedctypes"}

	valueShared = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.value-shared", Profile: catalogue.Extended, Features: children,
		Rule:   "a Value or RawValue passed to a child is the parent's: the child reads the parent's write, the parent the child's",
		Source: "CPython docs: multiprocessing 'Sharing state between processes' (Value); CPython test: _test_multiprocessing.py _TestValue.test_value",

		CPythonTests: []string{"_TestValue.test_value", "_TestValue.test_rawvalue", "_TestSharedCTypes.test_sharedctypes", "_TestSharedCTypes.test_synchronize"},
	})
	lockedIncrements = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.locked-increments", Profile: catalogue.Extended, Features: []string{"control", "process", "sharedctypes"},
		Rule:   "4 processes each incrementing a Value 250 times inside acquire..release of its lock leave exactly 1000",
		Source: "CPython docs: multiprocessing.Value ('with counter.get_lock(): counter.value += 1')",
	})
	arrayShared = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.array-shared", Profile: catalogue.Extended, Features: children,
		Rule:   "an Array or RawArray passed to a child is the parent's: items and slices one writes the other reads",
		Source: "CPython docs: multiprocessing 'Sharing state between processes' (Array); CPython test: _test_multiprocessing.py _TestArray.test_array",

		CPythonTests: []string{"_TestArray.test_array", "_TestArray.test_rawarray"},
	})
	arrayIndex = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.array-index", Profile: catalogue.Extended, Features: plain,
		Rule:   "an Array has len(a) items, a negative index counts from the end, and an index out of range fails with IndexError",
		Source: "CPython docs: multiprocessing.Array; ctypes arrays (sequence protocol)",
	})
	arraySlice = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.array-slice", Profile: catalogue.Extended, Features: plain,
		Rule: "Array slices are Python's (negative and absent bounds, clamped), and assigning a slice a sequence " +
			"of another length fails with ValueError and changes nothing",
		Source: "CPython test: _test_multiprocessing.py _TestArray.test_array (arr[2:5], arr[:] = ...); " +
			"Lib/multiprocessing/sharedctypes.py (SynchronizedArray.__setitem__)",

		CPythonTests: []string{"_TestArray.test_array"},
	})
	charArray = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.char-array", Profile: catalogue.Extended, Features: plain,
		Rule: "a 'c' Array's items and slices are bytes, .raw is all of it, .value its bytes up to the first NUL; " +
			"setting .value to shorter bytes writes them and a NUL",
		Source: "CPython docs: multiprocessing.Array ('c' arrays have value and raw); ctypes docs: create_string_buffer",

		CPythonTests: []string{"_TestSharedCTypes.test_sharedctypes"},
	})
	typecodes = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.typecodes", Profile: catalogue.Extended, Features: plain,
		Rule: "each typecode holds its C type: 'i' 'l' 'q' 'b' 'B' ints, 'd' a float (an int written reads back " +
			"as a float), 'c' bytes of length 1; an int out of range keeps its low bits, as C does",
		Source: "CPython docs: multiprocessing.sharedctypes (typecodes of the array module); ctypes docs: " +
			"Fundamental data types ('no overflow checking is done')",
	})
	wrongType = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.wrong-type", Profile: catalogue.Extended, Features: plain,
		Rule: "writing a value of the wrong type (a float or a string to an int item, a string to a float one) fails " +
			"with ValueError (CPython's TypeError) and leaves the value as it was",
		Source: "ctypes docs: Fundamental data types; CPython: c_int.value = 1.5 raises TypeError",
	})
	locks = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.locks", Profile: catalogue.Extended, Features: []string{"lock", "sharedctypes"},
		Rule: "a Value's lock is a new RLock by default, else the Lock passed as lock (held, the Value cannot be " +
			"acquired); a RawValue, or one made with lock=False, has no get_lock, acquire or release (Error)",
		Source: "CPython docs: multiprocessing.Value (lock argument), RawValue; CPython test: _test_multiprocessing.py " +
			"_TestValue.test_getobj_getlock",

		CPythonTests: []string{"_TestValue.test_getobj_getlock"},
	})
)

// bytesValue is the bytes value of s.
func bytesValue(s string) map[string]any {
	return map[string]any{"bytes": base64.StdEncoding.EncodeToString([]byte(s))}
}

// outcomes are what pid's records of the family's ops say, in order: the
// value's JSON, or "!" and the error's kind.
func outcomes(t *trace.Trace, pid int) []string {
	var out []string
	for _, r := range t.Of(pid) {
		if r.Pending || !strings.HasPrefix(r.Op, "shared.") && !strings.HasPrefix(r.Op, "array.") &&
			r.Op != "acquire" && r.Op != "release" {
			continue
		}
		if r.OK {
			out = append(out, trace.JSON(r.Value))
		} else {
			out = append(out, "!"+r.Kind())
		}
	}
	return out
}

// b64 is how bytes read back from a trace.
func b64(s string) string { return `{"bytes":"` + base64.StdEncoding.EncodeToString([]byte(s)) + `"}` }

var _ = Describe("sharedctypes", func() {
	suite.Spec(valueShared, "a child reads main's writes to a Value and a RawValue, and main the child's", func() {
		t := suite.Run(New("sharedctypes/value-shared").
			Resource("v", "value", "typecode", "i", "init", 7).
			Resource("r", "raw_value", "typecode", "d").
			Program("child", []string{"v", "r"},
				On("shared.get", "v"), On("shared.get", "r"),
				On("shared.set", "v", "value", -42), On("shared.set", "r", "value", 2.5)).
			Main(
				On("shared.set", "r", "value", 0.25),
				Spawn("c", "child", Ref("v"), Ref("r")), Start("c"), Join("c"),
				On("shared.get", "v"), On("shared.get", "r"),
			))
		Expect(outcomes(t, suite.Program(t, "child").Pid)).To(Equal([]string{"7", "0.25", "null", "null"}))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{"null", "-42", "2.5"}))
	})

	suite.Spec(lockedIncrements, "4 processes × 250 increments, each inside acquire..release", func() {
		t := suite.Run(New("sharedctypes/locked-increments").
			Resource("v", "value", "typecode", "l").
			Program("add", []string{"v"},
				Repeat(250, "", On("acquire", "v"), On("shared.incr", "v"), On("release", "v"))).
			Main(
				Repeat(4, "", Spawn("w", "add", Ref("v"))), Start("w"), Join("w"),
				On("shared.get", "v"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{"1000"}))
	})

	suite.Spec(arrayShared, "a child doubles an Array's items and writes a RawArray's slice; main reads both", func() {
		t := suite.Run(New("sharedctypes/array-shared").
			Resource("a", "array", "typecode", "i", "init", []any{1, 2, 3}).
			Resource("r", "raw_array", "typecode", "q", "size", 4).
			Program("child", []string{"a", "r"},
				On("array.slice", "a"),
				On("array.set", "a", "at", 0, "value", 2), On("array.set", "a", "at", 1, "value", 4),
				On("array.set", "a", "at", 2, "value", 6),
				On("array.set_slice", "r", "start", 1, "stop", 3, "value", []any{10, 20})).
			Main(
				On("array.set", "a", "at", 2, "value", 30),
				Spawn("c", "child", Ref("a"), Ref("r")), Start("c"), Join("c"),
				On("array.slice", "a"), On("array.slice", "r"),
			))
		Expect(outcomes(t, suite.Program(t, "child").Pid)).To(Equal([]string{"[1,2,30]", "null", "null", "null", "null"}))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{"null", "[2,4,6]", "[0,10,20,0]"}))
	})

	suite.Spec(arrayIndex, "len, a[0], a[-1], a[-5], a[5], a[-6], a[-2] = 9", func() {
		t := suite.Run(New("sharedctypes/array-index").
			Resource("a", "array", "typecode", "i", "init", []any{1, 2, 3, 4, 5}).
			Main(
				On("array.len", "a"), On("array.get", "a", "at", 0), On("array.get", "a", "at", -1),
				On("array.get", "a", "at", -5), On("array.get", "a", "at", 5), On("array.get", "a", "at", -6),
				On("array.set", "a", "at", 5, "value", 1), On("array.set", "a", "at", -2, "value", 9),
				On("array.slice", "a"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			"5", "1", "5", "1", "!IndexError", "!IndexError", "!IndexError", "null", "[1,2,3,9,5]"}))
	})

	suite.Spec(arraySlice, "a[2:5], a[-2:], a[:2], a[3:100], a[4:1]; a[:] = ...; a[0:2] = [1] fails", func() {
		t := suite.Run(New("sharedctypes/array-slice").
			Resource("a", "array", "typecode", "i", "init", []any{0, 1, 2, 3, 4, 5}).
			Main(
				On("array.slice", "a", "start", 2, "stop", 5), On("array.slice", "a", "start", -2),
				On("array.slice", "a", "stop", 2), On("array.slice", "a", "start", 3, "stop", 100),
				On("array.slice", "a", "start", 4, "stop", 1),
				On("array.set_slice", "a", "value", []any{5, 4, 3, 2, 1, 0}),
				On("array.set_slice", "a", "start", 0, "stop", 2, "value", []any{1}),
				On("array.set_slice", "a", "start", -2, "value", []any{7, 8}),
				On("array.slice", "a"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			"[2,3,4]", "[4,5]", "[0,1]", "[3,4,5]", "[]", "null", "!ValueError", "null", "[5,4,3,2,7,8]"}))
	})

	suite.Spec(charArray, "Array('c', b'hello'): items, slices, value and raw", func() {
		t := suite.Run(New("sharedctypes/char-array").
			Resource("c", "array", "typecode", "c", "init", bytesValue("hello")).
			Main(
				On("array.get", "c", "at", 1), On("array.slice", "c", "start", 1, "stop", 3),
				On("shared.get", "c"),
				On("shared.set", "c", "value", bytesValue("hi")),
				On("shared.get", "c"), On("array.raw", "c"),
				On("array.set", "c", "at", 0, "value", bytesValue("H")),
				On("array.set_slice", "c", "start", 3, "value", bytesValue("LO")),
				On("array.raw", "c"), On("shared.get", "c"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			b64("e"), b64("el"), b64("hello"), "null", b64("hi"), b64("hi\x00lo"), "null", "null",
			b64("Hi\x00LO"), b64("Hi")}))
	})

	suite.Spec(typecodes, "one Value of each typecode: what reads back after init and a write", func() {
		s := New("sharedctypes/typecodes").
			Resource("i", "value", "typecode", "i", "init", -2147483648).
			Resource("l", "value", "typecode", "l", "init", 1<<40).
			Resource("q", "raw_value", "typecode", "q", "init", -(1<<62)).
			Resource("d", "value", "typecode", "d", "init", 3).
			Resource("c", "value", "typecode", "c", "init", bytesValue("a")).
			Resource("b", "value", "typecode", "b").
			Resource("B", "raw_value", "typecode", "B")
		var steps []Step
		for _, code := range []string{"i", "l", "q", "d", "c", "b", "B"} {
			steps = append(steps, On("shared.get", code))
		}
		steps = append(steps,
			On("shared.set", "i", "value", 1<<32+5), On("shared.set", "d", "value", 0.5),
			On("shared.set", "c", "value", bytesValue("z")), On("shared.set", "b", "value", 300),
			On("shared.set", "B", "value", -1))
		for _, code := range []string{"i", "d", "c", "b", "B"} {
			steps = append(steps, On("shared.get", code))
		}
		t := suite.Run(s.Main(steps...))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			"-2147483648", "1099511627776", "-4611686018427387904", "3.0", b64("a"), "0", "0",
			"null", "null", "null", "null", "null",
			"5", "0.5", b64("z"), "44", "255"}))
	})

	suite.Spec(wrongType, "1.5 and a string into 'i', a string into 'd', 2 bytes into 'c', 1.5 into an 'i' array", func() {
		t := suite.Run(New("sharedctypes/wrong-type").
			Resource("i", "value", "typecode", "i", "init", 3).
			Resource("d", "raw_value", "typecode", "d", "init", 0.5).
			Resource("c", "value", "typecode", "c", "init", bytesValue("x")).
			Resource("a", "array", "typecode", "i", "size", 2).
			Main(
				On("shared.set", "i", "value", 1.5), On("shared.set", "i", "value", "7"),
				On("shared.set", "d", "value", "7"), On("shared.set", "c", "value", bytesValue("ab")),
				On("array.set", "a", "at", 0, "value", 1.5),
				On("shared.get", "i"), On("shared.get", "d"), On("shared.get", "c"), On("array.slice", "a"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			"!ValueError", "!ValueError", "!ValueError", "!ValueError", "!ValueError",
			"3", "0.5", b64("x"), "[0,0]"}))
	})

	suite.Spec(locks, "get_lock of a default, a Lock-given and a raw Value; acquire while the Lock is held", func() {
		t := suite.Run(New("sharedctypes/locks").
			Resource("L", "lock").
			Resource("v", "value", "typecode", "i").
			Resource("w", "value", "typecode", "i", "lock", "L").
			Resource("n", "value", "typecode", "i", "lock", false).
			Resource("r", "raw_value", "typecode", "i").
			Main(
				On("shared.get_lock", "v"), On("shared.get_lock", "w"),
				On("acquire", "L"), On("acquire", "w", "block", false), On("release", "L"),
				On("acquire", "w", "block", false), On("release", "w"),
				On("acquire", "v"), On("acquire", "v"), On("release", "v"), On("release", "v"),
				On("shared.get_lock", "n"), On("acquire", "n"), On("shared.get_lock", "r"), On("release", "r"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			`"rlock"`, `"lock"`, "true", "false", "null", "true", "null",
			"true", "true", "null", "null",
			"!Error", "!Error", "!Error", "!Error"}))
	})
})
