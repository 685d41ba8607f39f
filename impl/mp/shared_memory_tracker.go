package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The shared-memory tracker unlinks the segments that the processes of a
// program created and did not unlink, once the program has ended, however
// it ended: CPython's resource tracker, for shared memory.
//
// It is a process of its own, started by the first process of the program
// that creates a segment (usually main), through a process that exits at
// once, so that it is no child of the starter's; it is tied to the starter
// by a pipe whose
// write end only that process holds: when it exits or is killed, the pipe
// ends, and the tracker unlinks what is still registered, says so on
// stderr, and exits. It has no parent-death signal, so that it outlives
// the process it serves by the moment that takes; it ignores SIGINT and
// SIGTERM, which a terminal or a harness sends to the whole group.
//
// Processes register names on a datagram socket in the abstract namespace
// (no file to leave behind), whose address the starter puts in the
// environment: its children started afterwards, theirs, and so on, use the
// same tracker, so that a segment whose creator was killed stays usable by
// the others until the program ends. A creation registers the name before
// the file exists and an Unlink unregisters it after; the tracker counts,
// so that a creation that failed (the name was taken) unregisters only its
// own registration. A process that finds no tracker in its environment
// (started before there was one) starts its own.
const envShmTracker = "MPCONFORM_MP_SHM_TRACKER"

const (
	trackRegister   = 'R'
	trackUnregister = 'U'
)

// trackerArg is the tracker target's argument. The starter executes it
// with Run false: that process executes the tracker proper, Run true, and
// exits, so that the tracker is no child of the starter's (a program that
// counts its children, or waits for them, never meets it).
type trackerArg struct{ Run bool }

const shmTrackerTarget = "mp.shm-tracker"

var _ = Register(shmTrackerTarget, func(a trackerArg) error {
	life, sock := inheritedFile(0), inheritedFile(1)
	if a.Run {
		return runShmTracker(life, sock)
	}
	if life == nil || sock == nil {
		return errors.New("mp: the shared-memory tracker needs its pipe and its socket")
	}
	return launchTracker(true, life, sock, nil)
})

// tracking is this process's way to its tracker.
var tracking struct {
	sync.Mutex
	sock int                // a datagram socket to send from; 0 before the first send
	addr *unix.SockaddrUnix // the tracker's address
	life *os.File           // the write end of the pipe of a tracker this process started
}

// track sends the tracker one registration (op trackRegister) or
// unregistration of name, starting a tracker if this process has none. A
// process that cannot reach a tracker goes on without one: its segments
// are then unlinked only by Unlink, as without CPython's tracker.
func track(op byte, name string) {
	if untracked.Load() {
		return
	}
	tracking.Lock()
	defer tracking.Unlock()
	if err := sendTrack(op, name); err != nil {
		fmt.Fprintf(os.Stderr, "mp: shared-memory tracker: %v\n", err)
	}
}

func sendTrack(op byte, name string) error {
	if tracking.sock == 0 {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		tracking.sock = fd
	}
	if tracking.addr == nil {
		if a, ok := os.LookupEnv(envShmTracker); ok && a != "" {
			tracking.addr = &unix.SockaddrUnix{Name: "@" + a}
		}
	}
	msg := append([]byte{op}, name...)
	if tracking.addr != nil {
		err := unix.Sendto(tracking.sock, msg, 0, tracking.addr)
		if err == nil || op == trackUnregister || tracking.life != nil {
			// An unregistration that finds no tracker has nothing to undo.
			return err
		}
		// The tracker of the environment is gone (its program ended
		// while this process lives on): start one of this process's own.
	}
	if err := startShmTracker(); err != nil {
		return err
	}
	return unix.Sendto(tracking.sock, msg, 0, tracking.addr)
}

// untracked is a fault (fault.go): this process registers nothing with a
// tracker, so that the spec of what a killed program leaves can be shown to
// fail.
var untracked atomic.Bool

func shmUntracked() { untracked.Store(true) }

// startShmTracker starts a tracker for this process and the children it
// starts from now on.
func startShmTracker() error {
	addr := "mp-shm-tracker-" + strconv.Itoa(os.Getpid()) + "-" + randomShmName()
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	sa := &unix.SockaddrUnix{Name: "@" + addr}
	if err := unix.Bind(sock, sa); err != nil {
		unix.Close(sock)
		return err
	}
	sockFile := os.NewFile(uintptr(sock), "mp-shm-tracker")
	defer sockFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := launchTracker(false, r, sockFile, w); err != nil {
		w.Close()
		return err
	}
	tracking.life, tracking.addr = w, sa
	os.Setenv(envShmTracker, addr)
	return nil
}

// launchTracker executes the tracker target with run, the pipe's read
// end and the socket. The starter (life, the pipe's write end, set) waits
// for the process it executes, which only executes the tracker proper.
func launchTracker(run bool, r, sock, life *os.File) error {
	arg, err := json.Marshal(trackerArg{Run: run})
	if err != nil {
		return err
	}
	msg, err := json.Marshal(bootstrap{Target: shmTrackerTarget, Arg: arg, Name: "SharedMemoryTracker",
		Daemon: true, Files: 2})
	if err != nil {
		return err
	}
	// No parent-death signal: the tracker must outlive the starter. Its
	// stdout is /dev/null: it says nothing there, and holding the
	// program's would keep a reader of it (a test's output capture)
	// waiting for the end of the program.
	null, err := devNull()
	if err != nil {
		return err
	}
	proc, bw, err := execChild(os.Environ(), null, os.Stderr, []*os.File{r, sock}, 0)
	if err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	_, err = bw.Write(bootstrapFrame(msg))
	bw.Close()
	if err != nil {
		proc.Kill()
	}
	if life != nil {
		proc.Wait()
	} else {
		proc.Release()
	}
	if err != nil {
		return fmt.Errorf("bootstrapping: %w", err)
	}
	return nil
}

// runShmTracker is the tracker's process: it counts the registrations that
// arrive on sock until life ends, then unlinks the names still counted.
func runShmTracker(life, sock *os.File) error {
	if life == nil || sock == nil {
		return errors.New("mp: the shared-memory tracker needs its pipe and its socket")
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	counts := map[string]int{}
	buf := make([]byte, 512)
	fds := []unix.PollFd{{Fd: int32(sock.Fd()), Events: unix.POLLIN}, {Fd: int32(life.Fd()), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return err
		}
		// Messages first: those sent before the pipe ended count.
		for {
			n, _, err := unix.Recvfrom(int(fds[0].Fd), buf, unix.MSG_DONTWAIT)
			if err != nil {
				break
			}
			if n < 2 {
				continue
			}
			switch name := string(buf[1:n]); buf[0] {
			case trackRegister:
				counts[name]++
			case trackUnregister:
				if counts[name]--; counts[name] <= 0 {
					delete(counts, name)
				}
			}
		}
		if fds[1].Revents&(unix.POLLHUP|unix.POLLIN|unix.POLLERR) != 0 {
			// The starter holds the pipe's only write end and writes
			// nothing: readiness is its end.
			return unlinkLeaked(counts)
		}
	}
}

func unlinkLeaked(counts map[string]int) error {
	var names []string
	for name := range counts {
		if err := unix.Unlink(shmDir + name); err == nil {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "mp: shared-memory tracker: the program ended without unlinking %d segment(s); unlinked %v\n",
			len(names), names)
	}
	return nil
}
