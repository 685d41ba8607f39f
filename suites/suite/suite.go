// Package suite is the glue between the Ginkgo specs in suites/<area> and the
// implementation under test: which implementation, at what time scale, and how a
// spec runs a scenario on it and gets the trace back.
//
// `go test ./suites/...` runs the specs against the implementation named by
// $MPCONFORM_IMPL (default: the Go reference in impl/); cmd/conform links the same
// specs and calls Configure before running them.
package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/format"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/protocol"
	"github.com/mpconform/mpconform/harness/runner"
	"github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/schema"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/harness/tracerules"
)

// Gomega formats a value as its Go type and fields; an error reads better as
// its message, and a value with a String method (a trace record, a leaked
// process) as that (conform drops the type header Gomega still prints).
func init() {
	format.UseStringerRepresentation = true
	format.RegisterCustomFormatter(func(v any) (string, bool) {
		if err, ok := v.(error); ok {
			return err.Error(), true
		}
		return "", false
	})
}

// Config is what the specs run against.
type Config struct {
	Impl      *runner.Impl
	TimeScale float64 // multiplies every duration in scenarios and deadlines
}

var (
	cfg     Config
	cfgOnce sync.Once
	cfgErr  error
	opened  bool // Impl was opened here and is closed after the suite
)

// Configure sets the implementation and time scale; call it before RunSpecs.
func Configure(c Config) {
	cfgOnce.Do(func() {})
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	cfg = c
}

// current returns the configuration, opening $MPCONFORM_IMPL (or impl/) on first
// use when nobody called Configure.
func current() Config {
	cfgOnce.Do(func() {
		dir := os.Getenv("MPCONFORM_IMPL")
		if dir == "" {
			dir = filepath.Join(moduleRoot(), "impl")
		}
		scale := 1.0
		if s := os.Getenv("MPCONFORM_TIME_SCALE"); s != "" {
			scale, cfgErr = strconv.ParseFloat(s, 64)
		}
		if cfgErr == nil {
			cfg.TimeScale = scale
			cfg.Impl, cfgErr = runner.Open(context.Background(), dir)
			opened = true
		}
	})
	if cfgErr != nil {
		Fail("cannot open the implementation: " + cfgErr.Error())
	}
	return cfg
}

var _ = AfterSuite(func() {
	if opened && cfg.Impl != nil {
		cfg.Impl.Close()
	}
})

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// Spec declares a spec that checks behaviour b. Its labels are b's ID, profile and
// features, so label filters select by any of them; when the driver lacks a
// feature the spec is skipped as unsupported.
func Spec(b *catalogue.Behaviour, text string, body func()) bool {
	labels := Label(append([]string{b.ID, b.Profile}, b.Features...)...)
	return It(b.ID+": "+text, labels, func() {
		hello := current().Impl.Hello
		if missing, ok := hello.Supports(b.Features...); !ok {
			Skip(Unsupported + NoFeature + missing)
		}
		if why := outsideVersions(b, hello.Semantics); why != "" {
			Skip(Unsupported + why)
		}
		running = b
		defer func() { running = nil }()
		body()
	})
}

// running is the behaviour whose spec is running (Ginkgo runs one spec at a
// time in a process), whose features Run checks the scenario's ops against.
var running *catalogue.Behaviour

// declared returns an error when the running behaviour's features do not
// offer an op (or a field) that the scenario uses, as the protocol's table says
// (harness/protocol): so the features a behaviour declares, by which a driver
// without them is reported unsupported, are those its scenarios need.
func declared(doc []byte) error {
	if running == nil {
		return errors.New("no behaviour to check the scenario's ops against: run scenarios in a suite.Spec")
	}
	features := make([]protocol.Feature, len(running.Features))
	for i, f := range running.Features {
		if features[i] = protocol.Feature(f); !slices.Contains(protocol.Features, features[i]) {
			return fmt.Errorf("%s declares the feature %q, which the protocol does not have", running.ID, f)
		}
	}
	if err := protocol.CheckFeatures(doc, features); err != nil {
		return fmt.Errorf("%s's features (its catalogue.Add) lack one its scenario uses: %v", running.ID, err)
	}
	return nil
}

// FiguresEntry names the report entry in which a spec leaves what it measured
// (peak memory, ...), for the report; see Figures.
const FiguresEntry = "figures"

// Figures records what a spec measured, formatted as fmt.Sprintf does, in
// the report of its behaviour (results.json, summary.md), pass or fail.
func Figures(format string, args ...any) {
	AddReportEntry(FiguresEntry, fmt.Sprintf(format, args...))
}

// LeftoversEntry names the report entry of a run that left files in its
// $TMPDIR or in /dev/shm: a warning in the report, with the paths, for the
// specs that do not judge leftovers (docs/protocol.md §3).
const LeftoversEntry = "leftovers"

// VisualisationEntry names the report entry that holds an HTML page explaining
// a failure (porcupine's view of a history); conform saves it beside the
// failure's trace, as traces/<behaviour>.html.
const VisualisationEntry = "visualisation"

// Attach adds content to the spec's report under name, shown only when the
// spec fails.
func Attach(name, content string) {
	AddReportEntry(name, content, ReportEntryVisibilityFailureOrVerbose)
}

// Unsupported prefixes the skip message of a spec that the driver does not
// support: NoFeature and the feature it lacks, or catalogue.OutsideVersions
// and the versions.
const Unsupported = "unsupported: "

// NoFeature follows Unsupported when the driver lacks a feature.
const NoFeature = "the driver does not list feature "

// outsideVersions says why a behaviour that holds for some CPython versions
// only does not apply to a driver that follows the CPython version
// semantics ("" when it does apply).
func outsideVersions(b *catalogue.Behaviour, semantics string) string {
	if b.Versions == "" {
		return ""
	}
	if semantics == "" {
		return fmt.Sprintf("%s%s, and the driver's hello names no CPython version whose semantics it follows",
			catalogue.OutsideVersions, b.Versions)
	}
	in, err := catalogue.InVersions(b.Versions, semantics)
	if err != nil {
		return fmt.Sprintf("%s%s, and the driver's hello semantics is not a version: %v", catalogue.OutsideVersions, b.Versions, err)
	}
	if in {
		return ""
	}
	return fmt.Sprintf("%s%s; the driver follows CPython %s", catalogue.OutsideVersions, b.Versions, semantics)
}

// Scale converts milliseconds at time scale 1 into the configured scale.
func Scale(ms float64) time.Duration {
	return time.Duration(ms * current().TimeScale * float64(time.Millisecond))
}

// Run sends the scenario to the implementation and returns its trace. The spec
// fails when the scenario is invalid (a harness bug) or uses an op outside the
// features of the spec's behaviour, the trace breaks a rule of the protocol
// (harness/tracerules), the driver does not exit 0, or any process outlives
// the run. Files left in $TMPDIR or /dev/shm are a warning in the report. The
// trace is attached to the spec's report and shown when the spec fails.
func Run(s *scenario.Scenario) *trace.Trace {
	GinkgoHelper()
	return RunWithin(60_000, s)
}

// RunWithin is Run with a deadline other than 60 s (at time scale 1), for
// scenarios that are long by design.
func RunWithin(deadlineMS float64, s *scenario.Scenario) *trace.Trace {
	GinkgoHelper()
	res, err := runScenario(s, deadlineMS)
	if err != nil {
		Fail(fmt.Sprintf("the run failed: %v", err))
	}
	if len(res.Leaks) > 0 {
		Fail("processes outlived the run (killed now):\n  " + strings.Join(procStrings(res.Leaks), "\n  "))
	}
	return res.Trace
}

func procStrings(ps []runner.Proc) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// RunAllowingErrors runs the scenario and returns what happened, without judging
// the driver's exit or leaks; the trace is attached as in Run.
func RunAllowingErrors(s *scenario.Scenario) (*runner.Result, error) {
	GinkgoHelper()
	return runScenario(s, 60_000)
}

func runScenario(s *scenario.Scenario, deadlineMS float64) (*runner.Result, error) {
	GinkgoHelper()
	return runScenarioWith(s, deadlineMS, nil)
}

func runScenarioWith(s *scenario.Scenario, deadlineMS float64, cpus []int) (*runner.Result, error) {
	GinkgoHelper()
	c := current()
	doc, err := s.Scaled(c.TimeScale).JSON()
	if err == nil {
		if err = schema.Scenario(doc); err != nil {
			err = fmt.Errorf("the harness built an invalid scenario: %v", err)
		}
	}
	if err == nil {
		err = declared(doc)
	}
	if err != nil {
		Fail(err.Error())
	}
	opts := runner.Options{Deadline: Scale(deadlineMS), Grace: Scale(2_000), CPUs: cpus}
	res, err := c.Impl.Run(context.Background(), doc, opts)
	// A run across a step of the wall clock cannot be judged on its timings
	// (runner/clock.go): run it again, at most twice, and say so.
	for retry := 0; retry < 2 && res != nil && res.ClockStepped(); retry++ {
		AddReportEntry("clock", fmt.Sprintf("the wall clock moved by %v against the monotonic clock during the run: ran it again", res.ClockStep))
		res, err = c.Impl.Run(context.Background(), doc, opts)
	}
	if res != nil {
		AddReportEntry("trace", Render(res), ReportEntryVisibilityFailureOrVerbose)
		AddReportEntry(RunEntry, &RunFiles{Scenario: doc, Trace: res.Files, Stderr: res.Stderr}, ReportEntryVisibilityNever)
		// Only the specs about leftovers fail on them (they look at the
		// result); for the others they are a warning (protocol.md §3). A
		// file in /dev/shm that a live process uses is not the run's.
		if left := res.Leftovers(); len(left) > 0 {
			AddReportEntry(LeftoversEntry, "the run left "+strings.Join(left, ", ")+" (removed now)")
		}
		// Whatever the spec checks, the trace obeys the protocol's own rules
		// (the schema among them).
		if rerr := tracerules.Check(res.Files); rerr != nil {
			Fail(rerr.Error())
		}
	}
	var de *runner.DriverError
	if errors.As(err, &de) || errors.Is(err, runner.ErrDeadline) {
		return res, err
	}
	if err != nil {
		Fail(fmt.Sprintf("the run failed: %v", err))
	}
	return res, nil
}

// RunOnCPUs is Run with the driver started on the CPUs of the harness's own
// affinity mask that keep returns (their indices in it, 0 the first): for
// a rule about the CPUs a process may use rather than those the machine has.
// The spec fails when keep leaves none, or the mask cannot be read or set.
func RunOnCPUs(keep func(own []int) []int, s *scenario.Scenario) *trace.Trace {
	GinkgoHelper()
	own, err := runner.OwnCPUs()
	Expect(err).NotTo(HaveOccurred(), "reading the harness's CPU affinity")
	cpus := keep(own)
	Expect(cpus).NotTo(BeEmpty(), "no CPU left of the harness's %v to run the driver on", own)
	res, err := runScenarioWith(s, 60_000, cpus)
	if err != nil {
		Fail(fmt.Sprintf("the run failed: %v", err))
	}
	if len(res.Leaks) > 0 {
		Fail("processes outlived the run (killed now):\n  " + strings.Join(procStrings(res.Leaks), "\n  "))
	}
	return res.Trace
}

// RunEntry names the report entry of each run a spec makes, a *RunFiles:
// conform keeps the files of a failing spec's runs beside its trace, so that
// the run can be replayed (conform scenario run) and its files read.
const RunEntry = "run"

// RunFiles is what one run sent and got back, as it was.
type RunFiles struct {
	Scenario []byte       // the scenario sent, scaled
	Trace    []trace.File // the trace files the driver wrote
	Stderr   []byte       // the driver's stderr
}

// String keeps Ginkgo's report small: the files are for conform only.
func (f *RunFiles) String() string {
	return fmt.Sprintf("run: %d bytes of scenario, %d trace files", len(f.Scenario), len(f.Trace))
}

// Render shows a run's trace and output for a failure message.
func Render(res *runner.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "driver exit %d after %v\n", res.Exit, res.Duration.Round(time.Millisecond))
	if res.Trace != nil {
		var t0 int64
		if len(res.Trace.Records) > 0 {
			t0 = res.Trace.Records[0].T0
		}
		for _, r := range res.Trace.Records {
			fmt.Fprintf(&b, "%+9.3fms %s\n", float64(r.T0-t0)/1e6, r)
		}
	}
	if len(res.Stderr) > 0 {
		fmt.Fprintf(&b, "stderr:\n%s\n", tail(res.Stderr, 2000))
	}
	for _, l := range res.Leaks {
		fmt.Fprintf(&b, "leaked: %s\n", l)
	}
	return b.String()
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Main returns the trace's main process; the spec fails when there is none.
func Main(t *trace.Trace) trace.Process {
	GinkgoHelper()
	m, ok := t.Main()
	Expect(ok).To(BeTrue(), "the trace has no main process (no process.begin with program main)")
	return m
}

// Program returns the process that ran program; the spec fails when none did.
func Program(t *trace.Trace, program string) trace.Process {
	GinkgoHelper()
	p, ok := t.Program(program)
	Expect(ok).To(BeTrue(), "no process ran program %q", program)
	return p
}
