package runner

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startOn starts cmd with the CPU affinity cpus (every CPU of the harness's
// own when cpus is empty). A child inherits the affinity of the thread that
// forks it, so the mask is set on a thread of its own, locked to a goroutine
// that never unlocks it: when the goroutine ends the runtime ends the thread,
// and no other goroutine ever runs with the reduced mask.
func startOn(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= 1024 {
			return fmt.Errorf("CPU %d is not a CPU number", c)
		}
		set.Set(c)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("setting the CPU affinity %v: %v", cpus, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// OwnCPUs returns the CPUs this process may run on (its affinity), in order.
func OwnCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var out []int
	for c := 0; c < 1024 && len(out) < set.Count(); c++ {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out, nil
}
