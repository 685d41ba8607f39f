// Package process holds the specs for Process: identity, parallelism, naming,
// exit codes and the life cycle (docs/behaviours.md, area "process").
package process

import (
	"errors"
	"fmt"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	"github.com/mpconform/mpconform/harness/runner"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	pidDistinct = catalogue.Add(catalogue.Behaviour{
		ID: "process.pid-distinct", Profile: catalogue.Core, Features: []string{"control", "process"},
		Rule:   "every started child has its own pid, different from its parent's",
		Source: "tutorial, program 1 (PID); CPython docs: Process.pid",
	})
	ppidIsCreator = catalogue.Add(catalogue.Behaviour{
		ID: "process.ppid-is-creator", Profile: catalogue.Core, Features: []string{"control", "process"},
		Rule:         "a child's ppid is the pid of the process that started it",
		Source:       "tutorial, program 1 (PID): os.getppid()",
		CPythonTests: []string{"TestStdinBadfiledescriptor.test_queue_in_process"},
	})
	parallel = catalogue.Add(catalogue.Behaviour{
		ID: "process.parallel", Profile: catalogue.Core, Features: []string{"control", "process"},
		Rule:   "N children that each sleep T run at the same time: some instant lies inside every child's sleep",
		Source: "tutorial, program 2 (parallel processes)",
	})
	names = catalogue.Add(catalogue.Behaviour{
		ID: "process.names", Profile: catalogue.Core, Features: []string{"control", "process"},
		Rule:   "default names are <prefix>-<k>, k counting the creations in the creating process (zx-1, zx-2, zx-3, then Process-4)",
		Source: "tutorial, program 2; CPython: BaseProcess.__init__ (_identity, one counter per process)",
	})
	nondaemonJoined = catalogue.Add(catalogue.Behaviour{
		ID: "process.nondaemon-joined", Profile: catalogue.Core, Features: []string{"control", "process"},
		Rule:   "when main ends, non-daemon children still run to completion, and main ends after them",
		Source: "tutorial, program 6 (daemon) without daemon; CPython: util._exit_function joins children",
	})
	namesNested = catalogue.Add(catalogue.Behaviour{
		ID: "process.names-nested", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "a child's children are named <prefix>-<parent identity>:<k> (Process-1:1, Process-1:2); an explicit name is kept",
		Source:       "CPython docs: Process.name; test_multiprocessing: test_process (_identity)",
		CPythonTests: []string{"_TestProcess.test_recursion"},
	})
	exitNormal = catalogue.Add(catalogue.Behaviour{
		ID: "process.exitcode-normal", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "exitcode is 0 when the target returns, 1 when it raises, n after exit(n)",
		Source:       "CPython docs: Process.exitcode; test_multiprocessing: test_exitcode / _test_sys_exit",
		CPythonTests: []string{"_TestSubclassingProcess.test_sys_exit"},
	})
	exitSignal = catalogue.Add(catalogue.Behaviour{
		ID: "process.exitcode-signal", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "a child stopped by terminate() has exitcode -15 (SIGTERM), by kill() -9 (SIGKILL)",
		Source:       "CPython docs: Process.terminate, Process.kill, exitcode; test_multiprocessing: test_terminate, test_kill",
		CPythonTests: []string{"_TestProcess.test_terminate", "_TestProcess.test_kill", "_TestProcess.test_many_processes"},
	})
	joinTimeout = catalogue.Add(catalogue.Behaviour{
		ID: "process.join-timeout", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "join(timeout) on a running child returns no earlier than the timeout, leaves it running, and exitcode stays None",
		Source:       "CPython docs: Process.join; test_multiprocessing: test_process (join with timeout)",
		CPythonTests: []string{"_TestProcess.test_terminate"},
	})
	isAlive = catalogue.Add(catalogue.Behaviour{
		ID: "process.is-alive", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:         "is_alive is false before start, true while the child runs, false after join; pid is None before start",
		Source:       "CPython docs: Process.is_alive; test_multiprocessing: test_process",
		CPythonTests: []string{"_TestProcess.test_process"},
	})
	noOrphans = catalogue.Add(catalogue.Behaviour{
		ID: "process.no-orphans", Profile: catalogue.Robust, Features: []string{"control", "process", "daemon", "event"},
		Rule:   "the children of a process killed by SIGKILL, daemonic or not, stop within a grace period (1 s) instead of running on as orphans",
		Source: "mpconform robust profile; CPython: gh-80180 (children outlive a parent killed by SIGKILL)",
		Guarantee: "Every child of mp is started with PR_SET_PDEATHSIG = SIGKILL (the ParentDeathSignal option), " +
			"set from an OS thread that stays locked for the child's whole life (golang/go#27505), so the kernel " +
			"kills the child as soon as its parent dies, whatever killed the parent; grandchildren follow, " +
			"each with its own parent. A child started with ParentDeathSignal(0) opts out.",
	})
	killedMain = catalogue.Add(catalogue.Behaviour{
		ID: "process.killed-main-leaves-nothing", Profile: catalogue.Robust,
		Features: []string{"control", "process", "daemon", "semaphore", "lock", "queue", "pipe"},
		Rule:     "a main program killed by SIGKILL while its children run and its primitives are in use leaves no process, nothing in $TMPDIR and nothing in /dev/shm",
		Source:   "mpconform robust profile; CPython: gh-80180 (orphans), and semaphores left in /dev/shm when the resource tracker dies",
		Guarantee: "mp names no file: its shared memory is anonymous (memfd), its pipes and sockets are unnamed " +
			"(pipe2, socketpair), and a manager listens on an abstract unix socket unless given a path, so a " +
			"killed process leaves nothing in /tmp or /dev/shm; the kernel frees each object with its last " +
			"descriptor. With no process left (process.no-orphans), nothing remains.",
	})
	many = catalogue.Add(catalogue.Behaviour{
		ID: "process.many", Profile: catalogue.Robust, Features: []string{"control", "process"},
		Rule:         "1 000 processes started and joined one after another, then 200 alive at once: each runs and exits 0, with its own pid, and none is left",
		Source:       "mpconform robust profile",
		CPythonTests: []string{"_TestProcess.test_many_processes"},
	})
	startTwice = catalogue.Add(catalogue.Behaviour{
		ID: "process.start-twice", Profile: catalogue.Extended, Features: []string{"control", "process"},
		Rule:   "starting a process a second time fails with NotAllowed and starts nothing",
		Source: "CPython: BaseProcess.start asserts 'cannot start a process twice'",
	})
)

// ints converts JSON integers; a non-integer becomes a sentinel that fails equality.
func ints(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		if n, ok := trace.Int(v); ok {
			out[i] = int(n)
		} else {
			out[i] = v
		}
	}
	return out
}

var _ = Describe("process", func() {
	suite.Spec(pidDistinct, "three children and main have four distinct pids, as start reports them", func() {
		t := suite.Run(New("process/pid-distinct").
			Program("info", nil, Emit("info")).
			Main(
				Repeat(3, "", Spawn("c", "info")),
				Start("c"),
				Join("c"),
			))
		m := suite.Main(t)
		kids := t.Children()
		Expect(kids).To(HaveLen(3), "three children recorded")
		seen := map[int]bool{m.Pid: true}
		for _, k := range kids {
			Expect(seen).NotTo(HaveKey(k.Pid), "pid %d is shared", k.Pid)
			seen[k.Pid] = true
		}
		var started []any
		for _, k := range kids {
			started = append(started, k.Pid)
		}
		Expect(ints(t.Values(m.Pid, "start"))).To(ConsistOf(started...), "start reports the pids the children record")
	})

	suite.Spec(ppidIsCreator, "a child's ppid is main; a grandchild's is that child", func() {
		t := suite.Run(New("process/ppid").
			Program("grandchild", nil, Emit("grandchild")).
			Program("child", nil, Spawn("g", "grandchild"), Start("g"), Join("g")).
			Main(Spawn("c", "child"), Start("c"), Join("c")))
		m := suite.Main(t)
		byProgram := map[string]trace.Process{}
		for _, p := range t.Children() {
			byProgram[p.Program] = p
		}
		Expect(byProgram).To(HaveKey("child"))
		Expect(byProgram).To(HaveKey("grandchild"))
		Expect(byProgram["child"].Ppid).To(Equal(m.Pid), "child's ppid")
		Expect(byProgram["grandchild"].Ppid).To(Equal(byProgram["child"].Pid), "grandchild's ppid")
	})

	suite.Spec(parallel, "four children sleeping 1 s overlap", func() {
		t := suite.Run(New("process/parallel").
			Program("nap", nil, Sleep(1000)).
			Main(Repeat(4, "", Spawn("w", "nap")), Start("w"), Join("w")))
		sleeps := t.Op("sleep")
		Expect(sleeps).To(HaveLen(4))
		Expect(check.CommonPoint(check.Spans(sleeps))).To(Succeed())
	})

	suite.Spec(names, "zx-1, zx-2, zx-3, then Process-4", func() {
		t := suite.Run(New("process/names").
			Program("info", nil, Emit("info")).
			Main(
				Repeat(3, "", Spawn("z", "info").With("prefix", "zx")),
				Spawn("p", "info"),
				Start("z"), Start("p"), Join("z"), Join("p"),
			))
		m := suite.Main(t)
		want := []any{"zx-1", "zx-2", "zx-3", "Process-4"}
		Expect(t.Values(m.Pid, "spawn")).To(Equal(want), "names given at creation")
		var recorded []any
		for _, k := range t.Children() {
			recorded = append(recorded, k.Name)
		}
		Expect(recorded).To(ConsistOf(want...), "names the children record")
	})

	suite.Spec(nondaemonJoined, "main ends while a child sleeps; the child finishes first", func() {
		t := suite.Run(New("process/nondaemon-joined").
			Program("late", nil, Sleep(500), Emit("done")).
			Main(Spawn("c", "late"), Start("c")))
		m := suite.Main(t)
		kids := t.Children()
		Expect(kids).To(HaveLen(1))
		k := kids[0]
		Expect(t.Values(k.Pid, "emit")).To(Equal([]any{"done"}), "the child ran to completion")
		Expect(k.End).NotTo(BeNil(), "the child wrote process.end")
		Expect(m.End).NotTo(BeNil(), "main wrote process.end")
		Expect(check.Before([]trace.Record{*k.End}, []trace.Record{*m.End})).To(Succeed(), "main ends after its child")
	})

	suite.Spec(namesNested, "Process-1's children are Process-1:1 and Process-1:2; an explicit name is kept", func() {
		t := suite.Run(New("process/names-nested").
			Program("leaf", nil, Emit("leaf")).
			Program("parent", nil,
				Repeat(2, "", Spawn("g", "leaf")),
				Start("g"), Join("g")).
			Main(
				Spawn("c", "parent"),
				Spawn("n", "leaf").With("name", "worker α"),
				Start("c"), Start("n"), Join("c"), Join("n"),
			))
		var got []any
		for _, k := range t.Children() {
			got = append(got, k.Name)
		}
		Expect(got).To(ConsistOf("Process-1", "Process-1:1", "Process-1:2", "worker α"))
	})

	suite.Spec(exitNormal, "return 0, raise 1, exit(3) 3", func() {
		t := suite.Run(New("process/exitcode-normal").
			Program("ok", nil, Return(nil)).
			Program("fails", nil, Raise("boom")).
			Program("exits", nil, Exit(3)).
			Main(
				Spawn("a", "ok"), Spawn("b", "fails"), Spawn("c", "exits"),
				Start("a"), Start("b"), Start("c"),
				Join("a"), Join("b"), Join("c"),
				ExitCode("a"), ExitCode("b"), ExitCode("c"),
			))
		m := suite.Main(t)
		Expect(ints(t.Values(m.Pid, "join"))).To(Equal([]any{0, 1, 3}), "join's exit codes")
		Expect(ints(t.Values(m.Pid, "exitcode"))).To(Equal([]any{0, 1, 3}), "exitcode after join")
	})

	suite.Spec(exitSignal, "terminate gives -15, kill -9", func() {
		t := suite.Run(New("process/exitcode-signal").
			Program("forever", nil, Emit("up"), Sleep(60_000)).
			Main(
				Spawn("t", "forever"), Spawn("k", "forever"),
				Start("t"), Start("k"),
				Sleep(300),
				Terminate("t"), Kill("k"),
				Join("t"), Join("k"),
				ExitCode("t"), ExitCode("k"),
			))
		m := suite.Main(t)
		Expect(ints(t.Values(m.Pid, "join"))).To(Equal([]any{-15, -9}), "join's exit codes")
		Expect(ints(t.Values(m.Pid, "exitcode"))).To(Equal([]any{-15, -9}), "exitcode after join")
	})

	suite.Spec(joinTimeout, "join(200 ms) on a sleeping child leaves it running", func() {
		t := suite.Run(New("process/join-timeout").
			Program("slow", nil, Sleep(60_000)).
			Main(
				Spawn("c", "slow"), Start("c"),
				JoinTimeout("c", 200),
				IsAlive("c"), ExitCode("c"),
				Terminate("c"), Join("c"),
			))
		m := suite.Main(t)
		var timed trace.Record
		for _, r := range t.Of(m.Pid) {
			if r.Op == "join" && !r.Pending && r.In["timeout"] != nil {
				timed = r
			}
		}
		Expect(timed.Op).To(Equal("join"), "the timed join completed")
		Expect(timed.OK).To(BeTrue())
		Expect(timed.Value).To(BeNil(), "join(timeout) reports no exit code while the child runs")
		Expect(timed.T1-timed.T0).To(BeNumerically(">=", suite.Scale(200).Nanoseconds()-int64(1e6)), "join returned before its timeout")
		Expect(t.Values(m.Pid, "is_alive")).To(Equal([]any{true}))
		Expect(t.Values(m.Pid, "exitcode")).To(Equal([]any{nil}))
	})

	suite.Spec(isAlive, "false before start, true while running, false after join", func() {
		t := suite.Run(New("process/is-alive").
			Program("nap", nil, Sleep(500)).
			Main(
				Spawn("c", "nap"),
				IsAlive("c"), Op("pid", "proc", "c"),
				Start("c"), IsAlive("c"),
				Join("c"), IsAlive("c"),
			))
		m := suite.Main(t)
		Expect(t.Values(m.Pid, "is_alive")).To(Equal([]any{false, true, false}))
		Expect(t.Values(m.Pid, "pid")).To(Equal([]any{nil}), "pid before start")
	})

	suite.Spec(startTwice, "a second start fails with NotAllowed; one child ran", func() {
		t := suite.Run(New("process/start-twice").
			Program("once", nil, Emit("ran")).
			Main(Spawn("c", "once"), Start("c"), Start("c"), Join("c")))
		m := suite.Main(t)
		starts := t.Done(m.Pid, "start")
		Expect(starts).To(HaveLen(2))
		Expect(starts[0].OK).To(BeTrue(), "first start")
		Expect(starts[1].Kind()).To(Equal("NotAllowed"), "second start")
		Expect(t.Children()).To(HaveLen(1), "one child ran")
	})

	// The parent starts a daemonic and a non-daemonic child that tick every
	// 50 ms for 5 s, then is killed; main watches for 2 s more.
	suite.Spec(noOrphans, "a parent is killed while its two children tick", func() {
		tick := Repeat(100, "", Emit("tick"), Sleep(50))
		res, err := suite.RunAllowingErrors(New("process/no-orphans").
			Resource("e", "event").
			Program("tick", nil, tick).
			Program("parent", []string{"e"},
				Spawn("d", "tick").With("daemon", true), Spawn("n", "tick"), Start("d"), Start("n"),
				On("set", "e"), Sleep(60_000)).
			Main(Spawn("p", "parent", Ref("e")), Start("p"), On("wait", "e"), Sleep(300), Kill("p"), Join("p"), Sleep(2_000)))
		Expect(err).NotTo(HaveOccurred())
		t := res.Trace
		kill := t.Done(suite.Main(t).Pid, "kill")
		Expect(kill).To(HaveLen(1))
		grace := suite.Scale(1_000).Nanoseconds()
		var ticking int
		for _, c := range t.Children() {
			if c.Program != "tick" {
				continue
			}
			ticks := t.Done(c.Pid, "emit")
			Expect(ticks).NotTo(BeEmpty(), "%s never ticked", c.Name)
			ticking++
			last := ticks[len(ticks)-1]
			Expect(last.T0).To(BeNumerically("<=", kill[0].T1+grace),
				"%s ticked %.1f s after its parent was killed: %s", c.Name, float64(last.T0-kill[0].T1)/1e9, last)
		}
		Expect(ticking).To(Equal(2), "both children ran")
		Expect(res.Leaks).To(BeEmpty(), "processes outlived the run (killed now)")
	})

	// Main makes one primitive of each kind, starts a daemonic and a
	// non-daemonic child that use them and sleep, waits until both run, and
	// kills itself.
	suite.Spec(killedMain, "main SIGKILLs itself while two children hold its primitives", func() {
		res, err := suite.RunAllowingErrors(New("process/killed-main").
			Resource("ready", "semaphore", "value", 0).
			Resource("l", "lock").Resource("q", "queue").Resource("p", "pipe").
			Program("child", []string{"ready", "l", "q", "conn"},
				On("put", "q", "value", 1), On("send", "p.1", "value", "hi"), On("acquire", "l", "timeout", 100),
				On("release", "ready"), Sleep(30_000)).
			Main(
				Spawn("c", "child", Ref("ready"), Ref("l"), Ref("q"), Ref("p.1")).With("daemon", true),
				Spawn("c", "child", Ref("ready"), Ref("l"), Ref("q"), Ref("p.1")),
				Start("c"), On("acquire", "ready"), On("acquire", "ready"),
				Crash("SIGKILL"),
			))
		var de *runner.DriverError
		Expect(errors.As(err, &de)).To(BeTrue(), "the driver's main was killed, so the driver fails: %v", err)
		Expect(res.Trace.Children()).To(HaveLen(2))
		Expect(res.Leaks).To(BeEmpty(), "processes outlived the killed main (killed now)")
		Expect(res.TempLeft).To(BeEmpty(), "files left in $TMPDIR")
		// A file still open or mapped once the run's processes are gone (the
		// leaks above were killed first) is another program's: go test runs
		// other packages' drivers beside this one.
		Expect(res.Leftovers()).To(BeEmpty(), "files left in $TMPDIR or /dev/shm")
	})

	suite.Spec(many, "1 000 in sequence, then 200 at once", func() {
		const sequence, together = 1_000, 200
		// CPython's spawn start method takes about 60 ms a process here.
		t := suite.RunWithin(300_000, New("process/many").
			Program("one", nil, Emit("ran")).
			Main(
				Repeat(sequence, "k", Spawn("s", "one"), Op("start", "proc", "s", "index", Param("k")), Op("join", "proc", "s", "index", Param("k"))),
				Repeat(together, "", Spawn("t", "one")), Start("t"), Join("t"),
			))
		kids := t.Children()
		Expect(kids).To(HaveLen(sequence+together), "children that wrote a trace")
		pids := map[int]bool{}
		var bad []string
		for _, k := range kids {
			pids[k.Pid] = true
			if len(t.Values(k.Pid, "emit")) != 1 || k.End == nil || fmt.Sprint(trace.Field(k.End.Value, "exitcode")) != "0" {
				bad = append(bad, k.Name)
			}
		}
		Expect(bad).To(BeEmpty(), "children that did not run once and exit 0")
		m := suite.Main(t).Pid
		var starts []int64
		for _, v := range t.Values(m, "start") {
			n, _ := trace.Int(v)
			starts = append(starts, n)
		}
		Expect(starts).To(HaveLen(sequence + together))
		for _, p := range starts {
			Expect(pids).To(HaveKey(int(p)), "start reported pid %d, which wrote no trace", p)
		}
	})
})
