package mp

import (
	"context"
	"os"
)

// Shutdown does what CPython does when the interpreter exits: it terminates
// the pools still alive, then the daemonic children, then waits for every
// child, so the non-daemonic ones run to completion and none is left a
// zombie. A main program calls it last (defer mp.Shutdown()); a child runs
// it after its target returns. It first discards the spare child kept ready
// for the next Start (see spareChild), which is no child of the program's
// and must not outlive it.
func Shutdown() {
	closeSpare()
	livePools.terminateAll()
	for _, p := range ActiveChildren() {
		if p.Daemon() {
			p.Terminate()
		}
	}
	for _, p := range ActiveChildren() {
		p.Join(context.Background())
	}
}

// Exit runs Shutdown, then exits with code. Use it instead of os.Exit, which
// skips deferred calls and so a deferred Shutdown.
func Exit(code int) {
	Shutdown()
	os.Exit(code)
}
