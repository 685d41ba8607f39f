// Command driver is the Go reference implementation's conformance driver: it
// runs mpconform scenarios with package mp (see docs/protocol.md).
package main

import "github.com/mpconform/mpconform/impl/interp"

func main() {
	interp.Main(interp.Reference())
}
