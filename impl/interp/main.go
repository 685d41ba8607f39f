package interp

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mpconform/mpconform/impl/mp"
)

// Version is the driver's version, reported by hello.
const Version = "0.1.0"

// Semantics is the newest CPython version whose semantics the reference
// follows where versions differ (Pool's default size is the CPUs this
// process may use, as os.process_cpu_count() from 3.13), reported by hello.
const Semantics = "3.13"

// driver is the driver this process runs. Only Main sets it, before mp.Main
// can dispatch a child, so a child (this binary run again) runs its program
// with the driver that its main made, as its parent's did.
var driver *Driver

// Main runs d: it runs the command in os.Args and exits with the protocol's
// exit code (protocol.md §2, §3). In a child process it runs the child's
// program, inside mp.Main, and never returns. Every process of a run makes
// d anew, so main must make it the same way each time: from the
// environment, not from what happens in the run.
func Main(d Driver) {
	driver = &d
	mp.Main()
	os.Exit(command(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := func(reason string) int {
		fmt.Fprintf(stderr, "driver: %s (usage: driver hello | driver run --trace DIR < scenario.json)\n", reason)
		return 2
	}
	if len(args) == 0 {
		return usage("no command")
	}
	switch args[0] {
	case "hello":
		hello, _ := json.Marshal(map[string]any{"protocol": 1, "name": "go-reference", "version": Version,
			"language": "go", "features": driver.Features, "semantics": driver.Semantics})
		fmt.Fprintf(stdout, "%s\n", hello)
		return 0
	case "run":
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		dir := fs.String("trace", "", "directory of the trace files")
		if err := fs.Parse(args[1:]); err != nil {
			return usage(err.Error())
		}
		if *dir == "" || fs.NArg() > 0 {
			return usage("run takes --trace DIR and nothing else")
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "driver: reading the scenario:", err)
			return 1
		}
		sc, err := parseScenario(data)
		if err != nil {
			fmt.Fprintln(stderr, "driver: scenario error:", err)
			return 2
		}
		resources, err := createResources(sc)
		if err != nil {
			fmt.Fprintln(stderr, "driver: creating the resources:", err)
			return 1
		}
		return runProgram(sc, sc.main, []any{}, *dir, resources)
	}
	return usage(fmt.Sprintf("unknown command %q", args[0]))
}
