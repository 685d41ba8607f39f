package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/mpconform/mpconform/harness/report"
)

// diffCmd is conform diff OLD NEW: the behaviours whose status changed
// between two result sets, and exit 1 when one regressed (report.Regressed),
// so that CI can gate a change on the results of its base.
func diffCmd(args []string, stdout io.Writer) error {
	if len(args) != 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("%w: diff needs two result sets, OLD and NEW (results.json files or report directories)", errUsage)
	}
	var rs [2]*report.Results
	for i, path := range args {
		r, err := readResults(path)
		if err != nil {
			return err
		}
		rs[i] = r
	}
	changes := report.Diff(rs[0], rs[1])
	width := len("behaviour")
	for _, c := range changes {
		width = max(width, len(c.ID))
	}
	if len(changes) > 0 {
		fmt.Fprintf(stdout, "%-*s  %-11s  %-11s\n", width, "behaviour", "old", "new")
	}
	regressed := 0
	for _, c := range changes {
		mark := ""
		if c.Regression {
			mark, regressed = "  REGRESSION", regressed+1
		}
		fmt.Fprintf(stdout, "%-*s  %-11s  %-11s%s\n", width, c.ID, c.Old, c.New, mark)
	}
	fmt.Fprintf(stdout, "%s %s -> %s %s: %d behaviours changed, %d regressed\n",
		rs[0].Impl.Name, rs[0].Impl.Version, rs[1].Impl.Name, rs[1].Impl.Version, len(changes), regressed)
	if regressed > 0 {
		return exitError(1)
	}
	return nil
}
