package interp

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// controlOps are the ops of the control family (protocol.md §6).
func controlOps() map[string]Op {
	ops := map[string]Op{}
	ops["sleep"] = Op{Fields: map[string]Field{"ms": {Number, true}}, Blocks: true, Run: sleep}
	ops["busy"] = Op{Fields: map[string]Field{"ms": {Number, true}}, Run: busy}
	ops["emit"] = Op{Fields: map[string]Field{"value": {Value, true}}, Run: emit}
	ops["repeat"] = Op{Fields: map[string]Field{"times": {Int, true}, "var": {Name, false}, "body": {Steps, true}}, Silent: true, Run: repeat}
	ops["mark"] = Op{Fields: map[string]Field{"name": {String, true}}, Instant: true, Run: func(*Call) (any, error) { return nil, nil }}
	ops["exit"] = Op{Fields: map[string]Field{"code": {Int, false}, "message": {String, false}}, Silent: true, Run: exit}
	ops["raise"] = Op{Fields: map[string]Field{"message": {String, true}}, Silent: true, Run: raise}
	ops["crash"] = Op{Fields: map[string]Field{"signal": {Name, true}}, Silent: true, Run: crash}
	ops["return"] = Op{Fields: map[string]Field{"value": {Value, false}}, Run: ret}
	return ops
}

func sleep(c *Call) (any, error) {
	d, _ := c.duration("ms")
	if d < 0 {
		return nil, errorf("ValueError", "sleep length must be non-negative")
	}
	time.Sleep(d)
	return nil, nil
}

func busy(c *Call) (any, error) {
	d, _ := c.duration("ms")
	for start := time.Now(); time.Since(start) < d; {
	}
	return nil, nil
}

func emit(c *Call) (any, error) {
	fmt.Println(displayValue(c.In["value"]))
	return c.In["value"], nil
}

func repeat(c *Call) (any, error) {
	times, _ := c.int("times")
	name, _ := c.In["var"].(string)
	for i := range times {
		e := c.env
		if name != "" {
			e = e.with(name, i)
		}
		c.r.steps(c.s.body, e)
		if c.r.ending != nil {
			break
		}
	}
	return nil, nil
}

// exit ends the process at once with the code, after the end-of-program
// work, as sys.exit does; it writes no process.end. In a barrier's action it
// ends the action, and the party exits once out of the barrier.
func exit(c *Call) (any, error) {
	code, _ := c.int("code") // sys.exit(): 0
	if msg, ok := c.In["message"].(string); ok {
		// sys.exit(message): Python writes it to stderr and exits 1.
		fmt.Fprintln(os.Stderr, msg)
		code = 1
	}
	if c.r.inAction {
		c.r.ending = &ending{exit: true, code: int(code)}
		return nil, nil
	}
	driver.end()
	os.Exit(int(code))
	return nil, nil
}

func raise(c *Call) (any, error) {
	msg, _ := c.In["message"].(string)
	c.r.ending = &ending{raised: true, message: msg}
	return nil, nil
}

// ret is return; its value is a pool task's result (pool.go).
func ret(c *Call) (any, error) {
	c.r.ending = &ending{}
	c.r.returned = c.In["value"]
	return c.In["value"], nil
}

// crash dies of a signal, with the signal's default action: the Go runtime
// would otherwise turn a SIGSEGV or SIGABRT sent by kill into a stack trace
// and exit status 2, where CPython dies of the signal.
func crash(c *Call) (any, error) {
	sig := unix.SignalNum(c.In["signal"].(string))
	// A zeroed kernel sigaction is SIG_DFL with no flags and an empty mask,
	// whatever the architecture's layout. It fails (harmlessly) for the
	// signals that cannot be caught anyway.
	var dfl [8]uint64
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	var set unix.Sigset_t
	set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Kill(os.Getpid(), sig)
	// A fatal signal sent to oneself, unblocked, kills before kill returns;
	// the wait is for one whose default is to be ignored, or to stop: then
	// the program goes on, as in CPython.
	time.Sleep(100 * time.Millisecond)
	return nil, nil
}
