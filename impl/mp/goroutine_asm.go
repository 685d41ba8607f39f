//go:build amd64 || arm64

package mp

// getg returns the address of the calling goroutine's runtime descriptor.
func getg() uintptr
