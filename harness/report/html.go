package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// WriteIndex writes out/index.html from every report found under out: the
// behaviour × implementation matrix from each out/<impl>/results.json, with
// links to the traces and visualisations of failures, and a chart per
// benchmark group from out/bench/*.txt. The page is static HTML with inline SVG:
// it needs no script and no network. It returns the page's path.
func WriteIndex(out string) (string, error) {
	page := indexPage{Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Statuses: Statuses}
	if err := page.loadResults(out); err != nil {
		return "", err
	}
	if err := page.loadBench(filepath.Join(out, "bench")); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, page); err != nil {
		return "", err
	}
	path := filepath.Join(out, "index.html")
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

type indexPage struct {
	Generated string
	Statuses  []string
	Impls     []implColumn
	Rows      []matrixRow
	Charts    []chart
	BenchNote string
}

type implColumn struct {
	Results
	Dir string // relative to out
}

type matrixRow struct {
	ID, Profile string
	Cells       []matrixCell
}

type matrixCell struct {
	Status  string // "" when the implementation did not run the behaviour
	Message string
	Trace   string // link relative to index.html
	Vis     string // the trace's HTML visualisation, when there is one
	Replay  string // the command that replays the failing run
	Warn    string // what the runs left behind, when they did
}

func (p *indexPage) loadResults(out string) error {
	matches, err := filepath.Glob(filepath.Join(out, "*", "results.json"))
	if err != nil {
		return err
	}
	rows := map[string]*matrixRow{}
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			return err
		}
		var r Results
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %v", m, err)
		}
		r.Count()
		p.Impls = append(p.Impls, implColumn{Results: r, Dir: filepath.Base(filepath.Dir(m))})
	}
	for i, im := range p.Impls {
		for _, b := range im.Behaviours {
			row := rows[b.ID]
			if row == nil {
				row = &matrixRow{ID: b.ID, Profile: b.Profile, Cells: make([]matrixCell, len(p.Impls))}
				rows[b.ID] = row
			}
			c := matrixCell{Status: b.Status, Message: b.Message, Replay: b.Replay, Warn: strings.Join(b.Warnings, "; ")}
			if b.Unexpected {
				c.Message = "unexpected pass: recorded as xfail. " + c.Message
			}
			if b.Trace != "" {
				c.Trace = im.Dir + "/" + filepath.ToSlash(b.Trace)
				vis := strings.TrimSuffix(b.Trace, filepath.Ext(b.Trace)) + ".html"
				if _, err := os.Stat(filepath.Join(out, im.Dir, vis)); err == nil {
					c.Vis = im.Dir + "/" + filepath.ToSlash(vis)
				}
			}
			row.Cells[i] = c
		}
	}
	for _, r := range rows {
		p.Rows = append(p.Rows, *r)
	}
	sort.Slice(p.Rows, func(i, j int) bool { return p.Rows[i].ID < p.Rows[j].ID })
	return nil
}

// A chart draws the benchmarks of one group (the name up to its last "/", such
// as Queue/p=1/c=1) on one scale, so that the sizes or process counts of a group
// compare at a glance: one bar per implementation, with its 95% confidence
// interval as a whisker.
type chart struct {
	Title  string
	Unit   string
	Width  int
	Height int
	Legend []legend
	Rows   []chartRow
}

type legend struct {
	Name, Color string
	X           int
}

type chartRow struct {
	Label string
	Y     int // of the label's baseline
	Bars  []chartBar
}

type chartBar struct {
	Impl, Color  string
	X, Y, H, W   int
	Lo, Hi       int // the interval's ends, in x
	TextX, TextY int
	Text         string
	Status       string // "", or why there is no bar
}

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948"}

const (
	chartLabel = 150 // width of the benchmark labels
	chartBars  = 400 // width of the bars' area
	barH       = 14
)

func (p *indexPage) loadBench(dir string) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(paths) == 0 {
		return err
	}
	type cellData struct {
		status string
		sum    benchmath.Summary
	}
	var impls []string
	var order []string          // benchmark names, as first seen
	unit := map[string]string{} // benchmark -> its throughput unit
	cells := map[string]map[string]cellData{}
	for _, path := range paths {
		f, err := benchfile.ReadFile(path)
		if err != nil {
			return err
		}
		impl := f.Config["impl"]
		if impl == "" {
			impl = strings.TrimSuffix(filepath.Base(path), ".txt")
		}
		impls = append(impls, impl)
		vals := map[string][]float64{}
		see := func(name string) {
			if cells[name] == nil {
				cells[name] = map[string]cellData{}
				order = append(order, name)
			}
		}
		for _, r := range f.Results {
			name := benchName(r.Name.String())
			see(name)
			for _, v := range r.Values {
				if f.Units.GetBetter(v.Unit) > 0 || (unit[name] == "" && v.Unit != "sec/op") {
					unit[name] = v.Unit
				}
				if v.Unit == unit[name] {
					vals[name] = append(vals[name], v.Value)
				}
			}
		}
		for name, vs := range vals {
			s := benchmath.NewSample(vs, &benchmath.DefaultThresholds)
			cells[name][impl] = cellData{sum: benchmath.AssumeNothing.Summary(s, 0.95)}
		}
		for status, notes := range map[string]map[string]string{"unsupported": f.Skipped, "failed": f.Failed} {
			for full := range notes {
				name := benchName(full)
				see(name)
				if _, ok := cells[name][impl]; !ok {
					cells[name][impl] = cellData{status: status}
				}
			}
		}
	}
	groups := map[string]*chart{}
	var gorder []string
	for _, name := range order {
		g := name
		if i := strings.LastIndexByte(name, '/'); i > 0 {
			g = name[:i]
		}
		if groups[g] == nil {
			groups[g] = &chart{Title: g, Unit: unit[name]}
			gorder = append(gorder, g)
		}
		groups[g].Rows = append(groups[g].Rows, chartRow{Label: strings.TrimPrefix(name, g+"/")})
	}
	for _, g := range gorder {
		c := groups[g]
		// The scale fits the longest median, not the widest interval: a noisy
		// sample must not flatten every bar. Whiskers past it stop at the edge.
		hi := 0.0
		for _, r := range c.Rows {
			for _, d := range cells[g+"/"+r.Label] {
				hi = math.Max(hi, d.sum.Center)
			}
		}
		if c.Rows[0].Label == g { // a group of one benchmark without a "/"
			c.Rows[0].Label = ""
		}
		y := 28
		for i := range c.Rows {
			r := &c.Rows[i]
			name := g + "/" + r.Label
			if r.Label == "" {
				name = g
			}
			r.Y = y + barH
			for k, impl := range impls {
				d, ok := cells[name][impl]
				b := chartBar{Impl: impl, Color: palette[k%len(palette)], X: chartLabel, Y: y, H: barH, TextY: y + barH - 3}
				switch {
				case !ok:
					b.Status = "not run"
				case d.status != "":
					b.Status = d.status
				}
				if b.Status == "" && hi > 0 {
					x := func(v float64) int { return chartLabel + int(math.Round(math.Min(v/hi, 1.1)*chartBars/1.1)) }
					b.W = x(d.sum.Center) - chartLabel
					// Too few samples give an infinite interval: no whisker.
					b.Lo, b.Hi = x(finite(d.sum.Lo, d.sum.Center)), x(finite(d.sum.Hi, d.sum.Center))
					b.Text = benchunit.Scale(d.sum.Center, benchunit.ClassOf(c.Unit)) + " " + c.Unit
					if pct := d.sum.PctRangeString(); pct != "∞" {
						b.Text += " ± " + pct
					}
				} else {
					b.Text = b.Status
				}
				b.TextX = chartLabel + chartBars + 10
				r.Bars = append(r.Bars, b)
				y += barH + 2
			}
			y += 8
		}
		c.Width, c.Height = chartLabel+chartBars+260, y
		x := chartLabel
		for k, impl := range impls {
			c.Legend = append(c.Legend, legend{Name: impl, Color: palette[k%len(palette)], X: x})
			x += 16 + 7*len(impl) + 20
		}
		p.Charts = append(p.Charts, *c)
	}
	return nil
}

func finite(v, otherwise float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return otherwise
	}
	return v
}

// benchName drops "Benchmark" and the procs suffix (-2): the charts name
// workloads as conform bench does.
func benchName(full string) string {
	return procsSuffix.ReplaceAllString(strings.TrimPrefix(full, "Benchmark"), "")
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

func statusClass(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"class": statusClass,
	"add":   func(a, b int) int { return a + b },
	"mid":   func(y, h int) int { return y + h/2 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mpconform report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table.matrix { border-collapse: collapse; }
.matrix th, .matrix td { border: 1px solid #ccc; padding: 3px 8px; }
.matrix td.id { font-family: monospace; }
.matrix td.st { text-align: center; min-width: 7em; }
.pass { background: #c8e6c9; }
.fail { background: #ef9a9a; font-weight: bold; }
.xfail { background: #ffe0b2; }
.unsupported { background: #e0e0e0; color: #555; }
.flaky { background: #fff59d; }
.none { background: #fafafa; color: #999; }
.totals td { font-size: 90%; }
svg.chart text { font: 12px system-ui, sans-serif; }
a { color: #1a4f9c; }
</style>
</head>
<body>
<h1>mpconform report</h1>
<p>Generated {{.Generated}}.</p>

<h2 id="conformance">Conformance</h2>
{{if .Impls}}
<p id="summary">{{len .Rows}} behaviours × {{len .Impls}} implementations.</p>
<table class="matrix" id="matrix">
<thead>
<tr><th>behaviour</th><th>profile</th>{{range .Impls}}<th class="impl" title="{{.Impl.Dir}}">{{.Impl.Name}}<br><small>{{.Impl.Version}} ({{.Impl.Language}})</small></th>{{end}}</tr>
</thead>
<tbody>
{{range .Rows}}<tr data-behaviour="{{.ID}}"><td class="id">{{.ID}}</td><td>{{.Profile}}</td>{{range .Cells}}<td class="st {{class .Status}}"{{if .Message}} title="{{.Message}}"{{end}}>{{if .Status}}{{.Status}}{{else}}—{{end}}{{if .Trace}} <a class="trace" href="{{.Trace}}">trace</a>{{end}}{{if .Vis}} <a class="vis" href="{{.Vis}}">visualisation</a>{{end}}{{if .Replay}}<br><code class="replay">{{.Replay}}</code>{{end}}{{if .Warn}}<br><span class="warn" title="{{.Warn}}">warning: left files</span>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
<tfoot>
<tr class="totals"><td colspan="2">totals</td>{{range .Impls}}<td>{{$t := .Totals}}{{range $s := $.Statuses}}{{with index $t $s}}{{.}} {{$s}}<br>{{end}}{{end}}</td>{{end}}</tr>
</tfoot>
</table>
{{else}}
<p>No conformance results: run <code>conform run --impl DIR</code>.</p>
{{end}}

<h2 id="benchmarks">Benchmarks</h2>
{{if .Charts}}
<p>Median throughput of each workload (longer is better), with its 95% confidence interval; the samples are in <a href="bench/">bench/</a> in the Go benchmark format (<code>go tool benchstat -table "" -col impl bench/*.txt</code>).</p>
{{range .Charts}}
<h3>{{.Title}}</h3>
<svg class="chart" data-group="{{.Title}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}} ({{.Unit}})">
{{range .Legend}}<rect x="{{.X}}" y="4" width="12" height="12" fill="{{.Color}}"/><text x="{{add .X 16}}" y="14">{{.Name}}</text>
{{end}}{{range .Rows}}<text class="label" x="4" y="{{.Y}}">{{.Label}}</text>
{{range .Bars}}<g class="bar" data-impl="{{.Impl}}"{{if .Status}} data-status="{{.Status}}"{{end}}>{{if not .Status}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"/><line x1="{{.Lo}}" x2="{{.Hi}}" y1="{{mid .Y .H}}" y2="{{mid .Y .H}}" stroke="#222"/><line x1="{{.Lo}}" x2="{{.Lo}}" y1="{{.Y}}" y2="{{add .Y .H}}" stroke="#222"/><line x1="{{.Hi}}" x2="{{.Hi}}" y1="{{.Y}}" y2="{{add .Y .H}}" stroke="#222"/>{{end}}<text x="{{.TextX}}" y="{{.TextY}}"{{if .Status}} fill="#777"{{end}}>{{.Impl}}: {{.Text}}</text></g>
{{end}}{{end}}</svg>
{{end}}
{{else}}
<p>No benchmark results: run <code>conform bench --impl DIR</code>.</p>
{{end}}
<script>
// Not needed to read the page: it counts the failures in the summary, and marks
// the page rendered (the headless-browser test checks both).
(function () {
  var n = document.querySelectorAll("#matrix td.fail").length;
  var s = document.getElementById("summary");
  if (s) s.textContent += " " + n + (n === 1 ? " failure." : " failures.");
  document.body.setAttribute("data-rendered", "yes");
})();
</script>
</body>
</html>
`))
