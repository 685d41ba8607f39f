// Package tracerules checks every trace against the rules of the driver
// protocol that no spec owns (docs/protocol.md §7, §8): each record matches
// the trace schema, each process's file counts seq 0, 1, 2, ..., begins with
// process.begin and ends with process.end, an op that may block has a pending
// record before it, t0 <= t1, and error kinds are the protocol's.
//
// The suites run Check on every run of every spec, so that a driver that
// breaks one of these rules fails with the rule named, whatever the spec
// checks. Rules is the table: docs/protocol.md §7.3 lists it, and a test
// checks the two agree.
package tracerules

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/mpconform/mpconform/harness/trace"
)

// A Rule is one rule of the protocol that every trace obeys.
type Rule struct {
	Name    string // how messages, docs and mutants name it
	Section string // the section of docs/protocol.md that states it: "§7.2"
	Says    string // the rule in one line, as the protocol states it
	check   func(f *file) []Violation
}

// Rules is the table of the rules, in the order Check reports them.
var Rules = []*Rule{
	{"schema", "§7.1", "every record matches harness/schema/trace.schema.json", schemaRule},
	{"times", "§7.1", "a completed record has t0 <= t1", timesRule},
	{"seq", "§7.2", "seq counts 0, 1, 2, ... in each process's file, in the order written", seqRule},
	{"begin-first", "§7.2", "a process's first record is its process.begin, and it has one", beginFirstRule},
	{"end-last", "§7.2", "nothing follows a process's process.end", endLastRule},
	{"pending", "§7.2", "an op that may block (§6) and succeeds has a pending record (same op and step) before it", pendingRule},
	{"error-kind", "§8", "a failed record's error kind is one of §8's", errorKindRule},
}

// A Violation is one place where a trace breaks a rule.
type Violation struct {
	Rule *Rule
	File string // the trace file, <pid>.jsonl
	Line int    // 1-based
	What string // what the trace shows there, in plain words
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %s: %s (trace %s:%d)", v.Rule.Section, v.Rule.Name, v.What, v.File, v.Line)
}

// ErrBroken is what the error of Check wraps: the trace breaks a rule.
var ErrBroken = errors.New("the trace breaks the protocol")

// Error is the error of Check: every violation found.
type Error struct{ Violations []Violation }

// shown is how many violations an error's message lists.
const shown = 5

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v (docs/protocol.md):", ErrBroken)
	for i, v := range e.Violations {
		if i == shown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Violations)-shown)
			break
		}
		fmt.Fprintf(&b, "\n  %s", v)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return ErrBroken }

// Check applies every rule to the trace files and returns an *Error listing
// the violations, or nil.
func Check(files []trace.File) error {
	if vs := Find(files); len(vs) > 0 {
		return &Error{Violations: vs}
	}
	return nil
}

// Find returns every violation of the trace files, rule by rule, in the
// table's order.
func Find(files []trace.File) []Violation {
	parsed := make([]*file, len(files))
	for i, f := range files {
		parsed[i] = read(f)
	}
	var out []Violation
	for _, r := range Rules {
		for _, f := range parsed {
			vs := r.check(f)
			for i := range vs {
				vs[i].Rule, vs[i].File = r, f.name
			}
			out = append(out, vs...)
		}
	}
	return out
}

// A file is one trace file read line by line; rec is nil on a line that does
// not decode as a record (the schema rule reports it).
type file struct {
	name  string
	lines []line
}

type line struct {
	n   int
	raw []byte
	rec *trace.Record
}

func read(f trace.File) *file {
	out := &file{name: f.Name}
	sc := bufio.NewScanner(bytes.NewReader(f.Data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		l := line{n: n, raw: append([]byte(nil), raw...)}
		var r trace.Record
		if trace.Decode(raw, &r) == nil {
			l.rec = &r
		}
		out.lines = append(out.lines, l)
	}
	return out
}

// records returns the lines that decode as records, in file order.
func (f *file) records() []line {
	var out []line
	for _, l := range f.lines {
		if l.rec != nil {
			out = append(out, l)
		}
	}
	return out
}
