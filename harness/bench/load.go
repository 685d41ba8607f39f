package bench

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// A loaded workload runs while the machine's every CPU is busy with another
// program, as on a shared CI runner or a server doing other work: an
// implementation whose waits spin or yield instead of sleeping can be many
// times slower then, which an idle machine never shows. The harness makes the
// load itself, one busy loop per CPU (`yes > /dev/null`, the loop that showed
// it first), started before each sample's run and killed after it.
func loaded(w Workload) Workload {
	w.Name = "Loaded/" + w.Name
	w.Load = runtime.NumCPU()
	return w
}

// startLoad starts n busy loops and returns the function that stops them. The
// loops die with the harness, even when it is killed: they get SIGKILL when
// the thread that started them ends, and that thread waits for stop.
func startLoad(n int) (stop func(), err error) {
	yes, err := exec.LookPath("yes")
	if err != nil {
		return nil, fmt.Errorf("a loaded workload needs yes(1) for its busy loops: %v", err)
	}
	started := make(chan error)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		runtime.LockOSThread() // Pdeathsig follows this thread
		defer runtime.UnlockOSThread()
		var cmds []*exec.Cmd
		defer func() {
			for _, c := range cmds {
				c.Process.Kill()
				c.Wait()
			}
		}()
		for range n {
			c := exec.Command(yes)
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := c.Start(); err != nil {
				started <- fmt.Errorf("starting a busy loop: %v", err)
				return
			}
			cmds = append(cmds, c)
		}
		started <- nil
		<-done
	}()
	if err := <-started; err != nil {
		<-finished
		return nil, err
	}
	return func() { close(done); <-finished }, nil
}
