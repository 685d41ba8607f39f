package mp_test

// The floors of a process's start and join.

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// startJoinFloor writes exitELF into dir and runs it n times.
func startJoinFloor(dir string) floor {
	return func(n int, t timer) error {
		path, err := writeExitELF(dir)
		if err != nil {
			return err
		}
		return forkExecWaitN(n, t, []string{path}, &syscall.ProcAttr{})
	}
}

// selfStartJoinFloor runs this binary n times, as a floor child that
// exits at once.
func selfStartJoinFloor(n int, t timer) error {
	env := append(os.Environ(), envFloorChild+"=exit")
	return forkExecWaitN(n, t, []string{"/proc/self/exe", "0"}, &syscall.ProcAttr{Env: env})
}

// forkExecWaitN runs argv n times, one after the other, timed.
func forkExecWaitN(n int, t timer, argv []string, attr *syscall.ProcAttr) error {
	t.ResetTimer()
	for range n {
		if err := forkExecWait(argv[0], argv, attr); err != nil {
			return err
		}
	}
	t.StopTimer()
	return nil
}

func forkExecWait(path string, argv []string, attr *syscall.ProcAttr) error {
	pid, err := syscall.ForkExec(path, argv, attr)
	// A child that another goroutine forks while the executable is being
	// written holds it open for writing until it execs, a moment.
	for try := 0; errors.Is(err, syscall.ETXTBSY) && try < 100; try++ {
		time.Sleep(time.Millisecond)
		pid, err = syscall.ForkExec(path, argv, attr)
	}
	if err != nil {
		return fmt.Errorf("floor: %s: %w", path, err)
	}
	var ws syscall.WaitStatus
	for {
		if _, err = syscall.Wait4(pid, &ws, 0, nil); !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("floor: waiting for %s: %w", path, err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("floor: %s ended with status %#x", path, uint32(ws))
	}
	return nil
}
