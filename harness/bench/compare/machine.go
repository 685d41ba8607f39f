package compare

import (
	"fmt"
	"io"
	"slices"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// Sources prints one line per file, labels[i] naming files[i], with the machine
// its results come from, and one warning when two files name different CPUs:
// their ratios then measure the machines as much as the change.
func Sources(w io.Writer, labels []string, files ...*benchfile.File) error {
	var cpus []string
	for i, f := range files {
		cpu := f.CPU()
		if cpu == "" {
			cpu = "unknown"
		} else if !slices.Contains(cpus, cpu) {
			cpus = append(cpus, cpu)
		}
		if _, err := fmt.Fprintf(w, "%s: %s (cpu: %s)\n", labels[i], f.Name, cpu); err != nil {
			return err
		}
	}
	if len(cpus) > 1 {
		_, err := fmt.Fprintf(w, "warning: the files come from different machines (cpu %q and %q): a ratio compares the machines too\n", cpus[0], cpus[1])
		return err
	}
	return nil
}
