package mp

// curg identifies the calling goroutine among the live goroutines of this
// process; an RLock records it as its owner, as CPython's records a thread.
//
// On amd64 and arm64 it is the address of the runtime's descriptor of the
// goroutine (its g), read in assembly: the runtime never moves a g, and reuses
// one only once its goroutine has exited. Elsewhere it is the goroutine's id,
// parsed from runtime.Stack, which is much slower.
func curg() uint64 { return uint64(getg()) }
