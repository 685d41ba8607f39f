package shared_memory

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The corners of _TestSharedMemory that the other behaviours leave: a
// SharedMemoryManager used after its shutdown, and an empty ShareableList.
var (
	managerShutDown = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.manager-shut-down", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule: "a SharedMemoryManager refuses a segment of size 0 (ValueError) and goes on serving; once shut down, " +
			"a new segment or list from it fails with Closed, and a second shutdown is no error",
		Source: "CPython docs: multiprocessing.managers.SharedMemoryManager (SharedMemory(size), ShareableList, " +
			"shutdown); CPython test: _test_multiprocessing.py _TestSharedMemory.test_shared_memory_SharedMemoryManager_basics",
		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_SharedMemoryManager_basics"},
	})
	listEmpty = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.list-empty", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule: "an empty ShareableList has len 0 and format '', counts 0 of anything, and index of anything is a " +
			"ValueError; get 0 of it is an IndexError",
		Source: "CPython docs: multiprocessing.shared_memory.ShareableList (count, index, format); CPython test: " +
			"_test_multiprocessing.py _TestSharedMemory.test_shared_memory_ShareableList_basics ('creating an empty " +
			"ShareableList')",
		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_ShareableList_basics"},
	})
)

var _ = Describe("shared_memory corners", func() {
	suite.Spec(managerShutDown, "a segment of size 0, one of 16, shutdown, then a segment and a list", func() {
		t := suite.Run(New("shared_memory/manager-shut-down").
			Resource("smm", "shared_memory_manager").
			Main(
				On("smm.shared_memory", "smm", "as", "z", "size", 0),
				On("smm.shared_memory", "smm", "as", "m", "size", 16),
				On("smm.shutdown", "smm"),
				On("smm.shared_memory", "smm", "as", "m2", "size", 16),
				On("smm.shareable_list", "smm", "as", "l", "init", []any{1, 2}),
				On("smm.shutdown", "smm"),
			))
		main := suite.Main(t)
		Expect(kinds(t, main.Pid, "smm.shared_memory")).To(Equal([]string{"ValueError", "", "Closed"}))
		Expect(kinds(t, main.Pid, "smm.shareable_list")).To(Equal([]string{"Closed"}))
		Expect(kinds(t, main.Pid, "smm.shutdown")).To(Equal([]string{"", ""}))
	})

	suite.Spec(listEmpty, "ShareableList(): len, format, count, index, get", func() {
		t := suite.Run(New("shared_memory/list-empty").
			Resource("l", "shareable_list").
			Main(
				On("sl.len", "l"), On("sl.format", "l"), On("sl.count", "l", "value", "any"),
				On("sl.index", "l", "value", nil), On("sl.get", "l", "index", 0), On("sl.list", "l"),
				On("shm.unlink", "l"),
			))
		main := suite.Main(t)
		Expect(t.Values(main.Pid, "sl.len")).To(Equal([]any{trace.IntValue(0)}))
		Expect(t.Values(main.Pid, "sl.format")).To(Equal([]any{""}))
		Expect(t.Values(main.Pid, "sl.count")).To(Equal([]any{trace.IntValue(0)}))
		Expect(kinds(t, main.Pid, "sl.index")).To(Equal([]string{"ValueError"}))
		Expect(kinds(t, main.Pid, "sl.get")).To(Equal([]string{"IndexError"}))
		Expect(t.Values(main.Pid, "sl.list")).To(Equal([]any{[]any{}}))
	})
})
