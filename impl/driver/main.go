// Command driver is the Go reference implementation's conformance driver: it
// runs mpconform scenarios with package mp (see docs/protocol.md).
package main

import (
	"github.com/mpconform/mpconform/impl/interp"
	"github.com/mpconform/mpconform/impl/mp"
)

func main() {
	mp.Main() // a child process runs its program here and never returns
	interp.Main()
}
