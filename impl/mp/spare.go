package mp

import (
	"os"
	"slices"
	"sync"
	"syscall"
)

// A spare is a child executed ahead of need, blocked reading its bootstrap:
// exec and the Go runtime's start-up, most of what starting a child costs,
// are then paid while the parent does something else, not in Start. It is
// exactly what a plain child (no files, default parent-death signal) would
// be, except for what it inherited from the parent's state when it was
// executed: the environment, the working directory and stdout/stderr are
// checked before use, and a spare that no longer matches is discarded.
//
// A program that has made one plain Start gets one spare; one that has made
// two, a second: a spare executed only when the last is used would still be
// starting up at the next Start of a loop, and the second one's start-up
// overlaps the whole of the child before it. A spare is no child until used:
// not in ActiveChildren, and Shutdown discards it rather than joining it.
type spareChild struct {
	proc           *os.Process
	w              *os.File // write end of its bootstrap pipe
	env            []string // os.Environ() when it was executed
	dir            string   // the working directory then
	stdout, stderr *os.File // os.Stdout and os.Stderr then
}

// maxSpares is the most spares a program keeps.
const maxSpares = 2

var spares struct {
	sync.Mutex
	ready   []*spareChild  // oldest first
	starts  int            // plain Starts since the last closeSpare, up to maxSpares
	filling bool           // a goroutine is executing spares
	reaping sync.WaitGroup // discarded spares not yet reaped
}

// spareChanged is signalled when a spare is ready or filling ends.
var spareChanged = sync.NewCond(&spares.Mutex)

// fillSpare records a plain Start and has spares executed in the background
// until there are as many as it earns.
func fillSpare() {
	spares.Lock()
	defer spares.Unlock()
	if self.daemon {
		return
	}
	spares.starts = min(spares.starts+1, maxSpares)
	if spares.filling || len(spares.ready) >= spares.starts {
		return
	}
	spares.filling = true
	go func() {
		spares.Lock()
		defer spares.Unlock()
		for len(spares.ready) < spares.starts {
			spares.Unlock()
			s, err := execSpare()
			spares.Lock()
			if err != nil {
				break // no spare: Start will start children cold
			}
			spares.ready = append(spares.ready, s)
			spareChanged.Broadcast()
		}
		spares.filling = false
		spareChanged.Broadcast()
	}()
}

func execSpare() (*spareChild, error) {
	s := &spareChild{env: os.Environ(), stdout: os.Stdout, stderr: os.Stderr}
	dir, err := syscall.Getwd()
	if err != nil {
		return nil, err
	}
	s.dir = dir
	s.proc, s.w, err = execChild(s.env, s.stdout, s.stderr, nil, defaultDeathSig)
	return s, err
}

// takeSpare removes the oldest spare and returns it, or nil. One being
// executed is waited for: it is further along than a cold start would be,
// which would wait for it on the spawner thread anyway.
func takeSpare() *spareChild {
	spares.Lock()
	defer spares.Unlock()
	for len(spares.ready) == 0 && spares.filling {
		spareChanged.Wait()
	}
	if len(spares.ready) == 0 {
		return nil
	}
	s := spares.ready[0]
	spares.ready = slices.Delete(spares.ready, 0, 1)
	return s
}

// useSpare sends payload to a spare and returns it as the new child, if
// there is a spare and it still matches the parent's state; nil otherwise.
func useSpare(payload []byte) *os.Process {
	s := takeSpare()
	if s == nil {
		return nil
	}
	dir, err := syscall.Getwd()
	if err != nil || dir != s.dir || os.Stdout != s.stdout || os.Stderr != s.stderr ||
		!slices.Equal(os.Environ(), s.env) {
		discardSpare(s)
		closeSpare() // the others were executed in the same state
		return nil
	}
	_, err = s.w.Write(payload)
	s.w.Close()
	if err != nil {
		// It died (someone killed it): get rid of whatever is left.
		s.proc.Kill()
		discardSpare(s)
		return nil
	}
	return s.proc
}

// discardSpare closes the spare's pipe, so it exits 0 silently, and has it
// reaped in the background (Shutdown waits for that).
func discardSpare(s *spareChild) {
	s.w.Close()
	spares.reaping.Add(1)
	go func() {
		defer spares.reaping.Done()
		s.proc.Wait()
	}()
}

// closeSpare discards every spare, stops executing more until the next plain
// Start, and waits until every discarded spare has exited and been reaped.
func closeSpare() {
	spares.Lock()
	spares.starts = 0
	for spares.filling {
		spareChanged.Wait()
	}
	for _, s := range spares.ready {
		discardSpare(s)
	}
	spares.ready = nil
	spares.Unlock()
	spares.reaping.Wait()
}
