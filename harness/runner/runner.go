// Package runner starts an implementation's driver and runs scenarios on it
// (docs/protocol.md §1–§3).
//
// Open loads an implementation's manifest, builds its driver once and asks it hello;
// Impl.Run sends one scenario and returns the trace, with the driver in a process
// group of its own, a deadline, and every process that outlives the run reported as
// a leak and killed. The runner does not interpret traces.
package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpconform/mpconform/harness/trace"
)

// Manifest is an implementation's conform.json.
type Manifest struct {
	Name         string   `json:"name"`
	Build        []string `json:"build,omitempty"`
	Driver       []string `json:"driver"`
	Expectations string   `json:"expectations,omitempty"`

	Dir string `json:"-"` // the manifest's directory, absolute
}

// LoadManifest reads dir/conform.json.
func LoadManifest(dir string) (*Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(abs, "conform.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no conform.json: an implementation is a directory with a manifest (docs/protocol.md §1)", dir)
		}
		return nil, err
	}
	var m Manifest
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s/conform.json: %v", dir, err)
	}
	if m.Name == "" || len(m.Driver) == 0 {
		return nil, fmt.Errorf("%s/conform.json: \"name\" and \"driver\" are required", dir)
	}
	m.Dir = abs
	return &m, nil
}

// Hello is the driver's answer to `hello`.
type Hello struct {
	Protocol    int      `json:"protocol"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Language    string   `json:"language"`
	Features    []string `json:"features"`
	StartMethod string   `json:"start_method,omitempty"`
	// Semantics is the CPython version (major.minor) whose semantics the
	// driver follows where they differ between versions (docs/protocol.md
	// §2); "" when the driver does not say.
	Semantics string `json:"semantics,omitempty"`
	// What runs the implementation, for a driver of a library that several
	// interpreters or versions run (§2): "cpython", "3.11.7", "billiard", "4.1.0".
	Interpreter        string `json:"interpreter,omitempty"`
	InterpreterVersion string `json:"interpreter_version,omitempty"`
	Module             string `json:"module,omitempty"`
	ModuleVersion      string `json:"module_version,omitempty"`
}

// Supports reports whether the driver implements every feature.
func (h Hello) Supports(features ...string) (missing string, ok bool) {
	for _, f := range features {
		found := false
		for _, g := range h.Features {
			if f == g {
				found = true
				break
			}
		}
		if !found {
			return f, false
		}
	}
	return "", true
}

// Impl is a built implementation whose driver answered hello.
type Impl struct {
	*Manifest
	Hello Hello

	bin string
}

// Open loads the manifest in dir, runs its build step and asks the driver hello.
// Close removes the build's scratch directory.
func Open(ctx context.Context, dir string) (*Impl, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	SweepScratch() // a conform that was killed could not remove its own
	bin, err := scratchDir("bin")
	if err != nil {
		return nil, err
	}
	im := &Impl{Manifest: m, bin: bin}
	if len(m.Build) > 0 {
		cmd := exec.CommandContext(ctx, im.expand(m.Build[0]), im.expandAll(m.Build[1:])...)
		cmd.Dir = m.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			im.Close()
			return nil, fmt.Errorf("%s: build %q failed: %v\n%s", m.Name, strings.Join(m.Build, " "), err, out)
		}
	}
	if err := im.hello(ctx); err != nil {
		im.Close()
		return nil, err
	}
	return im, nil
}

// Close removes the scratch directory of the build.
func (im *Impl) Close() error { return os.RemoveAll(im.bin) }

func (im *Impl) expand(s string) string { return strings.ReplaceAll(s, "{bin}", im.bin) }

func (im *Impl) expandAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = im.expand(a)
	}
	return out
}

// command builds the driver's command line with extra arguments.
func (im *Impl) command(ctx context.Context, args ...string) *exec.Cmd {
	argv := append(im.expandAll(im.Driver), args...)
	prog := argv[0]
	if strings.Contains(prog, "/") && !filepath.IsAbs(prog) {
		prog = filepath.Join(im.Dir, prog)
	}
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	cmd.Dir = im.Dir
	return cmd
}

// ErrAbsent says that an implementation cannot run on this machine: its
// driver's program is not installed, or its hello exited with AbsentExit.
// conform reports it as absent, which is no failure.
var ErrAbsent = errors.New("absent")

// AbsentExit is the exit status of a hello that says its implementation is not
// on this machine (an interpreter without the library): a shell's "command not
// found", which is also what a missing program gives through env or a pyenv shim.
const AbsentExit = 127

func (im *Impl) hello(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := im.command(ctx, "hello")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: %w: %v", im.Name, ErrAbsent, err)
	case errors.As(err, &exit) && exit.ExitCode() == AbsentExit:
		// the first line: a pyenv shim explains itself on the ones after
		first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return fmt.Errorf("%s: %w: %s", im.Name, ErrAbsent, first)
	case err != nil:
		return fmt.Errorf("%s: hello failed: %v: %s", im.Name, err, lastLine(stderr.Bytes()))
	}
	d := json.NewDecoder(bytes.NewReader(out))
	if err := d.Decode(&im.Hello); err != nil {
		return fmt.Errorf("%s: hello printed no JSON object: %v", im.Name, err)
	}
	if im.Hello.Protocol != 1 {
		return fmt.Errorf("%s: hello says protocol %d; this harness speaks protocol 1", im.Name, im.Hello.Protocol)
	}
	return nil
}

// Options tune one run.
type Options struct {
	Deadline time.Duration   // the whole run; default 60s
	Grace    time.Duration   // how long processes may outlive the driver; default 2s
	Validate trace.Validator // checks each trace record; nil checks nothing
	// CPUs, when set, is the CPU affinity the driver starts with (and its
	// children inherit): a spec about what a process may use, as opposed to
	// what the machine has, needs fewer CPUs than the machine's.
	CPUs []int
}

// Result is what one run produced.
type Result struct {
	Trace *trace.Trace
	// Files are the trace files as the driver wrote them, for the protocol's
	// checks (harness/tracerules) and for the report of a failure.
	Files  []trace.File
	Exit   int // the driver's exit status; -N when killed by signal N
	Stdout []byte
	Stderr []byte
	Leaks  []Proc // processes that outlived the driver by more than the grace period
	// TempLeft lists what the run left in its private TMPDIR (every run gets
	// one, so that what a driver leaves in temporary files is its own), and
	// ShmLeft what appeared in /dev/shm during the run and was still there
	// after it. Both are removed: the TMPDIR with the run, and of ShmLeft
	// each file that no process has open or mapped (on a busy machine a new
	// file may be another program's, and one in use is left alone). Only
	// specs about leftovers look at ShmLeft.
	TempLeft []string
	ShmLeft  []string
	// ShmInUse are the files of ShmLeft that a live process has open or
	// mapped, so kept: once the run's processes are gone, another program's.
	ShmInUse []string
	Duration time.Duration
	// ClockStep is how far CLOCK_REALTIME moved against CLOCK_MONOTONIC
	// during the run (clock.go).
	ClockStep time.Duration
}

// Leftovers are the files the run left and the harness removed: those of
// TempLeft, and those of ShmLeft that no live process uses.
func (r *Result) Leftovers() []string {
	shm := slices.DeleteFunc(slices.Clone(r.ShmLeft), func(f string) bool { return slices.Contains(r.ShmInUse, f) })
	return slices.Concat(r.TempLeft, shm)
}

// DriverError is a run the driver refused or failed: it did not exit 0.
type DriverError struct {
	Impl   string
	Exit   int
	Reason string // the last line of stderr
}

func (e *DriverError) Error() string {
	if e.Exit == 2 {
		return fmt.Sprintf("driver error: %s rejected the scenario (exit 2): %s", e.Impl, e.Reason)
	}
	return fmt.Sprintf("driver error: %s exited %d: %s", e.Impl, e.Exit, e.Reason)
}

// runs numbers the runs of this process, for their marks.
var runs atomic.Int64

// ErrDeadline is returned (wrapped) when a run outlives its deadline; the driver
// and all its processes have been killed, and Result still holds the trace so far.
var ErrDeadline = errors.New("run exceeded its deadline")

// Run sends one scenario to the driver and waits for it to finish. It returns the
// result and, when the driver did not exit 0 or outlived its deadline, an error
// (*DriverError, or one wrapping ErrDeadline). Leaks are in Result, not the error.
func (im *Impl) Run(ctx context.Context, scenario []byte, o Options) (*Result, error) {
	if o.Deadline == 0 {
		o.Deadline = 60 * time.Second
	}
	if o.Grace == 0 {
		o.Grace = 2 * time.Second
	}
	dir, err := scratchDir("trace")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp, err := scratchDir("tmp")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	shmBefore := shm()

	cmd := im.command(context.Background(), "run", "--trace", dir)
	// The mark finds the run's processes that leave its process group.
	mark := fmt.Sprintf("MPCONFORM_RUN=%d.%d", os.Getpid(), runs.Add(1))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, mark)
	cmd.Stdin = bytes.NewReader(scenario)
	// Output goes to files, not pipes: processes that outlive the driver
	// keep them open, and a pipe would make Wait wait for them (or, closed,
	// kill them with SIGPIPE before the sweep could see them).
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	adoptOrphans()

	start, offset := time.Now(), wallOffset()
	if err := startOn(cmd, o.CPUs); err != nil {
		return nil, fmt.Errorf("%s: cannot start driver: %v", im.Name, err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var runErr error
	timer := time.NewTimer(o.Deadline)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		killGroup(pgid)
		<-done
		runErr = fmt.Errorf("%s: %w (%v)", im.Name, ErrDeadline, o.Deadline)
	case <-ctx.Done():
		killGroup(pgid)
		<-done
		runErr = ctx.Err()
	}
	res := &Result{Exit: exitStatus(cmd.ProcessState), Duration: time.Since(start), ClockStep: wallOffset() - offset}
	res.Leaks = sweep(pgid, mark, o.Grace)
	res.Stdout, res.Stderr = readAll(stdout), readAll(stderr)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		for _, e := range left {
			res.TempLeft = append(res.TempLeft, filepath.Join("$TMPDIR", e.Name()))
		}
	}
	res.ShmLeft, res.ShmInUse = shmSweep(shmBefore)

	files, terr := trace.ReadDir(dir)
	res.Files = files
	tr, err := trace.Merge(files, o.Validate)
	if terr == nil {
		terr = err
	}
	if terr != nil {
		return res, fmt.Errorf("%s: %v", im.Name, terr)
	}
	res.Trace = tr
	if runErr == nil && res.Exit != 0 {
		runErr = &DriverError{Impl: im.Name, Exit: res.Exit, Reason: lastLine(res.Stderr)}
	}
	return res, runErr
}

// readAll reads what was written to f; nil when it cannot.
func readAll(f *os.File) []byte {
	data, _ := os.ReadFile(f.Name())
	return data
}

func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	if s == "" {
		return "(no message on stderr)"
	}
	return s
}
