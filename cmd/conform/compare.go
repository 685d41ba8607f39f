package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
	"github.com/mpconform/mpconform/harness/bench/compare"
)

// compareCmd is the gate: it exits 1 only when a benchmark got significantly
// worse, by its unit's direction, beyond the threshold; a run too noisy to see
// such a change is a warning.
func compareCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	maxReg := fs.Float64("max-regression", 5, "the largest significant slowdown that passes, in percent")
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	// Files first or flags first: take the leading non-flag arguments aside.
	var files []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		files, args = append(files, args[0]), args[1:]
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	files = append(files, fs.Args()...)
	if len(files) != 2 {
		return fmt.Errorf("%w: compare needs two files, OLD and NEW", errUsage)
	}
	if *alpha <= 0 || *alpha >= 1 || *maxReg < 0 {
		return fmt.Errorf("%w: --alpha must be in (0, 1) and --max-regression ≥ 0", errUsage)
	}
	var fl [2]*benchfile.File
	for i, path := range files {
		f, err := benchfile.ReadFile(path)
		if err != nil {
			return err
		}
		if len(f.Results) == 0 {
			return fmt.Errorf("%s: no benchmark results", path)
		}
		fl[i] = f
	}
	opt := compare.Options{Alpha: *alpha, MaxRegression: *maxReg / 100}
	rows := compare.Compare(fl[0], fl[1], opt)
	if err := compare.Sources(stdout, []string{"old", "new"}, fl[:]...); err != nil {
		return err
	}
	if err := compare.Table(stdout, rows, "old", "new", nil, true); err != nil {
		return err
	}
	report, failed := compare.Gate(rows, opt, nil)
	fmt.Fprint(stdout, report)
	if failed {
		return exitError(1)
	}
	return nil
}
