// Command gen writes the files generated from the op table (package protocol):
// the ops part of the scenario schema, the tables of docs/protocol.md and the
// CPython driver's ops.json. Run it with `go generate ./harness/protocol`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mpconform/mpconform/harness/protocol"
)

func main() {
	root, err := moduleRoot()
	if err == nil {
		err = write(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(root string) error {
	files, err := protocol.Generate(root)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f.Path), f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot is the directory of the go.mod above the working directory (go
// generate runs in harness/protocol).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	for ; err == nil; dir = filepath.Dir(dir) {
		if _, e := os.Stat(filepath.Join(dir, "go.mod")); e == nil {
			return dir, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
	}
	return "", err
}
