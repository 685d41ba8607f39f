// Package shared_memory holds the specs for multiprocessing.shared_memory:
// SharedMemory segments shared by name between processes, the
// ShareableList over one, the SharedMemoryManager, and what is left in
// /dev/shm when a program ends (docs/behaviours.md, area "shared_memory").
package shared_memory

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	childSeesParent = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.child-sees-parent", Profile: catalogue.Extended,
		Features: []string{"process", "shared_memory"},
		Rule:     "a child that attaches to a segment by its name (or gets it as an argument) reads its parent's bytes, and the parent reads the child's",
		Source:   "CPython docs: multiprocessing.shared_memory.SharedMemory (attach by name); CPython test: _test_multiprocessing.py _TestSharedMemory.test_shared_memory_across_processes",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_across_processes", "_TestSharedMemory.test_shared_memory_pickle_unpickle"},
	})
	nameSize = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.name-size", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule:   "a segment has the name it was created with, or a fresh one of its own; its size is at least the size asked for",
		Source: "CPython docs: SharedMemory.name, SharedMemory.size ('may be larger or equal to the size requested')",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_basics"},
	})
	errorsB = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.errors", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule:   "attaching to a missing name is NotFound, creating a taken name is Exists, creating with size 0 or less is a ValueError",
		Source: "CPython docs: SharedMemory (FileNotFoundError, FileExistsError, size); CPython test: _TestSharedMemory.test_shared_memory_basics",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_basics", "_TestSharedMemory.test_invalid_shared_memory_cration"},
	})
	closeUnlink = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.close-unlink", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule:   "after close a handle's reads and writes fail with Closed while other handles still work; after unlink the name cannot be attached, and a second unlink is NotFound",
		Source: "CPython docs: SharedMemory.close, SharedMemory.unlink",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_basics", "_TestSharedMemory.test_shared_memory_pickle_unpickle_dead_object"},
	})
	listShared = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.list-shared", Profile: catalogue.Extended,
		Features: []string{"process", "shared_memory"},
		Rule:     "a ShareableList attached by name in a child holds its parent's items, and the parent sees the child's sets; len, count and index are a list's, get past the end is an IndexError",
		Source:   "CPython docs: multiprocessing.shared_memory.ShareableList; CPython test: _TestSharedMemory.test_shared_memory_ShareableList_basics",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_ShareableList_basics", "_TestSharedMemory.test_shared_memory_ShareableList_pickling"},
	})
	listSlot = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.list-slot-size", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule:   "a str or bytes item longer than its slot is a ValueError that changes nothing; a shorter one fits; format changes with an item's type",
		Source: "CPython docs: ShareableList ('cannot be lengthened ... str and bytes ... limited by their initial size'), ShareableList.format",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_ShareableList_basics"},
	})
	managerUnlinks = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.manager-unlinks", Profile: catalogue.Extended, Features: []string{"shared_memory"},
		Rule:   "a SharedMemoryManager's segments and lists can be attached by name until its shutdown, which unlinks every one",
		Source: "CPython docs: multiprocessing.managers.SharedMemoryManager (shutdown 'will unlink all SharedMemory blocks')",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_SharedMemoryManager_basics", "_TestSharedMemory.test_shared_memory_ShareableList_pickling_dead_object"},
	})
	nothingLeft = catalogue.Add(catalogue.Behaviour{
		ID: "shared_memory.nothing-left", Profile: catalogue.Robust,
		Features: []string{"control", "process", "event", "shared_memory"},
		Rule:     "nothing a program created is left in /dev/shm once it has ended: not a segment it never unlinked, nor one whose creator, or main itself, was SIGKILLed",
		Source:   "mpconform robust profile; CPython's resource tracker unlinks such segments when the program ends, and warns",
		Guarantee: "A segment is registered with the program's shared-memory tracker before its file exists and unregistered " +
			"after unlink; the tracker, a process started by the first creator with no parent-death signal, outlives a " +
			"SIGKILL of any process and unlinks what is still registered when its starter has ended.",

		CPythonTests: []string{"_TestSharedMemory.test_shared_memory_cleaned_after_process_termination", "TestResourceTracker.test_resource_tracker"},
	})
)

// unique is a segment name no other run uses.
func unique(tag string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "mpc_" + tag + "_" + hex.EncodeToString(b)
}

// bytesOf reads a trace's bytes value.
func bytesOf(v any) []byte {
	s, _ := trace.Field(v, "bytes").(string)
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func b64(s string) map[string]any {
	return map[string]any{"bytes": base64.StdEncoding.EncodeToString([]byte(s))}
}

// errKind is the kind of a failed record, "" for a success.
func errKind(r trace.Record) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// kinds lists the error kinds of pid's records of op, in order.
func kinds(t *trace.Trace, pid int, op string) []string {
	var out []string
	for _, r := range t.Done(pid, op) {
		out = append(out, errKind(r))
	}
	return out
}

var _ = Describe("shared_memory", func() {
	suite.Spec(childSeesParent, "parent and child write 5 bytes each: by argument and by name", func() {
		name := unique("child")
		t := suite.Run(New("shared_memory/child-sees-parent").
			Resource("m", "shared_memory", "size", 64, "shm_name", name).
			Program("byRef", []string{"m"},
				On("shm.read", "m", "n", 5), On("shm.write", "m", "value", b64("child"), "offset", 8)).
			Program("byName", nil,
				Op("shm.attach", "as", "x", "name", name),
				On("shm.read", "x", "offset", 8, "n", 5), On("shm.write", "x", "value", b64("named"), "offset", 16),
				On("shm.close", "x")).
			Main(
				On("shm.write", "m", "value", b64("hello")),
				Spawn("a", "byRef", Ref("m")), Start("a"), Join("a"),
				Spawn("b", "byName"), Start("b"), Join("b"),
				On("shm.read", "m", "n", 21), On("shm.unlink", "m"),
			))
		a, b := suite.Program(t, "byRef"), suite.Program(t, "byName")
		Expect(kinds(t, a.Pid, "shm.read")).To(Equal([]string{""}))
		Expect(string(bytesOf(t.Values(a.Pid, "shm.read")[0]))).To(Equal("hello"), "the child by argument reads the parent's bytes")
		Expect(kinds(t, b.Pid, "shm.read")).To(Equal([]string{""}))
		Expect(string(bytesOf(t.Values(b.Pid, "shm.read")[0]))).To(Equal("child"), "the child by name reads its sibling's bytes")
		main := suite.Main(t)
		got := bytesOf(t.Values(main.Pid, "shm.read")[0])
		Expect(got).To(Equal(append([]byte("hello\x00\x00\x00child\x00\x00\x00"), "named"...)), "the parent reads its children's bytes")
	})

	suite.Spec(nameSize, "named and unnamed segments of 10 and 4097 bytes", func() {
		name := unique("named")
		t := suite.Run(New("shared_memory/name-size").
			Resource("n", "shared_memory", "size", 10, "shm_name", name).
			Resource("a", "shared_memory", "size", 4097).
			Main(
				Op("shm.create", "as", "b", "size", 1),
				On("shm.name", "n"), On("shm.name", "a"), On("shm.name", "b"),
				On("shm.size", "n"), On("shm.size", "a"), On("shm.size", "b"),
				On("shm.unlink", "n"), On("shm.unlink", "a"), On("shm.unlink", "b"),
			))
		main := suite.Main(t)
		names := t.Values(main.Pid, "shm.name")
		Expect(names).To(HaveLen(3))
		Expect(names[0]).To(Equal(name))
		Expect(names[1]).To(BeAssignableToTypeOf(""))
		Expect(names[1]).NotTo(BeEmpty())
		Expect(names[1]).NotTo(Equal(names[2]), "two unnamed segments get names of their own")
		sizes := t.Values(main.Pid, "shm.size")
		Expect(sizes).To(HaveLen(3))
		for i, want := range []int64{10, 4097, 1} {
			got, _ := trace.Int(sizes[i])
			Expect(got).To(BeNumerically(">=", want), "segment %d's size", i)
		}
		Expect(kinds(t, main.Pid, "shm.unlink")).To(Equal([]string{"", "", ""}))
	})

	suite.Spec(errorsB, "attach a missing name, create a taken one, sizes 0 and -1", func() {
		name := unique("taken")
		t := suite.Run(New("shared_memory/errors").
			Resource("m", "shared_memory", "size", 8, "shm_name", name).
			Main(
				Op("shm.attach", "as", "x", "name", unique("missing")),
				Op("shm.create", "as", "y", "size", 8, "name", name),
				Op("shm.create", "as", "z", "size", 0),
				Op("shm.create", "as", "z", "size", -1),
				On("shm.unlink", "m"),
			))
		main := suite.Main(t)
		Expect(kinds(t, main.Pid, "shm.attach")).To(Equal([]string{"NotFound"}))
		Expect(kinds(t, main.Pid, "shm.create")).To(Equal([]string{"Exists", "ValueError", "ValueError"}))
	})

	suite.Spec(closeUnlink, "close one of two handles, then unlink twice", func() {
		name := unique("closed")
		t := suite.Run(New("shared_memory/close-unlink").
			Resource("m", "shared_memory", "size", 8, "shm_name", name).
			Main(
				Op("shm.attach", "as", "x", "name", name),
				On("shm.close", "x"),
				On("shm.read", "x"), On("shm.write", "x", "value", b64("a")),
				On("shm.write", "m", "value", b64("b")), On("shm.read", "m", "n", 1),
				On("shm.unlink", "m"),
				Op("shm.attach", "as", "y", "name", name),
				On("shm.unlink", "m"),
				On("shm.read", "m", "n", 1),
			))
		main := suite.Main(t)
		Expect(kinds(t, main.Pid, "shm.read")).To(Equal([]string{"Closed", "", ""}))
		Expect(kinds(t, main.Pid, "shm.write")).To(Equal([]string{"Closed", ""}))
		reads := t.Values(main.Pid, "shm.read")
		Expect(string(bytesOf(reads[1]))).To(Equal("b"), "the other handle still works")
		Expect(string(bytesOf(reads[2]))).To(Equal("b"), "a mapping outlives the unlink of its name")
		Expect(kinds(t, main.Pid, "shm.attach")).To(Equal([]string{"", "NotFound"}))
		Expect(kinds(t, main.Pid, "shm.unlink")).To(Equal([]string{"", "NotFound"}))
	})

	suite.Spec(listShared, "a child attaches by name, reads the items and sets two", func() {
		name := unique("list")
		init := []any{1, 2.5, "ab", b64("xy"), nil, true, 1}
		t := suite.Run(New("shared_memory/list-shared").
			Resource("l", "shareable_list", "init", init, "shm_name", name).
			Program("child", []string{"l"},
				On("sl.list", "l"),
				Op("sl.attach", "as", "o", "name", name),
				On("sl.get", "o", "index", 6), On("sl.set", "o", "index", 0, "value", 42),
				On("sl.set", "l", "index", 2, "value", "cd")).
			Main(
				Spawn("c", "child", Ref("l")), Start("c"), Join("c"),
				On("sl.list", "l"), On("sl.len", "l"),
				On("sl.count", "l", "value", 1), On("sl.index", "l", "value", "cd"),
				On("sl.index", "l", "value", "nope"), On("sl.get", "l", "index", 7),
				On("shm.unlink", "l"),
			))
		c, main := suite.Program(t, "child"), suite.Main(t)
		Expect(kinds(t, c.Pid, "sl.list")).To(Equal([]string{""}))
		Expect(trace.JSON(t.Values(c.Pid, "sl.list")[0])).To(Equal(`[1,2.5,"ab",{"bytes":"eHk="},null,true,1]`))
		Expect(trace.JSON(t.Values(c.Pid, "sl.get"))).To(Equal(`[1]`))
		Expect(kinds(t, c.Pid, "sl.set")).To(Equal([]string{"", ""}))
		Expect(trace.JSON(t.Values(main.Pid, "sl.list")[0])).To(Equal(`[42,2.5,"cd",{"bytes":"eHk="},null,true,1]`),
			"the parent sees the child's sets")
		Expect(trace.JSON(t.Values(main.Pid, "sl.len"))).To(Equal(`[7]`))
		Expect(trace.JSON(t.Values(main.Pid, "sl.count"))).To(Equal(`[2]`), "1 and True are equal to 1, as in Python")
		Expect(kinds(t, main.Pid, "sl.index")).To(Equal([]string{"", "ValueError"}))
		Expect(trace.JSON(t.Values(main.Pid, "sl.index")[0])).To(Equal(`2`))
		Expect(kinds(t, main.Pid, "sl.get")).To(Equal([]string{"IndexError"}))
	})

	suite.Spec(listSlot, "an 8-byte str slot takes 7 bytes, not 9; an int becomes a float", func() {
		t := suite.Run(New("shared_memory/list-slot-size").
			Resource("l", "shareable_list", "init", []any{"ab", 7, b64("x")}).
			Main(
				On("sl.format", "l"),
				On("sl.set", "l", "index", 0, "value", "abcdefghi"),
				On("sl.set", "l", "index", 2, "value", b64("123456789")),
				On("sl.set", "l", "index", 0, "value", "abcdefg"),
				On("sl.set", "l", "index", 1, "value", 7.5),
				On("sl.format", "l"), On("sl.list", "l"),
				On("shm.unlink", "l"),
			))
		main := suite.Main(t)
		Expect(kinds(t, main.Pid, "sl.set")).To(Equal([]string{"ValueError", "ValueError", "", ""}))
		Expect(trace.JSON(t.Values(main.Pid, "sl.list")[0])).To(Equal(`["abcdefg",7.5,{"bytes":"eA=="}]`),
			"a refused set changes nothing")
		formats := t.Values(main.Pid, "sl.format")
		Expect(formats).To(HaveLen(2))
		Expect(formats[0]).NotTo(Equal(formats[1]), "the format follows item 1 from int to float")
	})

	suite.Spec(managerUnlinks, "a segment and a list, attached before and after shutdown", func() {
		t := suite.Run(New("shared_memory/manager-unlinks").
			Resource("smm", "shared_memory_manager").
			Main(
				On("smm.shared_memory", "smm", "as", "m", "size", 16),
				On("smm.shareable_list", "smm", "as", "l", "init", []any{"a", 1}),
				Op("shm.attach", "as", "m2", "on", "m"), Op("sl.attach", "as", "l2", "on", "l"),
				On("smm.shutdown", "smm"),
				Op("shm.attach", "as", "m3", "on", "m"), Op("sl.attach", "as", "l3", "on", "l"),
			))
		main := suite.Main(t)
		Expect(kinds(t, main.Pid, "smm.shared_memory")).To(Equal([]string{""}))
		Expect(kinds(t, main.Pid, "smm.shareable_list")).To(Equal([]string{""}))
		Expect(kinds(t, main.Pid, "shm.attach")).To(Equal([]string{"", "NotFound"}))
		Expect(kinds(t, main.Pid, "sl.attach")).To(Equal([]string{"", "NotFound"}))
	})

	suite.Spec(nothingLeft, "main never unlinks, a child is SIGKILLed; then main is", func() {
		kept, killed, mainKilled := unique("kept"), unique("killed"), unique("mainkilled")
		res, err := suite.RunAllowingErrors(New("shared_memory/nothing-left").
			Resource("kept", "shared_memory", "size", 16, "shm_name", kept).
			Resource("ready", "event").
			Program("creator", []string{"ready"},
				Op("shm.create", "as", "s", "size", 16, "name", killed), On("set", "ready"), Sleep(60_000)).
			Main(
				Spawn("c", "creator", Ref("ready")), Start("c"), On("wait", "ready"),
				Kill("c"), Join("c"),
			))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Leaks).To(BeEmpty(), "processes outlived the run")
		Expect(kinds(res.Trace, suite.Program(res.Trace, "creator").Pid, "shm.create")).To(Equal([]string{""}))
		Expect(res.ShmLeft).NotTo(ContainElement(filepath.Join("/dev/shm", kept)), "main's segment, never unlinked")
		Expect(res.ShmLeft).NotTo(ContainElement(filepath.Join("/dev/shm", killed)), "the killed child's segment")

		res, _ = suite.RunAllowingErrors(New("shared_memory/main-killed").
			Main(Op("shm.create", "as", "s", "size", 16, "name", mainKilled), Crash("SIGKILL")))
		Expect(res.Leaks).To(BeEmpty(), "processes outlived the killed main")
		Expect(kinds(res.Trace, suite.Main(res.Trace).Pid, "shm.create")).To(Equal([]string{""}))
		Expect(res.ShmLeft).NotTo(ContainElement(filepath.Join("/dev/shm", mainKilled)), "the killed main's segment")
	})
})
