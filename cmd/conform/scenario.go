package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mpconform/mpconform/harness/runner"
	"github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/schema"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/harness/tracerules"
)

func scenarioCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	implDir := fs.String("impl", "", "implementation directory (with conform.json)")
	scale := fs.Float64("time-scale", 1, "multiply every duration by X")
	noValidate := fs.Bool("no-validate", false, "send the file as it is, without checking it against the schema")
	verbose := fs.Bool("v", false, "print every record, not only output lines")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || *implDir == "" {
		return fmt.Errorf("%w: scenario run needs FILE and --impl DIR", errUsage)
	}
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !*noValidate {
		if err := schema.Scenario(doc); err != nil {
			return fmt.Errorf("%s: invalid scenario: %v", file, err)
		}
		if doc, err = scenario.ScaleJSON(doc, *scale); err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
	}
	im, err := runner.Open(context.Background(), *implDir)
	if err != nil {
		return err
	}
	defer im.Close()
	res, err := im.Run(context.Background(), doc, runner.Options{
		Deadline: time.Duration(*scale * float64(time.Minute)),
	})
	if res == nil {
		return err
	}
	if res.Trace != nil {
		Print(stdout, res.Trace, *verbose)
	}
	for _, l := range res.Leaks {
		fmt.Fprintf(stderr, "conform: leaked (killed): %s\n", l)
	}
	for _, f := range res.Leftovers() {
		fmt.Fprintf(stderr, "conform: warning: the run left %s (removed now)\n", f)
	}
	// The protocol's rules first: a trace that breaks one may also be one
	// that cannot be read.
	rules := tracerules.Check(res.Files)
	if rules != nil {
		fmt.Fprintf(stderr, "conform: %v\n", rules)
	}
	var de *runner.DriverError
	switch {
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "conform: %v\n", err)
		return exitError(1)
	case err != nil && rules != nil:
		return exitError(1)
	case err != nil:
		return err
	case rules != nil || len(res.Leaks) > 0:
		return exitError(1)
	}
	return nil
}

// Print shows a trace as a person reads a program's run: the process tree, then
// each output line (and, verbose, each record) with who wrote it.
func Print(w io.Writer, t *trace.Trace, verbose bool) {
	if len(t.Records) == 0 {
		return
	}
	procs := t.Processes()
	kids := map[int][]trace.Process{}
	known := map[int]bool{}
	for _, p := range procs {
		known[p.Pid] = true
	}
	var roots []trace.Process
	for _, p := range procs {
		if known[p.Ppid] {
			kids[p.Ppid] = append(kids[p.Ppid], p)
		} else {
			roots = append(roots, p)
		}
	}
	fmt.Fprintln(w, "processes:")
	var tree func(p trace.Process, indent string)
	tree = func(p trace.Process, indent string) {
		fmt.Fprintf(w, "%s%s pid %d ppid %d, program %s%s, %s\n", indent, p.Name, p.Pid, p.Ppid, p.Program, daemonTag(p), endOf(p))
		ks := kids[p.Pid]
		sort.Slice(ks, func(i, j int) bool { return ks[i].Name < ks[j].Name })
		for _, k := range ks {
			tree(k, indent+"  ")
		}
	}
	for _, r := range roots {
		tree(r, "  ")
	}
	fmt.Fprintln(w, "output:")
	t0 := t.Records[0].T0
	for _, r := range t.Records {
		show := verbose || r.Op == "emit" || (r.Error != nil && !r.Pending)
		if !show {
			continue
		}
		v, _ := json.Marshal(r.Value)
		line := string(v)
		if r.Op != "emit" {
			line = strings.TrimPrefix(r.String(), fmt.Sprintf("[%s pid=%d ppid=%d #%d] ", r.Proc, r.Pid, r.Ppid, r.Seq))
		} else if s, ok := r.Value.(string); ok {
			line = s
		}
		fmt.Fprintf(w, "  %+9.1fms  %s[%d]  %s\n", float64(r.T0-t0)/1e6, r.Proc, r.Pid, line)
	}
}

func daemonTag(p trace.Process) string {
	if p.Daemon {
		return " (daemon)"
	}
	return ""
}

func endOf(p trace.Process) string {
	if p.End == nil {
		return "no process.end (killed, or exited at once)"
	}
	if c, ok := trace.Int(trace.Field(p.End.Value, "exitcode")); ok {
		return fmt.Sprintf("exit %d", c)
	}
	return "ended"
}
