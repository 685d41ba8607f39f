package process

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// The rest of Process: close, the sentinel, kwargs, the calling process's
// own description, cpu_count, and the exit codes of sys.exit and os._exit.
var (
	closeRunning = catalogue.Add(catalogue.Behaviour{
		ID: "process.close-running", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "close() of a running process fails with ValueError and leaves it running; once it has ended, close succeeds, and a second close does nothing",
		Source:       "CPython docs: Process.close ('ValueError is raised if the underlying process is still running'); CPython test: _test_multiprocessing.py _TestProcess.test_close",
		CPythonTests: []string{"_TestProcess.test_close"},
	})
	closedUse = catalogue.Add(catalogue.Behaviour{
		ID: "process.closed", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "after close(), start, join, is_alive, exitcode, pid, terminate, kill and the sentinel fail with Closed; name still answers; a process closed before start never runs",
		Source:       "CPython docs: Process.close ('most other methods and attributes of the Process object will raise ValueError'); CPython: BaseProcess._check_closed",
		CPythonTests: []string{"_TestProcess.test_close"},
	})
	sentinel = catalogue.Add(catalogue.Behaviour{
		ID: "process.sentinel", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "the sentinel is a ValueError before start, not ready while the process runs (a timed wait on it returns false), and ready once the process has ended, without a join",
		Source:       "CPython docs: Process.sentinel, multiprocessing.connection.wait; CPython test: _test_multiprocessing.py _TestProcess.test_sentinel",
		CPythonTests: []string{"_TestProcess.test_sentinel"},
	})
	kwargs = catalogue.Add(catalogue.Behaviour{
		ID: "process.kwargs", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "Process(args=..., kwargs=...) calls the target with the args, then the kwargs by name, whatever their order",
		Source:       "CPython docs: Process(group, target, name, args, kwargs); CPython test: _test_multiprocessing.py _TestProcess.test_process (kwargs)",
		CPythonTests: []string{"_TestProcess.test_args_argument"},
	})
	parentProcess = catalogue.Add(catalogue.Behaviour{
		ID: "process.parent-process", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "parent_process() is None in main; in a child it has its creator's name and pid (main's, or for a grandchild the child's)",
		Source:       "CPython docs: multiprocessing.parent_process; CPython test: _test_multiprocessing.py _TestProcess.test_parent_process",
		CPythonTests: []string{"_TestProcess.test_parent_process_attributes"},
	})
	currentProcess = catalogue.Add(catalogue.Behaviour{
		ID: "process.current-process", Profile: catalogue.Extended, Features: []string{"control", "process", "daemon"},
		Rule:         "current_process() gives the caller's name, pid and daemon flag: MainProcess, not daemonic, in main; a daemonic child's own name, pid and true in it",
		Source:       "CPython docs: multiprocessing.current_process; CPython test: _test_multiprocessing.py _TestProcess.test_current",
		CPythonTests: []string{"_TestProcess.test_current", "_TestProcess.test_daemon_argument"},
	})
	cpuCount = catalogue.Add(catalogue.Behaviour{
		ID: "process.cpu-count", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "cpu_count() is at least 1, the same in main and in a child, and equals os.cpu_count(): the CPUs online",
		Source:       "CPython docs: multiprocessing.cpu_count ('Return the number of CPUs in the system'), os.cpu_count",
		CPythonTests: []string{"_TestProcess.test_cpu_count"},
	})
	exitMessage = catalogue.Add(catalogue.Behaviour{
		ID: "process.exit-message", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "sys.exit(\"message\") in a child gives exitcode 1 and writes the message to stderr; sys.exit() gives 0",
		Source:       "CPython docs: Process.exitcode, sys.exit; CPython test: _test_multiprocessing.py _TestSubclassingProcess.test_sys_exit",
		CPythonTests: []string{"_TestSubclassingProcess.test_sys_exit"},
	})
	osExit = catalogue.Add(catalogue.Behaviour{
		ID: "process.os-exit", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:   "os._exit(7) gives exitcode 7 at once: the child skips the end-of-program work (it does not wait for its own child, as sys.exit(7) does) and writes no process.end",
		Source: "CPython docs: os._exit ('Exit the process with status n, without calling cleanup handlers'), Process.exitcode",
	})
	exitOwnSignal = catalogue.Add(catalogue.Behaviour{
		ID: "process.exitcode-own-signal", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:   "a child that dies of a signal it sent itself has exitcode -signal: SIGSEGV -11, SIGABRT -6, SIGINT -2, as one its parent killed",
		Source: "CPython docs: Process.exitcode ('A negative value -N indicates that the child was terminated by signal N'); CPython: popen_fork.Popen.poll (os.waitstatus_to_exitcode)",
	})
)

// lookup reads key from a dict value of the trace, as JSON text.
func lookup(v any, key string) string { return trace.JSON(trace.Lookup(v, key)) }

// onlineCPUs is os.cpu_count() on Linux, the CPUs of
// /sys/devices/system/cpu/online; 0 when it cannot be read.
func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return 0
	}
	n := 0
	for part := range strings.SplitSeq(strings.TrimSpace(string(b)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(lo)
		z, errZ := strconv.Atoi(hi)
		switch {
		case errA != nil:
			return 0
		case !isRange:
			n++
		case errZ != nil:
			return 0
		default:
			n += z - a + 1
		}
	}
	return n
}

var _ = Describe("process, the rest of it", func() {
	suite.Spec(closeRunning, "close while it sleeps: ValueError, still alive; after terminate and join, close twice", func() {
		t := suite.Run(New("process/close-running").
			Program("nap", nil, Sleep(60_000)).
			Main(
				Spawn("c", "nap"), Start("c"),
				Op("close", "proc", "c"), IsAlive("c"),
				Terminate("c"), Join("c"),
				Op("close", "proc", "c"), Op("close", "proc", "c"),
			))
		m := suite.Main(t).Pid
		closes := t.Done(m, "close")
		Expect(closes).To(HaveLen(3))
		Expect(closes[0].Kind()).To(Equal("ValueError"), "close of a running process: %s", closes[0])
		Expect(t.Values(m, "is_alive")).To(Equal([]any{true}), "the refused close left it running")
		Expect(closes[1].OK).To(BeTrue(), "close after join: %s", closes[1])
		Expect(closes[2].OK).To(BeTrue(), "a second close: %s", closes[2])
	})

	suite.Spec(closedUse, "every use of a closed process is Closed but its name; closed before start, it never runs", func() {
		uses := []Step{Start("c"), Join("c"), IsAlive("c"), ExitCode("c"), Op("pid", "proc", "c"),
			Terminate("c"), Kill("c"), Op("wait_sentinel", "proc", "c")}
		main := append([]Step{Spawn("c", "once"), Start("c"), Join("c"), Op("close", "proc", "c")}, uses...)
		main = append(main, Op("name", "proc", "c"),
			Spawn("u", "once"), Op("close", "proc", "u"), Start("u"))
		t := suite.Run(New("process/closed").Program("once", nil, Emit("ran")).Main(main...))
		m := suite.Main(t).Pid
		for _, st := range uses {
			op := st["op"].(string)
			rs := t.Done(m, op)
			Expect(rs).NotTo(BeEmpty(), op)
			last := rs[len(rs)-1]
			Expect(last.Kind()).To(Equal("Closed"), "%s after close: %s", op, last)
		}
		Expect(t.Values(m, "name")).To(Equal([]any{"Process-1"}), "name after close")
		starts := t.Done(m, "start")
		Expect(starts[len(starts)-1].Kind()).To(Equal("Closed"), "start of a process closed before start")
		Expect(t.Children()).To(HaveLen(1), "only the first process ran")
	})

	suite.Spec(sentinel, "before start ValueError; a 200 ms wait while it sleeps false; then a long wait true, after its end", func() {
		t := suite.Run(New("process/sentinel").
			Program("nap", nil, Sleep(2_000)).
			Main(
				Spawn("c", "nap"), Op("wait_sentinel", "proc", "c", "timeout", 10),
				Start("c"),
				Op("wait_sentinel", "proc", "c", "timeout", 200),
				Op("wait_sentinel", "proc", "c", "timeout", 30_000),
				Join("c"),
			))
		m := suite.Main(t).Pid
		waits := t.Done(m, "wait_sentinel")
		Expect(waits).To(HaveLen(3))
		Expect(waits[0].Kind()).To(Equal("ValueError"), "the sentinel before start: %s", waits[0])
		Expect(waits[1].Value).To(Equal(false), "ready while the child sleeps: %s", waits[1])
		Expect(waits[1].T1-waits[1].T0).To(BeNumerically(">=", suite.Scale(200).Nanoseconds()-int64(1e6)),
			"the timed wait returned before its timeout")
		Expect(waits[2].Value).To(Equal(true), "not ready once the child ended: %s", waits[2])
		kids := t.Children()
		Expect(kids).To(HaveLen(1))
		Expect(kids[0].End).NotTo(BeNil(), "the child's process.end")
		Expect(waits[2].T1).To(BeNumerically(">=", kids[0].End.T1), "the sentinel was ready before the child ended")
	})

	suite.Spec(kwargs, "args [1], kwargs c then b: the target gets a=1, b, c by name", func() {
		t := suite.Run(New("process/kwargs").
			Program("kw", []string{"a", "b", "c"}, Emit([]any{Param("a"), Param("b"), Param("c")})).
			Main(
				Spawn("p", "kw", 1).With("kwargs", Dict([2]any{"c", "third"}, [2]any{"b", 2.5})),
				Start("p"), Join("p"),
			))
		kids := t.Children()
		Expect(kids).To(HaveLen(1))
		got := t.Values(kids[0].Pid, "emit")
		Expect(got).To(HaveLen(1))
		Expect(trace.JSON(got[0])).To(Equal(`[1,2.5,"third"]`), "the target's params")
	})

	suite.Spec(parentProcess, "None in main; MainProcess in a child; the child in a grandchild", func() {
		t := suite.Run(New("process/parent-process").
			Program("leaf", nil, Op("parent_process")).
			Program("mid", nil, Op("parent_process"), Spawn("g", "leaf"), Start("g"), Join("g")).
			Main(Op("parent_process"), Spawn("c", "mid").With("name", "middle"), Start("c"), Join("c")))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "parent_process")).To(Equal([]any{nil}), "parent_process() in main")
		mid, ok := t.Program("mid")
		Expect(ok).To(BeTrue())
		leaf, ok := t.Program("leaf")
		Expect(ok).To(BeTrue())
		for _, c := range []struct {
			who  trace.Process
			name string
			pid  int
		}{{mid, "MainProcess", m.Pid}, {leaf, "middle", mid.Pid}} {
			vs := t.Values(c.who.Pid, "parent_process")
			Expect(vs).To(HaveLen(1))
			Expect(lookup(vs[0], "name")).To(Equal(trace.JSON(c.name)), "%s's parent's name", c.who.Name)
			Expect(lookup(vs[0], "pid")).To(Equal(fmt.Sprint(c.pid)), "%s's parent's pid", c.who.Name)
		}
	})

	suite.Spec(currentProcess, "main: MainProcess, its pid, not daemonic; a daemonic child: its name, pid, daemonic", func() {
		t := suite.Run(New("process/current-process").
			Program("me", nil, Op("current_process")).
			Main(Op("current_process"), Spawn("d", "me").With("daemon", true).With("name", "dæmon"), Start("d"), Join("d")))
		m := suite.Main(t)
		kids := t.Children()
		Expect(kids).To(HaveLen(1))
		for _, c := range []struct {
			pid    int
			name   string
			daemon bool
		}{{m.Pid, "MainProcess", false}, {kids[0].Pid, "dæmon", true}} {
			vs := t.Values(c.pid, "current_process")
			Expect(vs).To(HaveLen(1))
			Expect(lookup(vs[0], "name")).To(Equal(trace.JSON(c.name)), "name")
			Expect(lookup(vs[0], "pid")).To(Equal(fmt.Sprint(c.pid)), "pid of %s", c.name)
			Expect(lookup(vs[0], "daemon")).To(Equal(fmt.Sprint(c.daemon)), "daemon of %s", c.name)
		}
	})

	suite.Spec(cpuCount, "main's and a child's cpu_count, and the CPUs online", func() {
		t := suite.Run(New("process/cpu-count").
			Program("count", nil, Op("cpu_count")).
			Main(Op("cpu_count"), Spawn("c", "count"), Start("c"), Join("c")))
		m := suite.Main(t)
		kids := t.Children()
		Expect(kids).To(HaveLen(1))
		main, child := t.Values(m.Pid, "cpu_count"), t.Values(kids[0].Pid, "cpu_count")
		Expect(main).To(HaveLen(1))
		Expect(child).To(Equal(main), "the child's count")
		n, ok := trace.Int(main[0])
		Expect(ok).To(BeTrue(), "cpu_count is an int: %v", main[0])
		Expect(n).To(BeNumerically(">=", 1))
		if online := onlineCPUs(); online > 0 {
			Expect(n).To(BeEquivalentTo(online), "os.cpu_count(): the CPUs online")
		}
	})

	suite.Spec(exitMessage, "sys.exit(message) gives 1 and the message on stderr; sys.exit() gives 0", func() {
		const message = "child says goodbye"
		res, err := suite.RunAllowingErrors(New("process/exit-message").
			Program("says", nil, Op("exit", "message", message)).
			Program("none", nil, Op("exit")).
			Main(Spawn("s", "says"), Spawn("n", "none"), Start("s"), Start("n"), Join("s"), Join("n")))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Leaks).To(BeEmpty())
		t := res.Trace
		Expect(ints(t.Values(suite.Main(t).Pid, "join"))).To(Equal([]any{1, 0}), "exit codes")
		Expect(string(res.Stderr)).To(ContainSubstring(message+"\n"), "the message on stderr")
	})

	// The child starts a grandchild that sleeps, then exits: sys.exit
	// waits for the grandchild first (§9), os._exit does not. A grandchild
	// left behind may be killed with its parent (the reference's
	// parent-death signal) or run on; either way its end comes after the
	// os._exit.
	suite.Spec(osExit, "exit(7) after starting a 1 s grandchild waits for it; os_exit(7) does not", func() {
		t := suite.Run(New("process/os-exit").
			Program("late", nil, Sleep(1_000), Emit("late")).
			Program("sys", nil, Spawn("g", "late"), Start("g"), Exit(7)).
			Program("os", nil, Spawn("g", "late"), Start("g"), Op("os_exit", "code", 7)).
			Main(
				Spawn("s", "sys"), Start("s"), Join("s"),
				Spawn("o", "os"), Start("o"), Join("o"),
				Sleep(1_500), // a grandchild that runs on ends before main
			))
		m := suite.Main(t).Pid
		joins := t.Done(m, "join")
		Expect(ints(t.Values(m, "join"))).To(Equal([]any{7, 7}), "exit codes")
		var lates []trace.Record
		for _, p := range t.Children() {
			if p.Program == "sys" || p.Program == "os" {
				Expect(p.End).To(BeNil(), "%s wrote process.end", p.Program)
			}
			if p.Program == "late" {
				lates = append(lates, t.Done(p.Pid, "emit")...)
			}
		}
		Expect(lates).NotTo(BeEmpty(), "sys.exit's grandchild ran to its end")
		Expect(lates[0].T1).To(BeNumerically("<=", joins[0].T1), "sys.exit(7) ended before its child")
		for _, l := range lates[1:] {
			Expect(l.T0).To(BeNumerically(">=", joins[1].T1), "os._exit(7) waited for its child")
		}
	})

	suite.Spec(exitOwnSignal, "children crash with SIGSEGV, SIGABRT and SIGINT: -11, -6, -2", func() {
		signals := []string{"SIGSEGV", "SIGABRT", "SIGINT"}
		s := New("process/exitcode-own-signal")
		var main []Step
		for i, sig := range signals {
			prog := fmt.Sprint("crash", i)
			s = s.Program(prog, nil, Emit(sig), Crash(sig), Emit("survived"))
			main = append(main, Spawn(prog, prog), Start(prog), Join(prog))
		}
		t := suite.Run(s.Main(main...))
		Expect(ints(t.Values(suite.Main(t).Pid, "join"))).To(Equal([]any{-11, -6, -2}), "exit codes")
		for _, k := range t.Children() {
			Expect(t.Values(k.Pid, "emit")).To(HaveLen(1), "%s went on after its crash", k.Name)
		}
	})
})
