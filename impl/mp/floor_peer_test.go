package mp_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A floor's second process is this test binary executed again with
// envFloorChild naming its role. It is not an mp child: a floor measures
// the machine, so it shares nothing with mp but the kernel. Its one file,
// shared memory or a socket, is at fd 3; its one argument is a count.
const envFloorChild = "MPCONFORM_FLOOR_CHILD"

var errPeerGone = errors.New("floor: the other process is gone")

// floorRoles are what a floor's child can do with its file, n times;
// alive says whether its parent still runs.
var floorRoles = map[string]func(f *os.File, n int, alive func() bool) error{
	"spin":  func(f *os.File, n int, alive func() bool) error { return answerToken(f, n, false, alive) },
	"futex": func(f *os.File, n int, alive func() bool) error { return answerToken(f, n, true, alive) },
	"ring":  produceRing,
	"echo":  echoSocket,
	"sink":  sinkSocket,
	"exit":  func(*os.File, int, func() bool) error { return nil },
}

// init, not TestMain, takes the child role: it runs before TestMain, and the
// floors then need nothing of the files they do not own.
func init() {
	role, ok := os.LookupEnv(envFloorChild)
	if !ok {
		return
	}
	os.Exit(runFloorChild(role, os.Args[1:], os.Stderr))
}

func runFloorChild(role string, args []string, stderr io.Writer) int {
	run, ok := floorRoles[role]
	if !ok || len(args) != 1 {
		fmt.Fprintf(stderr, "floor child: role %q, args %q: want a known role and a count\n", role, args)
		return 2
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "floor child:", err)
		return 2
	}
	// A child outlives no parent: once orphaned, its parent pid changes.
	ppid := os.Getppid()
	if err := run(os.NewFile(3, "floor"), n, func() bool { return os.Getppid() == ppid }); err != nil {
		fmt.Fprintln(stderr, "floor child:", err)
		return 1
	}
	return 0
}

// A peer is a floor's child, seen from the parent.
type peer struct {
	cmd  *exec.Cmd
	gone atomic.Bool
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// startPeer starts a child in role with f as its fd 3 and n as its count;
// stop reaps it.
func startPeer(role string, f *os.File, n int) (*peer, error) {
	cmd := exec.Command("/proc/self/exe", strconv.Itoa(n))
	cmd.Env = append(os.Environ(), envFloorChild+"="+role)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("floor: starting the %s child: %w", role, err)
	}
	p := &peer{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.gone.Store(true)
		close(p.done)
	}()
	return p, nil
}

func (p *peer) alive() bool { return !p.gone.Load() }

// wait waits for the child's exit, which must be a success.
func (p *peer) wait() error {
	<-p.done
	if p.err != nil {
		return fmt.Errorf("%w: %v", errPeerGone, p.err)
	}
	return nil
}

// stop kills the child if it still runs, and reaps it.
func (p *peer) stop() {
	p.cmd.Process.Kill() // ErrProcessDone once reaped: nothing to do
	<-p.done
}

// sharedMem returns size bytes of shared memory and the memfd that a child
// maps them from (mapFile).
func sharedMem(size int) (*os.File, []byte, error) {
	fd, err := unix.MemfdCreate("mp-floor", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("floor: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mp-floor")
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("floor: ftruncate: %w", err)
	}
	mem, err := mapFile(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, mem, nil
}

func closeShared(f *os.File, mem []byte) {
	unix.Munmap(mem)
	f.Close()
}

// mapFile maps all of f, MAP_SHARED.
func mapFile(f *os.File) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("floor: fstat: %w", err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("floor: mmap: %w", err)
	}
	return mem, nil
}

// lineSize spaces words that two processes write, so that neither shares
// a cache line (or the pair of lines the adjacent-line prefetcher moves
// together) with the other.
const lineSize = 128

func word32(mem []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// spinWhile spins while w holds v and returns what it holds next, or
// errPeerGone once alive says that the other process is gone.
func spinWhile(w *atomic.Uint32, v uint32, alive func() bool) (uint32, error) {
	for i := uint32(1); ; i++ {
		if x := w.Load(); x != v {
			return x, nil
		}
		if i%(1<<16) == 0 && !alive() {
			return 0, errPeerGone
		}
	}
}

// Futex operations (linux/futex.h), without FUTEX_PRIVATE_FLAG: the word is
// in memory shared by processes.
const (
	futexWait = 0
	futexWake = 1
)

// sleepWhile sleeps in the kernel while w holds v. It checks alive only
// when a sleep times out, so that a wake costs no more than a wake.
func sleepWhile(w *atomic.Uint32, v uint32, alive func() bool) error {
	ts := unix.NsecToTimespec(int64(100 * time.Millisecond))
	for w.Load() == v {
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait, uintptr(v),
			uintptr(unsafe.Pointer(&ts)), 0, 0)
		if e == unix.ETIMEDOUT && !alive() {
			return errPeerGone
		}
	}
	return nil
}

func wake(w *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, 1, 0, 0, 0)
}

// A token is a word that two processes hand to each other by writing a
// new value into it. With sleep, the waiting side sleeps on the word as a futex and
// the writing side wakes it; without, the waiting side spins.
type token struct {
	w     *atomic.Uint32
	sleep bool
	alive func() bool
}

// pass writes v, handing the token over.
func (t token) pass(v uint32) {
	t.w.Store(v)
	if t.sleep {
		wake(t.w)
	}
}

// await waits until the word no longer holds v: the token is back.
func (t token) await(v uint32) error {
	if t.sleep {
		return sleepWhile(t.w, v, t.alive)
	}
	_, err := spinWhile(t.w, v, t.alive)
	return err
}

// answerToken is the child of a token whose parent writes odd values: n
// times, it waits for the parent's value and answers with the next one.
func answerToken(f *os.File, n int, sleep bool, alive func() bool) error {
	mem, err := mapFile(f)
	if err != nil {
		return err
	}
	t := token{w: word32(mem, 0), sleep: sleep, alive: alive}
	for k := range uint32(n) {
		if err := t.await(2 * k); err != nil {
			return err
		}
		t.pass(2*k + 2)
	}
	return nil
}
