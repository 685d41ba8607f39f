//go:build !amd64 && !arm64

package mp

import "runtime"

// getg returns the calling goroutine's id, from the header of its stack
// trace ("goroutine 18 [running]:").
func getg() uintptr {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uintptr
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uintptr(c-'0')
	}
	return id
}
