package mp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// self describes the calling process. A child sets it in Main, before its
// target runs and before any goroutine of this package reads it.
var self = struct {
	name     string
	identity []int // counters from the main process down to this one
	daemon   bool
}{name: "MainProcess"}

// created counts the processes that this process created, whatever their
// prefix, as CPython's _process_counter does.
var created atomic.Int64

// Info describes the calling process.
type Info struct {
	Name   string // "MainProcess" in the main process
	Pid    int
	Ppid   int
	Daemon bool
}

// Current describes the calling process, as CPython's current_process.
func Current() Info {
	return Info{Name: self.name, Pid: os.Getpid(), Ppid: os.Getppid(), Daemon: self.daemon}
}

// An Option configures a Process created by New.
type Option func(*options)

type options struct {
	name     string
	prefix   string
	daemon   bool
	deathSig syscall.Signal
}

// Name gives the process an explicit name instead of the default
// "<prefix>-<k>". It is still counted for the default names of later processes.
func Name(name string) Option { return func(o *options) { o.name = name } }

// Prefix sets the prefix of the default name, "Process" unless set (CPython
// uses the class name: a subclass zx gives zx-1).
func Prefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// Daemon sets the daemon flag (see Process.SetDaemon).
func Daemon(daemon bool) Option { return func(o *options) { o.daemon = daemon } }

// defaultDeathSig is the parent-death signal of a process created without
// the ParentDeathSignal option.
const defaultDeathSig = syscall.SIGKILL

// ParentDeathSignal sets the signal that the child receives when the process
// that started it dies. The default, SIGKILL, means no child outlives a
// parent that was killed; 0 lets it live on as an orphan, as in CPython.
func ParentDeathSignal(sig syscall.Signal) Option {
	return func(o *options) { o.deathSig = sig }
}

// A Process is a child process that runs a registered target. Create it with
// New, then Start it; a Process is safe for use by several goroutines.
type Process struct {
	target   string
	encode   func() ([]byte, error) // the argument, encoded at Start
	name     string
	identity []int
	deathSig syscall.Signal

	mu     sync.Mutex
	daemon bool
	closed bool          // set by Close
	proc   *os.Process   // nil until Start succeeds
	done   chan struct{} // closed once the child has exited and been reaped
	code   int           // the exit code, once done is closed
}

// New returns a Process that will run t(arg) in a child process once started.
// Creating it already counts for the default names, as in CPython.
func New[A any](t Target[A], arg A, opts ...Option) *Process {
	o := options{prefix: "Process", deathSig: defaultDeathSig}
	for _, opt := range opts {
		opt(&o)
	}
	identity := append(slices.Clip(self.identity), int(created.Add(1)))
	name := o.name
	if name == "" {
		ks := make([]string, len(identity))
		for i, k := range identity {
			ks[i] = strconv.Itoa(k)
		}
		name = o.prefix + "-" + strings.Join(ks, ":")
	}
	return &Process{
		target:   t.name,
		encode:   func() ([]byte, error) { return json.Marshal(arg) },
		name:     name,
		identity: identity,
		deathSig: o.deathSig,
		daemon:   o.daemon,
	}
}

// Name returns the process's name.
func (p *Process) Name() string { return p.name }

// Daemon reports the daemon flag. When the program ends (Shutdown), daemonic
// children still alive are terminated; the others are waited for.
func (p *Process) Daemon() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.daemon
}

// SetDaemon sets the daemon flag. It fails with ErrNotAllowed once the
// process has been started.
func (p *Process) SetDaemon(daemon bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		return fmt.Errorf("%w: process %s has already started", ErrNotAllowed, p.name)
	}
	p.daemon = daemon
	return nil
}

// Start starts the child process. It fails with ErrNotAllowed when the
// process was already started or when the calling process is itself daemonic.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return p.errClosed()
	case p.proc != nil:
		return fmt.Errorf("%w: cannot start a process twice", ErrNotAllowed)
	case self.daemon:
		return fmt.Errorf("%w: daemonic processes are not allowed to have children", ErrNotAllowed)
	}
	noteParent()
	proc, err := spawn(p, p.daemon)
	if err != nil {
		return err
	}
	p.proc = proc
	p.done = make(chan struct{})
	go p.wait()
	addChild(p)
	return nil
}

// wait reaps the child as soon as it exits, so it never stays a zombie.
func (p *Process) wait() {
	state, err := p.proc.Wait()
	switch {
	case err != nil:
		// Only if someone else reaped it: the code is lost.
		p.code = 255
	case state.Sys().(syscall.WaitStatus).Signaled():
		p.code = -int(state.Sys().(syscall.WaitStatus).Signal())
	default:
		p.code = state.ExitCode()
	}
	close(p.done)
}

func (p *Process) started() (*os.Process, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc, p.done
}

// Pid returns the child's process id, or 0 before Start.
func (p *Process) Pid() int {
	if proc, _ := p.started(); proc != nil {
		return proc.Pid
	}
	return 0
}

// Join waits for the child to exit. If ctx ends first it returns ctx.Err()
// and the child keeps running; a ctx already done makes it only look.
// Joining a process that was never started fails with ErrNotAllowed.
func (p *Process) Join(ctx context.Context) error {
	_, done := p.started()
	if p.Closed() {
		return p.errClosed()
	}
	if done == nil {
		return fmt.Errorf("%w: can only join a started process", ErrNotAllowed)
	}
	select {
	case <-done:
		return nil // even if ctx has ended too
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel that is closed when the child has exited, or nil
// before Start.
func (p *Process) Done() <-chan struct{} {
	_, done := p.started()
	return done
}

// ExitCode returns the child's exit code and true once it has exited: the
// status it exited with, or the negative signal number if a signal killed it.
// Before that it returns 0, false.
func (p *Process) ExitCode() (code int, exited bool) {
	_, done := p.started()
	if done == nil {
		return 0, false
	}
	select {
	case <-done:
		return p.code, true
	default:
		return 0, false
	}
}

// IsAlive reports whether the process has started and not yet exited.
func (p *Process) IsAlive() bool {
	_, done := p.started()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Terminate sends SIGTERM to the child. It does nothing once the child has
// exited, and fails with ErrNotAllowed before Start.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill sends SIGKILL to the child, as Terminate sends SIGTERM.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig syscall.Signal) error {
	proc, _ := p.started()
	if p.Closed() {
		return p.errClosed()
	}
	if proc == nil {
		return fmt.Errorf("%w: process %s has not started", ErrNotAllowed, p.name)
	}
	if err := proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// String describes the process as CPython's repr does.
func (p *Process) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<Process name=%q", p.name)
	if code, exited := p.ExitCode(); exited {
		fmt.Fprintf(&b, " exitcode=%d", code)
	} else if pid := p.Pid(); pid != 0 {
		fmt.Fprintf(&b, " pid=%d started", pid)
	}
	if p.Daemon() {
		b.WriteString(" daemon")
	}
	b.WriteString(">")
	return b.String()
}

// children lists the processes this process started, in start order; exited
// ones are dropped as they are found.
var children struct {
	sync.Mutex
	list []*Process
}

func addChild(p *Process) {
	children.Lock()
	defer children.Unlock()
	children.list = append(slices.DeleteFunc(children.list, exited), p)
}

func exited(p *Process) bool { _, ok := p.ExitCode(); return ok }

// ActiveChildren returns the children of the calling process that have
// started and not yet exited, in the order they were started.
func ActiveChildren() []*Process {
	children.Lock()
	defer children.Unlock()
	children.list = slices.DeleteFunc(children.list, exited)
	return slices.Clone(children.list)
}
