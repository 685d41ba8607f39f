package mp

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// envParent carries the name of the process that starts a child. A child
// reads it, and its parent's pid, once, before it could start a child of its
// own and so change both.
const envParent = "MPCONFORM_MP_PARENT"

var parentOf = struct {
	name string
	pid  int
}{os.Getenv(envParent), os.Getppid()}

var noteParentOnce sync.Once

// noteParent puts this process's name in the environment its children
// inherit (spares included: they are made only after a first Start).
func noteParent() {
	noteParentOnce.Do(func() { os.Setenv(envParent, self.name) })
}

// ParentProcess describes the process that created the calling one, as
// CPython's parent_process: its name and pid as they were when the caller
// started, even if the parent has exited since. In the main process, which
// no Process created, it returns false. Ppid and Daemon are not known.
func ParentProcess() (Info, bool) {
	if len(self.identity) == 0 {
		return Info{}, false
	}
	return Info{Name: parentOf.name, Pid: parentOf.pid}, true
}

// CPUCount returns the number of CPUs in the system, as CPython's
// cpu_count (os.cpu_count: the online CPUs, whatever this process's
// affinity allows), or runtime.NumCPU when the system does not say.
func CPUCount() int {
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if n := countCPUList(strings.TrimSpace(string(b))); n > 0 {
			return n
		}
	}
	return runtime.NumCPU()
}

// countCPUList counts the CPUs of a kernel CPU list ("0-3,6,8-9"); 0 when
// it is malformed.
func countCPUList(list string) int {
	n := 0
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}
