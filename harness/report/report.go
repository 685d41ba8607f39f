// Package report turns a run's spec outcomes into per-behaviour results and writes
// them as results.json, junit.xml and summary.md (and a terminal table).
//
// It knows the result statuses (pass, fail, xfail, unsupported, flaky) and the
// expectations file format; it does not run anything.
package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Statuses of a behaviour's result.
const (
	Pass        = "pass"
	Fail        = "fail"
	XFail       = "xfail"       // failed, and recorded as a known failure
	Unsupported = "unsupported" // the driver lacks a feature the specs need
	Flaky       = "flaky"       // failed, and recorded as intermittent
)

// Statuses in report order.
var Statuses = []string{Pass, Fail, XFail, Unsupported, Flaky}

// Expectations is an implementation's expectations.json: behaviours known to fail
// (xfail) or to fail sometimes (flaky), each with its reason and a link. An
// entry of XFail or Flaky applies to every implementation that uses the file;
// one of Conditional only to those its conditions match (conditions.go), and
// For gives the expectations of one implementation.
type Expectations struct {
	XFail       map[string]Expectation `json:"xfail"`
	Flaky       map[string]Expectation `json:"flaky"`
	Conditional []Conditional          `json:"conditional,omitempty"`
}

// Expectation explains one known divergence.
type Expectation struct {
	Reason string `json:"reason"`
	Link   string `json:"link,omitempty"`
}

// LoadExpectations reads path; a missing file means no expectations.
func LoadExpectations(path string) (*Expectations, error) {
	e := &Expectations{XFail: map[string]Expectation{}, Flaky: map[string]Expectation{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(e); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if e.XFail == nil {
		e.XFail = map[string]Expectation{}
	}
	if e.Flaky == nil {
		e.Flaky = map[string]Expectation{}
	}
	if err := e.checkConditional(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return e, nil
}

// Save writes the expectations back, sorted and indented.
func (e *Expectations) Save(path string) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Outcome is what one spec did.
type Outcome struct {
	Behaviour string
	Profile   string
	Spec      string
	Passed    bool
	Skipped   string // the skip message, when skipped
	Failure   string // the failure message, when failed
	Figures   string // what the spec measured, for the report (peak memory, ...)
	Warnings  []string
	Duration  time.Duration
}

// Behaviour is one behaviour's result (the objects of results.json's
// "behaviours" list).
type Behaviour struct {
	ID         string `json:"id"`
	Profile    string `json:"profile"`
	Status     string `json:"status"`
	Specs      int    `json:"specs"`
	DurationMS int64  `json:"duration_ms"`
	Message    string `json:"message,omitempty"`
	Unexpected bool   `json:"unexpected_pass,omitempty"`  // passed but expected to fail
	Trace      string `json:"trace,omitempty"`            // file with the failing run's trace, relative to results.json
	Unrecorded bool   `json:"unrecorded_flake,omitempty"` // its verdict changed between runs, and expectations.json does not say it may
	Figures    string `json:"figures,omitempty"`          // what its specs measured (peak memory, ...)
	// Visualisation is the file with the HTML page that explains the failure
	// (porcupine's view of a history), relative to results.json.
	Visualisation string `json:"visualisation,omitempty"`
	// Files is the directory, relative to results.json, that keeps each run
	// of the failing spec: the scenario sent, the trace files as the driver
	// wrote them and its stderr (run-<k>/scenario.json, <pid>.jsonl,
	// stderr.txt); Replay is the command that runs its last run again,
	// from the directory conform ran in.
	Files  string `json:"files,omitempty"`
	Replay string `json:"replay,omitempty"`
	// Warnings are what a run of the behaviour left behind that its specs do
	// not judge (files in $TMPDIR or /dev/shm, docs/protocol.md §3).
	Warnings []string `json:"warnings,omitempty"`
}

// Results is a whole run for one implementation.
type Results struct {
	Impl       Impl           `json:"impl"`
	Profile    string         `json:"profile"`
	Filter     string         `json:"label_filter,omitempty"`
	TimeScale  float64        `json:"time_scale"`
	Started    time.Time      `json:"started"`
	Behaviours []Behaviour    `json:"behaviours"`
	Totals     map[string]int `json:"totals"`
	Runs       int            `json:"runs,omitempty"` // how many runs were merged (conform run --repeat)
	// Shard is "i/n" when the run checked the i-th of n parts of the
	// behaviours its profile and filter select (conform run --shard), so that
	// JoinShards can tell a missing or repeated part.
	Shard string `json:"shard,omitempty"`
}

// Impl identifies the implementation in a report. The fields after Features
// are those of hello that say what runs it, when it says (docs/protocol.md §2).
type Impl struct {
	Name               string   `json:"name"`
	Dir                string   `json:"dir"`
	Version            string   `json:"version"`
	Language           string   `json:"language"`
	Features           []string `json:"features"`
	StartMethod        string   `json:"start_method,omitempty"`
	Interpreter        string   `json:"interpreter,omitempty"`
	InterpreterVersion string   `json:"interpreter_version,omitempty"`
	Module             string   `json:"module,omitempty"`
	ModuleVersion      string   `json:"module_version,omitempty"`
}

// Runtime says what runs the implementation, as hello told: "interpreter
// pypy 3.9.16, module multiprocessing 3.9.16, start method spawn"; "" when
// hello told none of it.
func (im Impl) Runtime() string {
	var parts []string
	for _, p := range [][3]string{{"interpreter", im.Interpreter, im.InterpreterVersion},
		{"module", im.Module, im.ModuleVersion}, {"start method", im.StartMethod, ""}} {
		if p[1] != "" {
			parts = append(parts, strings.TrimSpace(p[0]+" "+p[1]+" "+p[2]))
		}
	}
	return strings.Join(parts, ", ")
}

// Judge groups spec outcomes by behaviour and applies the expectations.
// unsupportedPrefix marks the skip messages of unsupported specs.
func Judge(outcomes []Outcome, exp *Expectations, unsupportedPrefix string) []Behaviour {
	byID := map[string]*Behaviour{}
	var order []string
	for _, o := range outcomes {
		b := byID[o.Behaviour]
		if b == nil {
			b = &Behaviour{ID: o.Behaviour, Profile: o.Profile, Status: Pass}
			byID[o.Behaviour] = b
			order = append(order, o.Behaviour)
		}
		b.Specs++
		b.DurationMS += o.Duration.Milliseconds()
		b.Warnings = append(b.Warnings, o.Warnings...)
		switch {
		case o.Figures == "":
		case b.Figures == "":
			b.Figures = o.Figures
		default:
			b.Figures += "; " + o.Figures
		}
		switch {
		case o.Skipped != "" && strings.HasPrefix(o.Skipped, unsupportedPrefix):
			if b.Status == Pass {
				// The status says unsupported; the message says why, once.
				b.Status, b.Message = Unsupported, strings.TrimPrefix(o.Skipped, Unsupported+": ")
			}
		case o.Skipped != "":
			// Skipped for another reason than a missing feature (a failed
			// BeforeAll, say): the behaviour was not checked.
			if b.Status != Fail {
				b.Status, b.Message = Fail, "not checked: "+o.Skipped
			}
		case !o.Passed:
			if b.Status != Fail {
				b.Status, b.Message = Fail, o.Failure
			}
		}
	}
	out := make([]Behaviour, 0, len(order))
	for _, id := range order {
		b := byID[id]
		if x, ok := exp.XFail[id]; ok {
			switch b.Status {
			case Fail:
				b.Status, b.Message = XFail, x.Reason+" ("+x.Link+"); failure: "+firstLine(b.Message)
			case Pass:
				b.Unexpected = true
				b.Message = "unexpected pass: expectations.json says it fails: " + x.Reason
			}
		}
		if x, ok := exp.Flaky[id]; ok && b.Status == Fail {
			b.Status, b.Message = Flaky, x.Reason+"; failure: "+firstLine(b.Message)
		}
		out = append(out, *b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Failed reports whether the run must exit non-zero: a behaviour failed, one
// passed that was expected to fail, or one changed its verdict between runs
// without being recorded as flaky.
func (r *Results) Failed() bool {
	for _, b := range r.Behaviours {
		if b.Status == Fail || b.Unexpected || b.Unrecorded {
			return true
		}
	}
	return false
}

// Count fills Totals.
func (r *Results) Count() {
	r.Totals = map[string]int{}
	for _, s := range Statuses {
		r.Totals[s] = 0
	}
	for _, b := range r.Behaviours {
		r.Totals[b.Status]++
	}
}

// Write writes results.json, junit.xml and summary.md into dir.
func (r *Results) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.Count()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var j bytes.Buffer
	if err := r.JUnit(&j); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "junit.xml"), j.Bytes(), 0o644); err != nil {
		return err
	}
	var md bytes.Buffer
	r.Markdown(&md)
	return os.WriteFile(filepath.Join(dir, "summary.md"), md.Bytes(), 0o644)
}

// Table prints the behaviour × status table for a terminal.
func (r *Results) Table(w io.Writer) {
	r.Count()
	width := 0
	for _, b := range r.Behaviours {
		width = max(width, len(b.ID))
	}
	for _, b := range r.Behaviours {
		status := b.Status
		switch {
		case b.Unexpected:
			status = "pass (unexpected: listed as xfail)"
		case b.Unrecorded:
			status = "flaky (not recorded)"
		}
		line := fmt.Sprintf("  %-*s  %-9s  %-11s  %s", width, b.ID, b.Profile, status, firstLine(b.Message))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "%s: %d behaviours: %d pass, %d fail, %d xfail, %d unsupported, %d flaky\n",
		r.Impl.Name, len(r.Behaviours), r.Totals[Pass], r.Totals[Fail], r.Totals[XFail], r.Totals[Unsupported], r.Totals[Flaky])
}

// Markdown writes summary.md.
func (r *Results) Markdown(w io.Writer) {
	r.Count()
	fmt.Fprintf(w, "# conform: %s\n\n", r.Impl.Name)
	fmt.Fprintf(w, "%s %s (%s), profile `%s`, time scale %g, %s.\n\n", r.Impl.Name, r.Impl.Version, r.Impl.Language, r.Profile, r.TimeScale, r.Started.UTC().Format(time.RFC3339))
	if rt := r.Impl.Runtime(); rt != "" {
		fmt.Fprintf(w, "Runs on %s.\n\n", rt)
	}
	fmt.Fprintf(w, "| status | count |\n|---|---|\n")
	for _, s := range Statuses {
		fmt.Fprintf(w, "| %s | %d |\n", s, r.Totals[s])
	}
	fmt.Fprintf(w, "\n| behaviour | profile | status | specs | ms | message |\n|---|---|---|---|---|---|\n")
	for _, b := range r.Behaviours {
		status := b.Status
		switch {
		case b.Unexpected:
			status += " (unexpected)"
		case b.Unrecorded:
			status += " (not recorded)"
		}
		msg := strings.ReplaceAll(firstLine(b.Message), "|", `\|`)
		if b.Trace != "" {
			msg += fmt.Sprintf(" ([trace](%s))", b.Trace)
		}
		if b.Visualisation != "" {
			msg += fmt.Sprintf(" ([visualisation](%s))", b.Visualisation)
		}
		if b.Files != "" {
			msg += fmt.Sprintf(" ([files](%s))", b.Files)
		}
		if b.Replay != "" {
			msg += fmt.Sprintf(" replay: `%s`", b.Replay)
		}
		for _, w := range b.Warnings {
			msg += " warning: " + strings.ReplaceAll(w, "|", `\|`)
		}
		if b.Figures != "" {
			msg = strings.TrimSpace(msg + " " + strings.ReplaceAll(b.Figures, "|", `\|`))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %d | %d | %s |\n", b.ID, b.Profile, status, b.Specs, b.DurationMS, msg)
	}
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    float64       `xml:"time,attr"`
	Failure *junitMessage `xml:"failure,omitempty"`
	Skipped *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes junit.xml: one test case per behaviour.
func (r *Results) JUnit(w io.Writer) error {
	s := junitSuite{Name: "conform " + r.Impl.Name}
	for _, b := range r.Behaviours {
		c := junitCase{Class: strings.SplitN(b.ID, ".", 2)[0], Name: b.ID, Time: float64(b.DurationMS) / 1000}
		switch {
		case b.Status == Fail || b.Unexpected || b.Unrecorded:
			c.Failure = &junitMessage{Message: firstLine(b.Message), Text: b.Message}
			s.Failures++
		case b.Status != Pass:
			c.Skipped = &junitMessage{Message: b.Status + ": " + firstLine(b.Message)}
			s.Skipped++
		}
		s.Tests++
		s.Time += c.Time
		s.Cases = append(s.Cases, c)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// firstLine squeezes a (Gomega, multi-line) message into one line of at most 160
// characters for tables; results.json keeps the whole message.
func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}
