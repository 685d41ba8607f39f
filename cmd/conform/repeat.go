package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mpconform/mpconform/harness/report"
	"github.com/mpconform/mpconform/harness/runner"
)

// repeatRun is conform run --repeat n: n whole runs, each in a process of its
// own (a Ginkgo suite runs once per process, and a run that shares nothing
// with the others is the honest test of a spec's stability), then one report
// that flags every behaviour whose verdict changed (report.Merge).
//
// args are run's arguments without --repeat and --out; each run k writes its
// reports under <out>/<impl>/runs/<k>, and the merged ones go to <out>/<impl>.
func repeatRun(n int, implDir, out string, args []string, stdout, stderr io.Writer) error {
	m, err := runner.LoadManifest(implDir)
	if err != nil {
		return err
	}
	file, err := report.LoadExpectations(expectationsPath(m))
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Join(out, safeName(m.Name))
	if err := os.RemoveAll(filepath.Join(dir, "runs")); err != nil {
		return err
	}
	var runs []*report.Results
	for k := 1; k <= n; k++ {
		fmt.Fprintf(stderr, "conform: run %d of %d\n", k, n)
		runOut := filepath.Join(dir, "runs", strconv.Itoa(k))
		cmd := exec.Command(self, append([]string{"run", "--out", runOut}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, stderr
		err := cmd.Run()
		if _, failed := err.(*exec.ExitError); err != nil && !failed {
			return err
		}
		res, err := loadResults(filepath.Join(runOut, safeName(m.Name)))
		if line, ok := absentLine(out.String()); ok && err != nil && cmd.ProcessState.ExitCode() == 0 {
			fmt.Fprint(stdout, line) // absent (reportAbsent): no run will write results
			return nil
		}
		if err != nil {
			return fmt.Errorf("run %d of %d wrote no results (%v): see its output above", k, n, err)
		}
		rel := filepath.Join("runs", strconv.Itoa(k), safeName(m.Name))
		for i := range res.Behaviours {
			for _, f := range []*string{&res.Behaviours[i].Trace, &res.Behaviours[i].Visualisation, &res.Behaviours[i].Files} {
				if *f != "" {
					*f = filepath.Join(rel, *f)
				}
			}
		}
		runs = append(runs, res)
	}
	merged := report.Merge(runs, file.For(runs[0].Impl.Facts()))
	if err := merged.Write(dir); err != nil {
		return err
	}
	merged.Table(stdout)
	fmt.Fprintf(stdout, "reports: %s/{results.json,junit.xml,summary.md} (merged from %d runs in %s/runs)\n", dir, n, dir)
	if merged.Failed() {
		return exitError(1)
	}
	return nil
}

// absentLine is the line of reportAbsent in a run's output, if it is there.
func absentLine(out string) (string, bool) {
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.Contains(line, ": "+runner.ErrAbsent.Error()+": ") {
			return line, true
		}
	}
	return "", false
}

func loadResults(dir string) (*report.Results, error) {
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var r report.Results
	return &r, json.Unmarshal(data, &r)
}
