// Package benchfile writes benchmark results in the Go benchmark format
// (https://golang.org/design/14313-benchmark-format), as `go test -bench` does, so
// that benchstat and golang.org/x/perf read them, and reads them back.
//
// A file starts with configuration lines (`impl: go-reference`), then one `Unit`
// line per custom unit with its direction (`Unit msgs/s better=higher
// assume=nothing`), then one line per sample. A benchmark that did not run is
// written as `go test` writes a skipped or failed one, `--- SKIP: BenchmarkX`
// with the reason on the next line: benchstat ignores those lines and Read
// returns them, so that a report says "unsupported", never 0.
package benchfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Writer writes one file.
type Writer struct {
	w     io.Writer
	procs int
}

// Value is one measurement of a sample.
type Value struct {
	Value float64
	Unit  string
}

// NewWriter writes the configuration (key, value pairs, in order) and the unit
// metadata (unit -> "higher" or "lower") to w. procs is the suffix of benchmark
// names (-2), as GOMAXPROCS is for go test; 1 writes none, as go test does.
func NewWriter(w io.Writer, config [][2]string, better map[string]string, procs int) (*Writer, error) {
	var b strings.Builder
	for _, kv := range config {
		fmt.Fprintf(&b, "%s: %s\n", kv[0], strings.ReplaceAll(kv[1], "\n", " "))
	}
	units := make([]string, 0, len(better))
	for u := range better {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		fmt.Fprintf(&b, "Unit %s better=%s assume=nothing\n", u, better[u])
	}
	_, err := io.WriteString(w, b.String())
	return &Writer{w: w, procs: procs}, err
}

// FullName is the name of benchmark name ("Queue/p=1") in a file: "Benchmark"
// in front and the procs suffix behind.
func FullName(name string, procs int) string {
	if procs > 1 {
		return fmt.Sprintf("Benchmark%s-%d", name, procs)
	}
	return "Benchmark" + name
}

// Result writes one sample of benchmark name: iters operations and their values.
func (w *Writer) Result(name string, iters int, values ...Value) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%8d", FullName(name, w.procs), iters)
	for _, v := range values {
		b.WriteByte('\t')
		b.WriteString(Format(v.Value, v.Unit))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w.w, b.String())
	return err
}

// Skip records that benchmark name did not run (unsupported) and why.
func (w *Writer) Skip(name, reason string) error { return w.note("SKIP", name, reason) }

// Fail records that benchmark name failed to run and why.
func (w *Writer) Fail(name, reason string) error { return w.note("FAIL", name, reason) }

func (w *Writer) note(kind, name, reason string) error {
	_, err := fmt.Fprintf(w.w, "--- %s: %s\n    %s\n", kind, FullName(name, w.procs), oneLine(reason))
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Format formats a value as go test does: ten places before the decimal point,
// four significant digits for small numbers.
func Format(x float64, unit string) string {
	var format string
	switch y := math.Abs(x); {
	case y == 0 || y >= 999.95:
		format = "%10.0f %s"
	case y >= 99.995:
		format = "%12.1f %s"
	case y >= 9.9995:
		format = "%13.2f %s"
	case y >= 0.99995:
		format = "%14.3f %s"
	case y >= 0.099995:
		format = "%15.4f %s"
	case y >= 0.0099995:
		format = "%16.5f %s"
	case y >= 0.00099995:
		format = "%17.6f %s"
	default:
		format = "%18.7f %s"
	}
	return fmt.Sprintf(format, x, unit)
}

// File is what Read found in one file.
type File struct {
	Name    string
	Config  map[string]string // the file configuration of its first result
	Results []*benchfmt.Result
	Units   benchfmt.UnitMetadataMap
	Skipped map[string]string // full benchmark name -> reason: unsupported
	Failed  map[string]string // full benchmark name -> reason: the run went wrong
}

// CPU is the model of the processor the results were measured on, from the
// file's cpu line (go test and conform bench write one); "" when unknown.
func (f *File) CPU() string {
	if cpu := strings.TrimSpace(f.Config["cpu"]); cpu != "unknown" {
		return cpu
	}
	return ""
}

// ReadFile reads one results file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Read(data, path)
}

// Read parses a results file. A syntax error in a result line is an error: a
// file that the harness or go test wrote has none.
func Read(data []byte, name string) (*File, error) {
	f := &File{Name: name, Config: map[string]string{}, Skipped: map[string]string{}, Failed: map[string]string{}}
	r := benchfmt.NewReader(bytes.NewReader(data), name)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			if len(f.Results) == 0 {
				for _, c := range rec.Config {
					if c.File {
						f.Config[c.Key] = string(c.Value)
					}
				}
			}
			f.Results = append(f.Results, rec.Clone())
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	f.Units = r.Units()
	sc := bufio.NewScanner(bytes.NewReader(data))
	var last map[string]string
	var lastName string
	for sc.Scan() {
		// go test indents the notes of sub-benchmarks; their reason is the
		// next, more indented, line.
		line := strings.TrimLeft(sc.Text(), " \t")
		indented := len(line) < len(sc.Text())
		switch {
		case strings.HasPrefix(line, "--- SKIP: "):
			last, lastName = f.Skipped, strings.TrimPrefix(line, "--- SKIP: ")
			last[lastName] = ""
		case strings.HasPrefix(line, "--- FAIL: "):
			last, lastName = f.Failed, strings.TrimPrefix(line, "--- FAIL: ")
			last[lastName] = ""
		case last != nil && indented && last[lastName] == "":
			last[lastName] = line
		default:
			last = nil
		}
	}
	return f, nil
}
