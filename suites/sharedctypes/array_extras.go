package sharedctypes

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/suites/suite"
)

// An Array made from a size, and an Array's lock: sharedctypes.locks's
// rules for a Value, for an Array.
var (
	arrayFromSize = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.array-from-size", Profile: catalogue.Extended, Features: plain,
		Rule: "an Array or RawArray made from a size has that many zeros (0.0 for 'd'), however often one is made, " +
			"and a[:] = range(size) then reads back as it",
		Source: "CPython docs: multiprocessing.Array ('If size_or_initializer is an integer, then it determines the " +
			"length of the array, and the array will be initially zeroed'); CPython test: _test_multiprocessing.py " +
			"_TestArray.test_array_from_size (bpo-11675)",
		CPythonTests: []string{"_TestArray.test_array_from_size"},
	})
	arrayLocks = catalogue.Add(catalogue.Behaviour{
		ID: "sharedctypes.array-locks", Profile: catalogue.Extended, Features: []string{"lock", "sharedctypes"},
		Rule: "an Array's lock is a new RLock by default, else the Lock passed as lock (held, the Array cannot be " +
			"acquired); a RawArray, or an Array made with lock=False, has no get_lock, acquire or release (Error)",
		Source: "CPython docs: multiprocessing.Array (lock argument), RawArray; CPython test: _test_multiprocessing.py " +
			"_TestArray.test_getobj_getlock_obj",
		CPythonTests: []string{"_TestArray.test_getobj_getlock_obj"},
	})
)

var _ = Describe("sharedctypes arrays", func() {
	suite.Spec(arrayFromSize, "Array('i', 10) three times, RawArray('d', 3): len, items, a[:] = range(10)", func() {
		t := suite.Run(New("sharedctypes/array-from-size").
			Resource("a1", "array", "typecode", "i", "size", 10).
			Resource("a2", "array", "typecode", "i", "size", 10).
			Resource("a3", "array", "typecode", "i", "size", 10).
			Resource("r", "raw_array", "typecode", "d", "size", 3).
			Main(
				On("array.set_slice", "a1", "value", []any{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
				On("array.len", "a2"), On("array.slice", "a2"), On("array.slice", "a3"),
				On("array.slice", "a1"), On("array.len", "r"), On("array.slice", "r"),
			))
		zeros := `[0,0,0,0,0,0,0,0,0,0]`
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			"null", "10", zeros, zeros, `[0,1,2,3,4,5,6,7,8,9]`, "3", `[0.0,0.0,0.0]`}))
	})

	suite.Spec(arrayLocks, "get_lock of a default, a Lock-given, a lock=False and a raw Array; acquire while the Lock is held", func() {
		t := suite.Run(New("sharedctypes/array-locks").
			Resource("L", "lock").
			Resource("a", "array", "typecode", "i", "size", 3).
			Resource("w", "array", "typecode", "i", "size", 3, "lock", "L").
			Resource("n", "array", "typecode", "i", "size", 3, "lock", false).
			Resource("r", "raw_array", "typecode", "i", "size", 3).
			Main(
				On("shared.get_lock", "a"), On("shared.get_lock", "w"),
				On("acquire", "L"), On("acquire", "w", "block", false), On("release", "L"),
				On("acquire", "w", "block", false), On("release", "w"),
				On("acquire", "a"), On("acquire", "a"), On("release", "a"), On("release", "a"),
				On("shared.get_lock", "n"), On("acquire", "n"), On("shared.get_lock", "r"), On("release", "r"),
			))
		Expect(outcomes(t, suite.Main(t).Pid)).To(Equal([]string{
			`"rlock"`, `"lock"`, "true", "false", "null", "true", "null",
			"true", "true", "null", "null",
			"!Error", "!Error", "!Error", "!Error"}))
	})
})
