package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The harness's scratch directories (the build's bin, each run's trace and
// TMPDIR) are named for their owner, mpconform-<kind>-<pid>.<start>-<random>,
// where start is the owner's start time (field 22 of /proc/<pid>/stat), so
// that a conform that was SIGKILLed and could not remove them has them swept
// by the next one: a directory is swept only when its owner is provably gone
// (no such pid, or a pid that another process, started later, now has).

// scratchKinds are the kinds of scratch directory the harness makes.
var scratchKinds = []string{"bin", "tmp", "trace"}

var scratchName = regexp.MustCompile(`^mpconform-(?:bin|tmp|trace)-(\d+)\.(\d+)-`)

// owner is this process's part of its scratch directories' names.
var owner = func() string {
	start, _ := startTime(os.Getpid())
	return fmt.Sprintf("%d.%d", os.Getpid(), start)
}()

// scratchDir makes a scratch directory of kind in the temporary directory.
func scratchDir(kind string) (string, error) {
	return os.MkdirTemp("", "mpconform-"+kind+"-"+owner+"-")
}

// startTime is pid's start time, in clock ticks after boot.
func startTime(pid int) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 20 {
		return 0, false
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	return t, err == nil
}

// gone reports whether the process pid that started at start has ended.
func gone(pid int, start uint64) bool {
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
		return true
	}
	now, ok := startTime(pid)
	return ok && now != start // the pid is another process's now
}

// SweepScratch removes the scratch directories in the temporary directory
// whose owner has ended, and returns them. Directories of live owners, and
// any other name, are left alone: other runs on the machine make theirs.
func SweepScratch() []string {
	var swept []string
	for _, kind := range scratchKinds {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "mpconform-"+kind+"-*"))
		for _, dir := range dirs {
			m := scratchName.FindStringSubmatch(filepath.Base(dir))
			if m == nil {
				continue
			}
			pid, err1 := strconv.Atoi(m[1])
			start, err2 := strconv.ParseUint(m[2], 10, 64)
			if err1 != nil || err2 != nil || !gone(pid, start) {
				continue
			}
			if os.RemoveAll(dir) == nil {
				swept = append(swept, dir)
			}
		}
	}
	return swept
}
