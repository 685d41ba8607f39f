package mp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// A child is this binary executed again. The environment only tells it that it
// is a child; what to run comes through a pipe at bootstrapFD, so that its
// size has no limit. Files that the argument hands over follow it: fd
// bootstrapFD+1+i is passed file i.
const (
	envBootstrap = "MPCONFORM_MP_CHILD"
	bootstrapFD  = 3
	selfExe      = "/proc/self/exe"
)

// bootstrap is what a parent sends a child through the bootstrap pipe.
type bootstrap struct {
	Target   string          `json:"target"`
	Arg      json.RawMessage `json:"arg"`
	Name     string          `json:"name"`
	Identity []int           `json:"identity"`
	Daemon   bool            `json:"daemon"`
	Files    int             `json:"files"`
}

var mainCalled atomic.Bool

// Main runs the child role: in a process started by Process.Start it runs the
// target and exits, never returning; in any other process it returns at once.
// Call it first in main, before anything a child should not do, and register
// targets at package level so that they exist before it runs.
func Main() {
	if mainCalled.Swap(true) {
		return
	}
	if _, child := os.LookupEnv(envBootstrap); !child {
		return
	}
	// Whatever this child runs later (its own children included) is not
	// a bootstrapping child.
	os.Unsetenv(envBootstrap)
	os.Exit(runChild())
}

func runChild() int {
	b, err := readBootstrap()
	if errors.Is(err, errUnusedSpare) {
		return 0 // a spare the parent did not need: nothing to say
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mp: child bootstrap:", err)
		return 1
	}
	self.name, self.identity, self.daemon = b.Name, b.Identity, b.Daemon
	run, ok := lookupTarget(b.Target)
	if !ok {
		fmt.Fprintf(os.Stderr, "Process %s: mp: no target %q is registered (Register must run at package level)\n", b.Name, b.Target)
		return 1
	}
	code := runTarget(run, b.Arg)
	Shutdown()
	return code
}

// runTarget turns an error or a panic into exit status 1, as CPython does an
// uncaught exception, so that the child still shuts down its own children.
func runTarget(run runner, arg []byte) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "Process %s: panic: %v\n\n%s", self.name, r, debug.Stack())
			code = 1
		}
	}()
	if err := run(arg); err != nil {
		fmt.Fprintf(os.Stderr, "Process %s: %v\n", self.name, err)
		return 1
	}
	return 0
}

// inherited holds the files passed to this child, by index.
var inherited []*os.File

// errUnusedSpare is what a spare child reads when its parent discards it: the
// end of its bootstrap pipe, with no byte before it.
var errUnusedSpare = errors.New("mp: unused spare")

func readBootstrap() (bootstrap, error) {
	var b bootstrap
	f := os.NewFile(bootstrapFD, "mp-bootstrap")
	data, err := readBootstrapFrame(f)
	f.Close()
	if err == io.EOF {
		return b, errUnusedSpare
	}
	if err != nil {
		return b, fmt.Errorf("reading the bootstrap: %w", err)
	}
	if b, err = decodeBootstrap(data); err != nil {
		return b, err
	}
	for i := range b.Files {
		fd := bootstrapFD + 1 + i
		// Inherited fds are not close-on-exec: keep them from leaking into
		// this child's own children.
		syscall.CloseOnExec(fd)
		inherited = append(inherited, os.NewFile(uintptr(fd), fmt.Sprintf("mp-inherited-%d", i)))
	}
	return b, nil
}

// The bootstrap message is framed, its length first (8 bytes, little-endian),
// and not ended by the pipe's end: until a child started at the same time
// has executed, it holds a copy of the write end, and a child that read to
// the end would wait for that exec too.
func bootstrapFrame(payload []byte) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(payload))), payload...)
}

// maxBootstrap bounds the length a frame may announce: far more than an
// argument needs, less than a corrupt length could make a child allocate.
const maxBootstrap = 1 << 34

// readBootstrapFrame reads one frame; io.EOF if the pipe ended before it began.
func readBootstrapFrame(r io.Reader) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = errors.New("truncated length")
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr[:])
	if n > maxBootstrap {
		return nil, fmt.Errorf("length %d", n)
	}
	data := make([]byte, n)
	if got, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%d of %d bytes: %w", got, n, io.ErrUnexpectedEOF)
	}
	return data, nil
}

// maxFiles bounds the files a bootstrap may announce: far more than any
// argument passes, far fewer than a corrupt count could make a child loop on.
const maxFiles = 1 << 16

// decodeBootstrap parses a bootstrap message: a JSON object whose Files
// count is sane.
func decodeBootstrap(data []byte) (bootstrap, error) {
	var b bootstrap
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("bootstrap message: %v", err)
	}
	if b.Files < 0 || b.Files > maxFiles {
		return b, fmt.Errorf("bootstrap message: %d inherited files", b.Files)
	}
	if b.Target == "" {
		return b, errors.New("bootstrap message: no target")
	}
	return b, nil
}

// spawning collects the files that the argument of the process being started
// hands to the child. It is held for the whole encoding of one argument, by
// the goroutine that encodes it (owner).
var spawning struct {
	sync.Mutex
	files []*os.File
	owner atomic.Uint64 // curg() of the encoding goroutine, 0 between spawns
}

// passFile arranges for f to be inherited by the child being started and
// returns its index, for inheritedFile in the child; a file passed twice in
// one argument has one index. It is the seam for types that wrap OS
// resources (locks, queues, pipe ends): their MarshalJSON calls passFile and
// their UnmarshalJSON calls inheritedFile. It is only valid while Start
// encodes an argument (see passing).
func passFile(f *os.File) int {
	if i := slices.Index(spawning.files, f); i >= 0 {
		return i
	}
	spawning.files = append(spawning.files, f)
	return len(spawning.files) - 1
}

// passing reports whether the calling goroutine is encoding the argument of
// a process being started, so that passFile may be called.
func passing() bool { return spawning.owner.Load() == curg() }

// inheritedFile returns the file the parent passed as index i, or nil.
func inheritedFile(i int) *os.File {
	if i < 0 || i >= len(inherited) {
		return nil
	}
	return inherited[i]
}

// spawn starts the child process for p and sends it its bootstrap.
func spawn(p *Process, daemon bool) (*os.Process, error) {
	if _, child := os.LookupEnv(envBootstrap); child {
		// Without this guard a child would run main again and start
		// children of its own, forever.
		return nil, fmt.Errorf("mp: cannot start %s: this is a child process and mp.Main was not called first in main", p.name)
	}
	spawning.Lock()
	defer spawning.Unlock()
	spawning.files = nil
	spawning.owner.Store(curg())
	arg, err := p.encode()
	spawning.owner.Store(0)
	files := spawning.files
	spawning.files = nil
	if err != nil {
		return nil, fmt.Errorf("mp: encoding the argument of %s: %w", p.name, err)
	}
	msg, err := json.Marshal(bootstrap{Target: p.target, Arg: arg, Name: p.name,
		Identity: p.identity, Daemon: daemon, Files: len(files)})
	if err != nil {
		return nil, err
	}
	payload := bootstrapFrame(msg)
	// A spare can only be what a plain child would have been: fds cannot be
	// added to a process after exec, nor its parent-death signal changed
	// from here.
	plain := len(files) == 0 && p.deathSig == defaultDeathSig
	if plain {
		if proc := useSpare(payload); proc != nil {
			fillSpare()
			return proc, nil
		}
	}
	proc, w, err := execChild(os.Environ(), os.Stdout, os.Stderr, files, p.deathSig)
	if err != nil {
		return nil, fmt.Errorf("mp: starting %s: %w", p.name, err)
	}
	defer w.Close()
	// Within the pipe's buffer this does not wait for the child.
	if _, err := w.Write(payload); err != nil {
		proc.Kill()
		proc.Wait()
		return nil, fmt.Errorf("mp: bootstrapping %s: %w", p.name, err)
	}
	if plain {
		// The program starts plain children: have the next one ready.
		fillSpare()
	}
	return proc, nil
}

// execChild executes this binary as a child with environment env (plus the
// marker), stdin /dev/null, stdout and stderr, a new bootstrap pipe at
// bootstrapFD and files after it. It returns the write end of the pipe.
func execChild(env []string, stdout, stderr *os.File, files []*os.File, deathSig syscall.Signal) (*os.Process, *os.File, error) {
	stdin, err := devNull()
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	proc, err := startProcess(&os.ProcAttr{
		Env:   append(slices.Clip(env), envBootstrap+"=1"),
		Files: append([]*os.File{stdin, stdout, stderr, r}, files...),
		Sys:   &syscall.SysProcAttr{Pdeathsig: deathSig},
	})
	r.Close()
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return proc, w, nil
}

// A child's stdin is /dev/null, as in CPython: it must not compete with its
// parent for input, nor keep the parent's input pipe open.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

type spawnRequest struct {
	attr  *os.ProcAttr
	reply chan spawnReply
}

type spawnReply struct {
	proc *os.Process
	err  error
}

// spawner starts processes from one OS thread that never exits. The kernel
// sends the parent-death signal when the thread that forked a child exits,
// not its process (golang/go#27505); Go ends threads whose goroutine exits
// while locked to them, so any other thread could kill children by surprise.
var spawner = sync.OnceValue(func() chan<- spawnRequest {
	requests := make(chan spawnRequest)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread lives as long as the process
		for r := range requests {
			proc, err := os.StartProcess(selfExe, []string{os.Args[0]}, r.attr)
			r.reply <- spawnReply{proc, err}
		}
	}()
	return requests
})

func startProcess(attr *os.ProcAttr) (*os.Process, error) {
	reply := make(chan spawnReply, 1)
	spawner() <- spawnRequest{attr, reply}
	r := <-reply
	return r.proc, r.err
}
