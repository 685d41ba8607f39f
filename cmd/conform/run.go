package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
	"golang.org/x/term"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/report"
	"github.com/mpconform/mpconform/harness/runner"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

// progress receives the specs' events while RunSpecs runs; the Report nodes below
// are registered once, at init, as Ginkgo requires.
var progress struct {
	out      io.Writer
	tty      bool
	total    int
	done     int
	outcomes []report.Outcome
	traces   map[string]string            // behaviour ID -> rendered trace of its failing run
	visuals  map[string]string            // behaviour ID -> HTML page that explains its failure
	runs     map[string][]*suite.RunFiles // behaviour ID -> the runs of its failing spec
	implDir  string                       // as given to --impl, for the replay command
}

var (
	_ = ReportBeforeSuite(func(r Report) { progress.total = r.PreRunStats.SpecsThatWillRun })
	_ = ReportBeforeEach(func(r SpecReport) {
		if progress.tty && progress.out != nil {
			fmt.Fprintf(progress.out, "\r\033[K[%d/%d] %s", progress.done+1, progress.total, r.LeafNodeText)
		}
	})
	_ = ReportAfterEach(func(r SpecReport) { record(r) })
)

func record(r SpecReport) {
	if progress.out == nil || r.State == types.SpecStatePending {
		return
	}
	id := behaviourOf(r.Labels())
	if id == nil {
		return
	}
	o := report.Outcome{Behaviour: id.ID, Profile: id.Profile, Spec: r.LeafNodeText, Duration: r.RunTime}
	var runs []*suite.RunFiles
	for _, e := range r.ReportEntries {
		switch e.Name {
		case suite.FiguresEntry:
			o.Figures = e.StringRepresentation()
		case suite.LeftoversEntry:
			o.Warnings = append(o.Warnings, e.StringRepresentation())
		case suite.RunEntry:
			if f, ok := e.GetRawValue().(*suite.RunFiles); ok {
				runs = append(runs, f)
			}
		}
	}
	switch {
	case r.State == types.SpecStatePassed:
		o.Passed = true
	case r.State == types.SpecStateSkipped:
		if r.Failure.Message == "" {
			return // filtered out, not run
		}
		o.Skipped = r.Failure.Message
	default:
		o.Failure = report.Plain(strings.TrimSpace(r.Failure.Message) + "\n  at " + r.Failure.Location.String())
		progress.runs[id.ID] = runs
		for _, e := range r.ReportEntries {
			switch e.Name {
			case "trace":
				progress.traces[id.ID] = e.StringRepresentation()
			case suite.VisualisationEntry:
				progress.visuals[id.ID] = e.StringRepresentation()
			}
		}
	}
	progress.outcomes = append(progress.outcomes, o)
	progress.done++
	status := "pass"
	switch {
	case strings.HasPrefix(o.Skipped, suite.Unsupported):
		status = "unsupported" // the word of the table and the report
	case o.Skipped != "" || !o.Passed: // a spec skipped for another reason was not checked
		status = "FAIL"
	}
	if progress.tty {
		fmt.Fprint(progress.out, "\r\033[K")
	}
	warn := ""
	if len(o.Warnings) > 0 {
		warn = " warning: " + strings.Join(o.Warnings, "; ")
	}
	fmt.Fprintf(progress.out, "[%d/%d] %-4s %s (%.1fs)%s\n", progress.done, progress.total, status, o.Spec, r.RunTime.Seconds(), warn)
}

func behaviourOf(labels []string) *catalogue.Behaviour {
	for _, l := range labels {
		if b := catalogue.Get(l); b != nil {
			return b
		}
	}
	return nil
}

// fakeT stands in for *testing.T: RunSpecs works outside go test.
type fakeT struct{ failed bool }

func (t *fakeT) Fail() { t.failed = true }

var profileLabel = map[string]string{
	"core": catalogue.Core, "extended": catalogue.Extended, "robust": catalogue.Robust, "all": "",
}

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	implDir := fs.String("impl", "", "implementation directory (with conform.json)")
	profile := fs.String("profile", "all", "core, extended, robust or all")
	filter := fs.String("label-filter", "", "Ginkgo label filter: behaviour IDs, profiles, features")
	scale := fs.Float64("time-scale", 1, "multiply every duration and deadline by X (slow machines: 2 or more)")
	out := fs.String("out", "reports", "directory for reports")
	update := fs.Bool("update-expectations", false, "rewrite expectations.json: drop xfails that pass, record failures as xfail")
	repeat := fs.Int("repeat", 1, "run everything N times, each in its own process, and report behaviours whose verdict changed")
	shard := fs.String("shard", "", "i/n: run only the i-th of n parts of the selected behaviours (conform merge joins the parts)")
	// Runs side by side under one --out (conform matrix) would write the
	// index at once, each reading the others' results half written.
	noIndex := fs.Bool("no-index", false, "do not write <out>/index.html (conform matrix writes it once, after its runs)")
	rerun := fs.String("rerun-failed", "", "results.json (or its directory): run only the behaviours that failed or were flaky there")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *implDir == "" {
		return fmt.Errorf("%w: --impl DIR is required", errUsage)
	}
	label, ok := profileLabel[*profile]
	if !ok {
		return fmt.Errorf("%w: --profile must be core, extended, robust or all, not %q", errUsage, *profile)
	}
	if *scale <= 0 {
		return fmt.Errorf("%w: --time-scale must be positive", errUsage)
	}
	expr := joinFilters(label, *filter)
	if _, err := types.ParseLabelFilter(expr); err != nil {
		return fmt.Errorf("%w: --label-filter: %v", errUsage, firstLine(err.Error()))
	}
	expr, ok, err := restrict(expr, *rerun, *shard)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(stderr, "conform: nothing to run again: no selected behaviour failed in %s\n", *rerun)
		return nil
	}
	switch {
	case *repeat < 1:
		return fmt.Errorf("%w: --repeat must be at least 1", errUsage)
	case *repeat > 1 && *update:
		return fmt.Errorf("%w: --update-expectations works on a single run, not with --repeat", errUsage)
	case *repeat > 1:
		var rest []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "repeat" && f.Name != "out" {
				rest = append(rest, "--"+f.Name+"="+f.Value.String())
			}
		})
		return repeatRun(*repeat, *implDir, *out, rest, stdout, stderr)
	}

	tty := isTerminal(stderr)
	fmt.Fprintf(stderr, "conform: building and starting %s\n", *implDir)
	im, err := runner.Open(context.Background(), *implDir)
	if errors.Is(err, runner.ErrAbsent) {
		return reportAbsent(stdout, err)
	}
	if err != nil {
		return err
	}
	defer im.Close()
	implInfo := reportImpl(im)
	file, err := report.LoadExpectations(expectationsPath(im.Manifest))
	if err != nil {
		return err
	}
	exp := file.For(implInfo.Facts())
	fmt.Fprintf(stderr, "conform: %s %s (%s), features %s\n", im.Hello.Name, im.Hello.Version, im.Hello.Language, strings.Join(im.Hello.Features, ", "))
	if rt := implInfo.Runtime(); rt != "" {
		fmt.Fprintf(stderr, "conform: on %s\n", rt)
	}

	suite.Configure(suite.Config{Impl: im, TimeScale: *scale})
	progress.out, progress.tty, progress.traces, progress.visuals = stderr, tty, map[string]string{}, map[string]string{}
	progress.runs, progress.implDir = map[string][]*suite.RunFiles{}, *implDir
	started := time.Now()
	runSpecs(expr)
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}

	res := &report.Results{
		Impl:    implInfo,
		Profile: *profile, Filter: *filter, TimeScale: *scale, Started: started,
		Behaviours: report.Judge(progress.outcomes, exp, suite.Unsupported), Shard: *shard,
	}
	dir := filepath.Join(*out, safeName(im.Name))
	if err := writeTraces(dir, res); err != nil {
		return err
	}
	if err := res.Write(dir); err != nil {
		return err
	}
	res.Table(stdout)
	fmt.Fprintf(stdout, "reports: %s/{results.json,junit.xml,summary.md}\n", dir)
	if !*noIndex {
		if err := writeIndex(*out, stdout); err != nil {
			return err
		}
	}
	if *update {
		if err := updateExpectations(im, file, res); err != nil {
			return err
		}
	}
	if len(res.Behaviours) == 0 && *shard == "" { // a shard may get no behaviour, when there are fewer than shards
		fmt.Fprintf(stderr, "conform: no behaviour matched profile %q and filter %q\n", *profile, *filter)
		return exitError(1)
	}
	if res.Failed() {
		return exitError(1)
	}
	return nil
}

func runSpecs(filter string) {
	sc, rc := GinkgoConfiguration()
	sc.LabelFilter = filter
	sc.Timeout = 24 * time.Hour
	rc.Succinct = true
	// Progress and results are ours; Ginkgo's own reporter writes nowhere.
	formatter.ColorableStdOut = io.Discard
	gomega.RegisterFailHandler(Fail)
	RunSpecs(&fakeT{}, "mpconform", sc, rc)
}

func joinFilters(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") && (" + b + ")"
}

func expectationsPath(im *runner.Manifest) string {
	p := im.Expectations
	if p == "" {
		p = "expectations.json"
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(im.Dir, p)
	}
	return p
}

// writeTraces saves each failing behaviour's trace next to the results, the
// page that explains it when its spec attached one, and the files of its runs
// (writeRuns).
func writeTraces(dir string, res *report.Results) error {
	tdir := filepath.Join(dir, "traces")
	if err := os.RemoveAll(tdir); err != nil {
		return err
	}
	for i, b := range res.Behaviours {
		if b.Status == report.Pass {
			continue
		}
		if err := writeRuns(dir, &res.Behaviours[i]); err != nil {
			return err
		}
		if b := res.Behaviours[i]; b.Replay != "" {
			progress.traces[b.ID] = "replay: " + b.Replay + "\nfiles: " + b.Files + "\n\n" + progress.traces[b.ID]
		}
		for _, f := range []struct {
			content string
			ext     string
			field   *string
		}{
			{progress.traces[b.ID], ".txt", &res.Behaviours[i].Trace},
			{progress.visuals[b.ID], ".html", &res.Behaviours[i].Visualisation},
		} {
			if f.content == "" {
				continue
			}
			if err := os.MkdirAll(tdir, 0o755); err != nil {
				return err
			}
			name := filepath.Join("traces", b.ID+f.ext)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(f.content), 0o644); err != nil {
				return err
			}
			*f.field = name
		}
	}
	return nil
}

// writeRuns keeps the runs of b's failing spec under traces/<id>/run-<k>/,
// each as it was: the scenario sent, the driver's trace files and its stderr;
// and sets b's replay command to run the last one again.
func writeRuns(dir string, b *report.Behaviour) error {
	runs := progress.runs[b.ID]
	if len(runs) == 0 {
		return nil
	}
	files := filepath.Join("traces", b.ID)
	for k, run := range runs {
		rdir := filepath.Join(dir, files, fmt.Sprintf("run-%d", k+1))
		if err := os.MkdirAll(rdir, 0o755); err != nil {
			return err
		}
		out := append([]trace.File{{Name: "scenario.json", Data: run.Scenario}, {Name: "stderr.txt", Data: run.Stderr}}, run.Trace...)
		for _, f := range out {
			if err := os.WriteFile(filepath.Join(rdir, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
		if k == len(runs)-1 {
			b.Replay = fmt.Sprintf("conform scenario run %s --impl %s", filepath.Join(rdir, "scenario.json"), progress.implDir)
		}
	}
	b.Files = files
	return nil
}

// reportImpl is the implementation as reports name it: its manifest's name and
// what its hello says.
func reportImpl(im *runner.Impl) report.Impl {
	h := im.Hello
	return report.Impl{Name: im.Name, Dir: im.Dir, Version: h.Version, Language: h.Language,
		Features: h.Features, StartMethod: h.StartMethod, Interpreter: h.Interpreter,
		InterpreterVersion: h.InterpreterVersion, Module: h.Module, ModuleVersion: h.ModuleVersion}
}

// reportAbsent says, in one line, that an implementation is not on this
// machine (runner.ErrAbsent): no failure, so conform exits 0.
func reportAbsent(stdout io.Writer, err error) error {
	fmt.Fprintf(stdout, "%v (nothing run)\n", err)
	return nil
}

// updateExpectations rewrites the expectations file from res: with conditions
// when hello says what runs the implementation (report.Expectations.Update).
func updateExpectations(im *runner.Impl, exp *report.Expectations, res *report.Results) error {
	for _, note := range exp.Update(res, res.Impl.Facts()) {
		fmt.Fprintf(os.Stderr, "conform: %s\n", note)
	}
	p := expectationsPath(im.Manifest)
	fmt.Fprintf(os.Stderr, "conform: rewrote %s\n", p)
	return exp.Save(p)
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return unsafe.ReplaceAllString(s, "_") }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("CI") == "" && term.IsTerminal(int(f.Fd()))
}
