// Command conform runs the mpconform conformance suites against an implementation
// of Python's multiprocessing semantics and reports, behaviour by behaviour, what
// holds.
//
//	conform --impl DIR                 short for conform run --impl DIR
//	conform run --impl DIR [flags]     run the suites, write <out>/<name>/...
//	conform list [--markdown|--cpython-tests]
//	                                   print the behaviour catalogue, or how
//	                                   CPython's tests trace to it
//	conform scenario run FILE --impl DIR
//	                                   run one scenario and print its trace
//	conform bench --impl DIR [--vs DIR | --against-ref REF] [flags]
//	                                   run the benchmark workloads, write
//	                                   <out>/bench/<name>.txt, compare
//	conform compare OLD NEW            gate: exit 1 on a significant regression
//	conform matrix [flags] DIR...      run several implementations, write
//	                                   <out>/matrix.html and matrix.json
//	conform diff OLD NEW               what changed between two result sets;
//	                                   exit 1 on a regression
//	conform merge OUT DIR...           join the shards of a run (run --shard i/n)
//
// run and bench also write <out>/index.html: the behaviour × implementation
// matrix and the benchmark charts of every report under <out>.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	_ "github.com/mpconform/mpconform/suites/connection"
	_ "github.com/mpconform/mpconform/suites/daemon"
	_ "github.com/mpconform/mpconform/suites/manager"
	_ "github.com/mpconform/mpconform/suites/pool"
	_ "github.com/mpconform/mpconform/suites/process"
	_ "github.com/mpconform/mpconform/suites/queue"
	_ "github.com/mpconform/mpconform/suites/shared_memory"
	_ "github.com/mpconform/mpconform/suites/sharedctypes"
	_ "github.com/mpconform/mpconform/suites/synchronize"
)

const usage = `usage:
  conform --impl DIR                        (short for conform run --impl DIR)
  conform run --impl DIR [--profile core|extended|robust|all] [--label-filter EXPR]
              [--time-scale X] [--out DIR] [--repeat N] [--update-expectations]
              [--shard I/N] [--rerun-failed RESULTS] [--no-index]
  conform list [--markdown | --cpython-tests]
  conform scenario run FILE --impl DIR [--time-scale X] [--no-validate] [-v]
  conform bench --impl DIR [--vs DIR | --against-ref GITREF] [--count N] [--time T]
                [--filter RE] [--out DIR] [--max-regression PCT] [--alpha A]
  conform compare OLD NEW [--max-regression PCT] [--alpha A]
  conform matrix [--out DIR] [--jobs N] [--profile P] [--label-filter EXPR]
                 [--time-scale X] [--impls FILE] DIR...
  conform diff OLD NEW
  conform merge OUT SHARD-DIR...
`

// errUsage is a command-line mistake: the message is printed with the usage.
var errUsage = errors.New("usage")

// exitError carries a status without a message (the command already reported).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	err := dispatch(os.Args[1:], os.Stdout, os.Stderr)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(int(ee))
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "conform: %v\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "conform: %v\n", err)
		os.Exit(1)
	}
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "list":
		return listCmd(args[1:], stdout)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "compare":
		return compareCmd(args[1:], stdout)
	case "matrix":
		return matrixCmd(args[1:], stdout, stderr)
	case "diff":
		return diffCmd(args[1:], stdout)
	case "merge":
		return mergeCmd(args[1:], stdout)
	case "scenario":
		if len(args) < 2 || args[1] != "run" {
			return fmt.Errorf("%w: scenario needs the subcommand run", errUsage)
		}
		return scenarioCmd(args[2:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if strings.HasPrefix(args[0], "-") {
		return runCmd(args, stdout, stderr)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// parse parses flags, turning flag errors into usage errors with one line.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 && fs.Name() != "scenario run" {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
