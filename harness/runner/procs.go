package runner

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Proc is a process found in /proc.
type Proc struct {
	Pid, Ppid, Pgid int
	State           string // R, S, D, Z, ...
	Cmdline         string
}

func (p Proc) String() string {
	return fmt.Sprintf("pid %d (ppid %d): %s", p.Pid, p.Ppid, p.Cmdline)
}

var subreaper sync.Once

// adoptOrphans makes this process the reaper of its orphaned descendants, so that a
// driver's children that lose their parent stay visible to the sweep and are reaped
// here, not left as zombies of a container's init.
func adoptOrphans() {
	subreaper.Do(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// sweep waits up to grace for the run's processes to end, then kills and
// returns whatever is still alive. A run's processes are its process group
// and, to catch those that left it (setsid, a double fork), every process
// whose environment carries the run's mark. Zombies adopted by us are reaped.
func sweep(pgid int, mark string, grace time.Duration) []Proc {
	deadline := time.Now().Add(grace)
	for {
		alive := group(pgid)
		if len(alive) == 0 {
			alive = marked(mark) // costlier: only once the group is empty
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			alive = live(func(p Proc) bool { return p.Pgid == pgid || hasMark(p, mark) })
			killGroup(pgid)
			for _, p := range alive {
				_ = syscall.Kill(p.Pid, syscall.SIGKILL)
				reap(p.Pid, 0) // SIGKILLed: dies at once; ECHILD unless it is ours
			}
			return alive
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// group lists the live processes of process group pgid, reaping our zombies.
func group(pgid int) []Proc {
	return live(func(p Proc) bool { return p.Pgid == pgid })
}

// marked lists the live processes whose environment holds mark.
func marked(mark string) []Proc {
	return live(func(p Proc) bool { return hasMark(p, mark) })
}

func hasMark(p Proc, mark string) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/environ")
	return err == nil && bytes.Contains(env, []byte(mark+"\x00"))
}

// live lists the live processes that match, reaping our zombies.
func live(match func(Proc) bool) []Proc {
	var alive []Proc
	for _, p := range procs() {
		if p.Pid == os.Getpid() || !match(p) {
			continue
		}
		if p.State == "Z" || p.State == "X" {
			if p.Ppid == os.Getpid() {
				reap(p.Pid, unix.WNOHANG)
			}
			continue
		}
		alive = append(alive, p)
	}
	return alive
}

func reap(pid, options int) {
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, options, nil)
}

func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

// procs reads every process's stat line; processes that vanish meanwhile are skipped.
func procs() []Proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

func readProc(pid int) (Proc, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Proc{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return Proc{}, false
	}
	p := Proc{Pid: pid, State: f[0]}
	p.Ppid, _ = strconv.Atoi(f[1])
	p.Pgid, _ = strconv.Atoi(f[2])
	if cl, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil {
		p.Cmdline = strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
	}
	return p, true
}
