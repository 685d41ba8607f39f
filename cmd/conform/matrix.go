package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mpconform/mpconform/harness/report"
	"github.com/mpconform/mpconform/harness/runner"
)

// matrixCmd is conform matrix [flags] DIR...: conform run on each
// implementation, a few at a time, then one report of them all,
// <out>/matrix.html and matrix.json, beside each one's own report in
// <out>/<name>/.
func matrixCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	out := fs.String("out", "reports", "directory for the reports")
	// Each run drives real processes whose specs wait on one another; one run
	// per two cores leaves each run a core for its drivers, so a loaded
	// machine slows the runs down rather than pushing their specs past their
	// deadlines. And the fewer runs side by side, the fewer files one run's
	// processes put in /dev/shm while the specs about leftovers of another
	// look there.
	jobs := fs.Int("jobs", max(1, runtime.NumCPU()/2), "how many implementations run at a time")
	profile := fs.String("profile", "all", "core, extended, robust or all")
	filter := fs.String("label-filter", "", "Ginkgo label filter: behaviour IDs, profiles, features")
	scale := fs.Float64("time-scale", 1, "multiply every duration and deadline by X (slow machines: 2 or more)")
	list := fs.String("impls", "", "file listing implementation directories, one a line (# starts a comment)")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *list != "" {
		more, err := readImplList(*list)
		if err != nil {
			return err
		}
		dirs = append(dirs, more...)
	}
	switch {
	case len(dirs) == 0:
		return fmt.Errorf("%w: matrix needs implementation directories (or --impls FILE)", errUsage)
	case *jobs < 1:
		return fmt.Errorf("%w: --jobs must be at least 1", errUsage)
	case *scale <= 0:
		return fmt.Errorf("%w: --time-scale must be positive", errUsage)
	}
	label, ok := profileLabel[*profile]
	if !ok {
		return fmt.Errorf("%w: --profile must be core, extended, robust or all, not %q", errUsage, *profile)
	}
	if _, err := types.ParseLabelFilter(joinFilters(label, *filter)); err != nil {
		return fmt.Errorf("%w: --label-filter: %v", errUsage, firstLine(err.Error()))
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	impls := make([]report.MatrixImpl, len(dirs))
	names := map[string]string{}
	for i, d := range dirs {
		m, err := runner.LoadManifest(d)
		if err != nil {
			return err
		}
		name := safeName(m.Name)
		if other, dup := names[name]; dup {
			return fmt.Errorf("%s and %s are both named %s: their reports would overwrite each other", other, d, m.Name)
		}
		names[name] = d
		impls[i] = report.MatrixImpl{Name: m.Name, Source: d, Report: name, Absent: driverAbsent(m)}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}

	runArgs := []string{"--no-index", "--out", *out, "--profile", *profile, "--label-filter", *filter, "--time-scale", strconv.FormatFloat(*scale, 'g', -1, 64)}
	results := make([]*report.Results, len(dirs))
	var mu sync.Mutex // stderr's lines, whole
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, format+"\n", a...)
	}
	started := time.Now()
	// Workers take the implementations in the order given, so that with
	// --jobs 1 the runs follow the command line.
	queue := make(chan int, len(impls))
	for i := range impls {
		if impls[i].Absent != "" {
			impls[i].Report = ""
			say("conform matrix: %s: absent (%s)", impls[i].Name, impls[i].Absent)
			continue
		}
		queue <- i
	}
	close(queue)
	var wg sync.WaitGroup
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				im := &impls[i]
				say("conform matrix: %s: started (%s)", im.Name, im.Source)
				t0 := time.Now()
				results[i], im.Error = runOne(self, im, *out, runArgs, say)
				im.Seconds = time.Since(t0).Seconds()
				if im.Absent != "" {
					im.Report = ""
					say("conform matrix: %s: absent (%s)", im.Name, im.Absent)
					continue
				}
				if im.Error != "" {
					im.Report = ""
					say("conform matrix: %s: error after %.0fs: %s", im.Name, im.Seconds, im.Error)
					continue
				}
				r := results[i]
				for _, b := range r.Behaviours {
					if b.Status == report.Fail || b.Unexpected || b.Unrecorded {
						say("conform matrix: %s: %s %s: %s", im.Name, b.Status, b.ID, firstLine(b.Message))
					}
				}
				r.Count()
				say("conform matrix: %s: done in %.0fs: %d behaviours: %d pass, %d fail, %d xfail, %d unsupported, %d flaky",
					im.Name, im.Seconds, len(r.Behaviours), r.Totals[report.Pass], r.Totals[report.Fail], r.Totals[report.XFail], r.Totals[report.Unsupported], r.Totals[report.Flaky])
			}
		}()
	}
	wg.Wait()

	m := report.NewMatrix(*profile, *filter, impls, results)
	if err := m.Write(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "matrix: %d behaviours × %d implementations in %.0fs; the implementations differ on %d\n",
		len(m.Rows), len(impls), time.Since(started).Seconds(), m.Differ)
	fmt.Fprintf(stdout, "report: %s, %s\n", filepath.Join(*out, "matrix.html"), filepath.Join(*out, "matrix.json"))
	if err := writeIndex(*out, stdout); err != nil {
		return err
	}
	for i, r := range results {
		if impls[i].Error != "" || r != nil && r.Failed() {
			return exitError(1)
		}
	}
	return nil
}

// runOne runs conform run on one implementation in a process of its own (a
// Ginkgo suite runs once per process), keeps its output in
// <out>/<name>/conform.log, passes its failures and its own messages on to
// say, and returns its results, or why there are none.
func runOne(self string, im *report.MatrixImpl, out string, args []string, say func(string, ...any)) (*report.Results, string) {
	dir := filepath.Join(out, im.Report)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err.Error()
	}
	// A results.json left by an earlier run must not pass for this one's.
	if err := os.Remove(filepath.Join(dir, "results.json")); err != nil && !os.IsNotExist(err) {
		return nil, err.Error()
	}
	log, err := os.Create(filepath.Join(dir, "conform.log"))
	if err != nil {
		return nil, err.Error()
	}
	defer log.Close()
	cmd := exec.Command(self, append([]string{"run", "--impl", im.Source}, args...)...)
	cmd.Stdout = log
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err.Error()
	}
	if err := cmd.Start(); err != nil {
		return nil, err.Error()
	}
	last := ""
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		// Its own messages, and a count of the specs now and then: a spec's
		// FAIL may be an expected failure, which only its results tell.
		var k, n int
		if msg, ok := strings.CutPrefix(line, "conform: "); ok {
			say("conform matrix: %s: %s", im.Name, msg)
		} else if _, err := fmt.Sscanf(line, "[%d/%d]", &k, &n); err == nil && (k%25 == 0 || k == n) {
			say("conform matrix: %s: %d of %d specs run", im.Name, k, n)
		}
		if strings.TrimSpace(line) != "" {
			last = line
		}
	}
	err = cmd.Wait()
	if _, failed := err.(*exec.ExitError); err != nil && !failed {
		return nil, err.Error()
	}
	// A driver whose hello says it is not on this machine (runner.ErrAbsent,
	// exit 127: an interpreter without the library) ran nothing; conform run
	// says so on its stdout, the log.
	if b, rerr := os.ReadFile(log.Name()); rerr == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if why, ok := strings.CutSuffix(line, " (nothing run)"); ok && strings.Contains(why, ": "+runner.ErrAbsent.Error()+": ") {
				im.Absent = why
				return nil, ""
			}
		}
	}
	res, rerr := readResults(dir)
	if rerr != nil {
		return nil, fmt.Sprintf("%s (%s)", strings.TrimPrefix(last, "conform: "), filepath.Join(dir, "conform.log"))
	}
	return res, ""
}

// driverAbsent says why the driver of m cannot start, when its executable is
// not installed ("" when it is, or will be built).
// A driver that starts but says in its hello that it is absent is found by
// its run (runOne).
func driverAbsent(m *runner.Manifest) string {
	prog := m.Driver[0]
	switch {
	case strings.Contains(prog, "{bin}"):
		return "" // the build makes it
	case strings.Contains(prog, "/"):
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(m.Dir, prog)
		}
		if _, err := os.Stat(prog); err != nil {
			return prog + " not found"
		}
		return ""
	}
	if _, err := exec.LookPath(prog); err != nil {
		return prog + " not found in $PATH"
	}
	return ""
}

// parseInterleaved parses flags and arguments in any order, and returns the
// arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if args = fs.Args(); len(args) == 0 {
			return rest, nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// readImplList reads --impls FILE: a directory a line, relative to the
// directory conform runs in.
func readImplList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--impls: %v", err)
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		if line, _, _ = strings.Cut(line, "#"); strings.TrimSpace(line) != "" {
			dirs = append(dirs, strings.TrimSpace(line))
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("--impls: %s lists no implementation", path)
	}
	return dirs, nil
}
