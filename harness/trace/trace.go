// Package trace reads the event traces that drivers write and answers questions
// about them: which processes ran, what each recorded, in what order.
//
// A trace is a directory of <pid>.jsonl files, one JSON record per line
// (docs/protocol.md §7). Load merges them into one list ordered by time. The
// package does not judge a trace; the checks in harness/check do.
package trace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Record is one line of a trace.
type Record struct {
	Pid     int            `json:"pid"`
	Ppid    int            `json:"ppid"`
	Proc    string         `json:"proc"`
	Seq     int            `json:"seq"`
	Op      string         `json:"op"`
	Step    string         `json:"step"`
	In      map[string]any `json:"in,omitempty"`
	T0      int64          `json:"t0"`
	T1      int64          `json:"t1,omitempty"`
	OK      bool           `json:"ok"`
	Value   any            `json:"value,omitempty"`
	Error   *Error         `json:"error,omitempty"`
	Pending bool           `json:"pending,omitempty"`

	// File and Line say where the record was read: the trace file's name
	// (<pid>.jsonl) and its line, 1-based, for messages that point at it.
	File string `json:"-"`
	Line int    `json:"-"`
}

// Error is a failed op's portable error (docs/protocol.md §8).
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

// Kind returns the record's error kind, or "" when the op succeeded.
func (r Record) Kind() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// String renders a record on one line for failure messages.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s pid=%d ppid=%d #%d] %s %s", r.Proc, r.Pid, r.Ppid, r.Seq, r.Step, r.Op)
	if len(r.In) > 0 {
		in, _ := json.Marshal(r.In)
		fmt.Fprintf(&b, " %s", in)
	}
	switch {
	case r.Pending:
		b.WriteString(" … pending")
	case r.Error != nil:
		fmt.Fprintf(&b, " -> %s", r.Error)
	case r.Value != nil:
		v, _ := json.Marshal(r.Value)
		fmt.Fprintf(&b, " -> %s", v)
	}
	return b.String()
}

// Trace is every record of one run, ordered by t0 (then pid, then seq).
type Trace struct {
	Records []Record
}

// Validator checks one raw record; Load rejects a trace with an invalid one.
type Validator func(line []byte) error

// A File is one trace file as the driver wrote it: its name in the trace
// directory (<pid>.jsonl) and its bytes.
type File struct {
	Name string
	Data []byte
}

// ReadDir reads every <pid>.jsonl file in dir, in name order.
func ReadDir(dir string) ([]File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var files []File
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: filepath.Base(name), Data: data})
	}
	return files, nil
}

// Load reads and merges every <pid>.jsonl file in dir. A partial last line (a
// process killed mid-write cannot produce one, since each line is one write, but a
// broken driver can) is an error, as is any record validate rejects.
func Load(dir string, validate Validator) (*Trace, error) {
	files, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	return Merge(files, validate)
}

// Merge parses the trace files and merges their records, as Load does.
func Merge(files []File, validate Validator) (*Trace, error) {
	t := &Trace{}
	for _, f := range files {
		recs, err := parse(f.Data, f.Name, validate)
		if err != nil {
			return nil, err
		}
		t.Records = append(t.Records, recs...)
	}
	sort.SliceStable(t.Records, func(i, j int) bool {
		a, b := t.Records[i], t.Records[j]
		if a.T0 != b.T0 {
			return a.T0 < b.T0
		}
		if a.Pid != b.Pid {
			return a.Pid < b.Pid
		}
		return a.Seq < b.Seq
	})
	return t, nil
}

// parse reads the records of one trace file's contents.
func parse(data []byte, name string, validate Validator) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", filepath.Base(name), n)
		if validate != nil {
			if err := validate(line); err != nil {
				return nil, fmt.Errorf("trace %s: %v", where, err)
			}
		}
		var r Record
		if err := Decode(line, &r); err != nil {
			return nil, fmt.Errorf("trace %s: %v", where, err)
		}
		r.File, r.Line = filepath.Base(name), n
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace %s: %v", filepath.Base(name), err)
	}
	return out, nil
}

// Decode parses JSON keeping numbers as json.Number, so that 1 and 1.0 stay an
// int and a float (docs/protocol.md §4).
func Decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// Filter returns the records for which keep is true, in trace order.
func (t *Trace) Filter(keep func(Record) bool) []Record {
	var out []Record
	for _, r := range t.Records {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Op returns the completed (non-pending) records of op.
func (t *Trace) Op(op string) []Record {
	return t.Filter(func(r Record) bool { return r.Op == op && !r.Pending })
}

// Of returns the records written by pid, in the order it wrote them.
func (t *Trace) Of(pid int) []Record {
	out := t.Filter(func(r Record) bool { return r.Pid == pid })
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Process is what the trace tells about one process.
type Process struct {
	Pid, Ppid int
	Name      string
	Program   string
	Daemon    bool
	Begin     *Record // process.begin; nil if the process recorded nothing
	End       *Record // process.end; nil if it was killed or exited without one
}

// Processes lists every process that wrote a record, main first, then by begin time.
func (t *Trace) Processes() []Process {
	byPid := map[int]*Process{}
	var order []int
	for i := range t.Records {
		r := &t.Records[i]
		p, ok := byPid[r.Pid]
		if !ok {
			p = &Process{Pid: r.Pid, Ppid: r.Ppid, Name: r.Proc}
			byPid[r.Pid] = p
			order = append(order, r.Pid)
		}
		switch r.Op {
		case "process.begin":
			p.Begin = r
			p.Program, _ = Field(r.Value, "program").(string)
			p.Daemon, _ = Field(r.Value, "daemon").(bool)
		case "process.end":
			p.End = r
		}
	}
	out := make([]Process, 0, len(order))
	for _, pid := range order {
		out = append(out, *byPid[pid])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Program == "main" && out[j].Program != "main" })
	return out
}

// Main returns the main process (the one whose program is "main").
func (t *Trace) Main() (Process, bool) {
	for _, p := range t.Processes() {
		if p.Program == "main" {
			return p, true
		}
	}
	return Process{}, false
}

// PeakRSS is the largest peak resident set size (KiB) that a process of the
// trace recorded in its process.end ("maxrss"); 0 when none did.
func (t *Trace) PeakRSS() int64 {
	var most int64
	for _, p := range t.Processes() {
		if p.End != nil {
			rss, _ := Int(Field(p.End.Value, "maxrss"))
			most = max(most, rss)
		}
	}
	return most
}

// Field returns v[key] when v is a JSON object, else nil.
func Field(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return m[key]
}

// Lookup returns the value of key in v when v is a protocol dict value
// ({"dict": [[key, value], ...]}, protocol.md §4), else nil. Bulk ops record
// their results this way (get_many's "count", "sum" and "items").
func Lookup(v any, key any) any {
	pairs, _ := Field(v, "dict").([]any)
	for _, p := range pairs {
		if kv, ok := p.([]any); ok && len(kv) == 2 && kv[0] == key {
			return kv[1]
		}
	}
	return nil
}

// JSON returns a trace value as compact JSON text, types kept: 2, 2.0 and
// "2" read differently, so the text can compare values and key maps.
func JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(b.String())
}

// Int returns v as an int64 when it is a JSON integer.
func Int(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(n.String(), ".eE") {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// Done returns pid's completed (non-pending) records of op, in the order written.
func (t *Trace) Done(pid int, op string) []Record {
	var out []Record
	for _, r := range t.Of(pid) {
		if r.Op == op && !r.Pending {
			out = append(out, r)
		}
	}
	return out
}

// Values returns the values of pid's completed records of op, in the order written.
func (t *Trace) Values(pid int, op string) []any {
	var out []any
	for _, r := range t.Done(pid, op) {
		out = append(out, r.Value)
	}
	return out
}

// IntValue is how the int i reads back from a trace (see Decode).
func IntValue(i int) json.Number { return json.Number(strconv.Itoa(i)) }

// Program returns the first process that ran program.
func (t *Trace) Program(program string) (Process, bool) {
	for _, p := range t.Processes() {
		if p.Program == program {
			return p, true
		}
	}
	return Process{}, false
}

// Children returns every process but main.
func (t *Trace) Children() []Process {
	var out []Process
	for _, p := range t.Processes() {
		if p.Program != "main" {
			out = append(out, p)
		}
	}
	return out
}
