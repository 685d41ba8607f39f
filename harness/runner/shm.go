package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	left, _ := shmSweep(before)
	return left
}

// transient is how long a new file of /dev/shm must last to be a leftover:
// CPython's multiprocessing unlinks a semaphore's name right after it makes
// it, and on a shared machine another program's, whose process this one may
// not see (another pid namespace), must not be taken for the run's.
const transient = 100 * time.Millisecond

// shmSweep is shmLeft that also returns the files it kept, in use.
func shmSweep(before map[string]bool) (left, kept []string) {
	now := shm()
	for name := range now {
		if !before[name] {
			time.Sleep(transient)
			break
		}
	}
	stay := shm()
	inodes := map[uint64]bool{}
	for name := range now {
		if !before[name] && stay[name] {
			f := filepath.Join(shmDir, name)
			left = append(left, f)
			if ino, ok := inode(f); ok {
				inodes[ino] = true
			}
		}
	}
	if len(left) == 0 {
		return nil, nil
	}
	used := inUse(inodes)
	for _, f := range left {
		if ino, ok := inode(f); ok && !used[ino] {
			_ = os.Remove(f)
		} else if ok {
			kept = append(kept, f)
		}
	}
	return left, kept
}

// inUse returns which of the inodes some process has open (its fds) or
// mapped (its maps), as far as /proc lets this process see. It goes by inode,
// not name: glibc's sem_open maps a temporary file that it then links under
// the semaphore's name and unlinks, so maps call it "(deleted)".
func inUse(inodes map[uint64]bool) map[uint64]bool {
	used := map[uint64]bool{}
	for _, p := range procs() {
		dir := "/proc/" + strconv.Itoa(p.Pid)
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			if target, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, shmDir+"/") {
				if ino, ok := inode(dir + "/fd/" + fd.Name()); ok && inodes[ino] {
					used[ino] = true
				}
			}
		}
		maps, _ := os.ReadFile(dir + "/maps")
		for line := range strings.Lines(string(maps)) {
			// address perms offset dev inode path
			if f := strings.Fields(line); len(f) >= 6 && strings.HasPrefix(f[5], shmDir+"/") {
				if ino, err := strconv.ParseUint(f[4], 10, 64); err == nil && inodes[ino] {
					used[ino] = true
				}
			}
		}
	}
	return used
}

// inode is the inode number of the file at path (following symbolic links).
func inode(path string) (uint64, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Ino, true
}
