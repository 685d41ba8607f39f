package tracerules

import (
	"fmt"
	"sync"

	"github.com/mpconform/mpconform/harness/protocol"
	"github.com/mpconform/mpconform/harness/schema"
)

// One function per rule of the table (rules.go); each returns the
// violations of one file with their line and what the trace shows.

func at(l line, format string, args ...any) Violation {
	return Violation{Line: l.n, What: fmt.Sprintf(format, args...)}
}

func schemaRule(f *file) []Violation {
	var out []Violation
	for _, l := range f.lines {
		if err := schema.TraceRecord(l.raw); err != nil {
			out = append(out, at(l, "the record does not match the trace schema: %v", err))
		}
	}
	return out
}

func timesRule(f *file) []Violation {
	var out []Violation
	for _, l := range f.records() {
		if r := l.rec; !r.Pending && r.T1 != 0 && r.T1 < r.T0 {
			out = append(out, at(l, "op `%s` ends before it begins: t1 %d < t0 %d", r.Op, r.T1, r.T0))
		}
	}
	return out
}

// seqRule reports the first break of the count only: after it, every seq of
// the file would be off by the same amount.
func seqRule(f *file) []Violation {
	want := 0
	for _, l := range f.records() {
		if l.rec.Seq != want {
			return []Violation{at(l, "seq %d where %d comes next (records out of order, or some missing)", l.rec.Seq, want)}
		}
		want++
	}
	return nil
}

func beginFirstRule(f *file) []Violation {
	var out []Violation
	for i, l := range f.records() {
		switch {
		case i == 0 && l.rec.Op != "process.begin":
			out = append(out, at(l, "the file's first record is `%s`, not process.begin", l.rec.Op))
		case i > 0 && l.rec.Op == "process.begin":
			out = append(out, at(l, "a second process.begin"))
		}
	}
	return out
}

func endLastRule(f *file) []Violation {
	end := 0
	for _, l := range f.records() {
		if end > 0 {
			return []Violation{at(l, "`%s` after process.end (line %d)", l.rec.Op, end)}
		}
		if l.rec.Op == "process.end" {
			end = l.n
		}
	}
	return nil
}

// pendingRule matches each completed record of an op that may block with an
// earlier pending record of the same op and step. Other records may come
// between the two (a pool's callbacks, pool.imap.item); a failure needs none,
// since a step may fail before its op starts to wait (a resource it does not
// hold).
func pendingRule(f *file) []Violation {
	type key struct{ op, step string }
	open := map[key]int{}
	var out []Violation
	for _, l := range f.records() {
		r := l.rec
		op, known := protocol.Lookup(r.Op)
		if !known || !op.Blocks {
			continue
		}
		k := key{r.Op, r.Step}
		switch {
		case r.Pending:
			open[k]++
		case open[k] > 0:
			open[k]--
		case r.OK:
			out = append(out, at(l, "op `%s` (step %s) may block but has no pending record before it", r.Op, r.Step))
		}
	}
	return out
}

var knownKinds = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, k := range protocol.ErrorKinds {
		m[string(k.Kind)] = true
	}
	return m
})

func errorKindRule(f *file) []Violation {
	var out []Violation
	for _, l := range f.records() {
		if r := l.rec; r.Error != nil && !knownKinds()[r.Error.Kind] {
			out = append(out, at(l, "op `%s` failed with error kind %q, which §8 does not have", r.Op, r.Error.Kind))
		}
	}
	return out
}
