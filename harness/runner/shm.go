package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// shmDir is where POSIX shared memory and named semaphores live on Linux.
const shmDir = "/dev/shm"

// shm returns the names in /dev/shm.
func shm() map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(shmDir)
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

// shmLeft returns the files of /dev/shm that are not in before, and removes
// those no process has open or mapped: a run whose processes were killed
// (CPython's named semaphores outlive a SIGKILLed program) must not leave
// them behind, while a file in use belongs to someone still running.
func shmLeft(before map[string]bool) []string {
	var left []string
	for name := range shm() {
		if !before[name] {
			left = append(left, filepath.Join(shmDir, name))
		}
	}
	if len(left) == 0 {
		return nil
	}
	used := shmInUse()
	for _, f := range left {
		if !used[f] {
			_ = os.Remove(f)
		}
	}
	return left
}

// shmInUse returns the files of /dev/shm that some process has open (its
// fds) or mapped (its maps), as far as /proc lets this process see.
func shmInUse() map[string]bool {
	used := map[string]bool{}
	for _, p := range procs() {
		dir := "/proc/" + strconv.Itoa(p.Pid)
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			if target, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, shmDir+"/") {
				used[target] = true
			}
		}
		maps, _ := os.ReadFile(dir + "/maps")
		for line := range strings.Lines(string(maps)) {
			if i := strings.Index(line, shmDir+"/"); i >= 0 {
				used[strings.TrimSpace(line[i:])] = true
			}
		}
	}
	return used
}
