package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/mpconform/mpconform/harness/bench"
	"github.com/mpconform/mpconform/harness/bench/benchfile"
	"github.com/mpconform/mpconform/harness/bench/compare"
	"github.com/mpconform/mpconform/harness/report"
	"github.com/mpconform/mpconform/harness/runner"
)

// benchImpl is one implementation in a benchmark run, with its samples.
type benchImpl struct {
	label  string // its name in files and tables: the manifest's, or name@ref
	commit string
	im     *runner.Impl
	n      map[string]int // workload -> calibrated ops per sample
	skip   map[string]string
	fail   map[string]string
	smp    map[string][]bench.Sample
}

func benchCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	implDir := fs.String("impl", "", "implementation directory (with conform.json)")
	vsDir := fs.String("vs", "", "a second implementation to compare with (the base of the ratios)")
	ref := fs.String("against-ref", "", "compare with the same implementation built at this git ref, and gate on regressions")
	count := fs.Int("count", 6, "samples of each workload per implementation (≥ 6 for a significant difference)")
	target := fs.Duration("time", 300*time.Millisecond, "about how long one sample measures")
	filter := fs.String("filter", "", "run only workloads whose name matches this regular expression")
	out := fs.String("out", "reports", "directory for reports: results go to <out>/bench/<impl>.txt")
	maxReg := fs.Float64("max-regression", 5, "with --against-ref: the largest significant slowdown that passes, in percent")
	alpha := fs.Float64("alpha", 0.05, "with --against-ref: significance level")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *implDir == "":
		return fmt.Errorf("%w: --impl DIR is required", errUsage)
	case *vsDir != "" && *ref != "":
		return fmt.Errorf("%w: --vs and --against-ref exclude each other", errUsage)
	case *count < 1 || *target <= 0:
		return fmt.Errorf("%w: --count and --time must be positive", errUsage)
	}
	match, err := regexp.Compile(*filter)
	if err != nil {
		return fmt.Errorf("%w: --filter: %v", errUsage, err)
	}
	ws := bench.Filter(bench.Workloads(), func(name string) bool {
		return match.MatchString(name) || match.MatchString("Benchmark"+name)
	})
	if len(ws) == 0 {
		return fmt.Errorf("%w: no workload matches --filter %q", errUsage, *filter)
	}

	ctx := context.Background()
	var impls []*benchImpl // the base first, then the implementation under test
	open := func(dir, label, commit string) error {
		fmt.Fprintf(stderr, "conform: building and starting %s\n", dir)
		im, err := runner.Open(ctx, dir)
		if err != nil {
			return err
		}
		if label == "" {
			label = im.Name
		}
		for _, b := range impls {
			if b.label == label {
				label += "#2"
			}
		}
		fmt.Fprintf(stderr, "conform: %s %s (%s), features %s\n", label, im.Hello.Version, im.Hello.Language, strings.Join(im.Hello.Features, ", "))
		impls = append(impls, &benchImpl{label: label, commit: commit, im: im, n: map[string]int{},
			skip: map[string]string{}, fail: map[string]string{}, smp: map[string][]bench.Sample{}})
		return nil
	}
	defer func() {
		for _, b := range impls {
			b.im.Close()
		}
	}()
	switch {
	case *vsDir != "":
		if err := open(*vsDir, "", gitCommit(*vsDir)); err != nil {
			return err
		}
	case *ref != "":
		dir, commit, cleanup, err := worktree(*implDir, *ref)
		if err != nil {
			return err
		}
		defer cleanup()
		m, err := runner.LoadManifest(*implDir)
		if err != nil {
			return err
		}
		if err := open(dir, m.Name+"@"+*ref, commit); err != nil {
			return err
		}
	}
	if err := open(*implDir, "", gitCommit(*implDir)); err != nil {
		return err
	}

	started := time.Now()
	p := newProgress(stderr, len(ws)*len(impls)*(*count+1))
	// Calibrate each workload on each implementation: one n per pair for every
	// sample, so that samples are alike. Unsupported workloads are recorded as such.
	for _, w := range ws {
		for _, b := range impls {
			if missing, ok := w.Supported(b.im.Hello); !ok {
				b.skip[w.Name] = "unsupported: the driver does not list feature " + missing
				p.step(*count+1, "%s %s: unsupported (no feature %s)", b.label, w.Name, missing)
				continue
			}
			n, err := bench.Calibrate(ctx, b.im, w, *target)
			if err != nil {
				b.fail[w.Name] = err.Error()
				p.step(*count+1, "%s %s: FAILED: %s", b.label, w.Name, firstLine(err.Error()))
				continue
			}
			b.n[w.Name] = n
			p.step(1, "%s %s: calibrated n=%d", b.label, w.Name, n)
		}
	}
	// Samples: round after round over every workload, the implementations
	// interleaved (A B, then B A), so that a slow spell of the machine hits both
	// and every workload alike instead of one implementation or one workload.
	for round := range *count {
		for _, w := range ws {
			for k := range impls {
				b := impls[k]
				if round%2 == 1 {
					b = impls[len(impls)-1-k]
				}
				n, ok := b.n[w.Name]
				if !ok {
					continue
				}
				if _, failed := b.fail[w.Name]; failed {
					p.step(1, "%s %s: skipped after a failure", b.label, w.Name)
					continue
				}
				s, err := bench.Run(ctx, b.im, w, n)
				if err != nil {
					b.fail[w.Name] = err.Error()
					p.step(1, "%s %s: FAILED: %s", b.label, w.Name, firstLine(err.Error()))
					continue
				}
				b.smp[w.Name] = append(b.smp[w.Name], s)
				p.step(1, "%s %s %d/%d: %s", b.label, w.Name, round+1, *count,
					strings.TrimSpace(benchfile.Format(s.Rate(), w.Unit)))
			}
		}
	}
	p.done()

	dir := filepath.Join(*out, "bench")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var files []*benchfile.File
	for _, b := range impls {
		path := filepath.Join(dir, safeName(b.label)+".txt")
		data, err := b.results(ws)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		f, err := benchfile.Read(data, path)
		if err != nil {
			return fmt.Errorf("%s: the file just written does not read back: %v", path, err)
		}
		files = append(files, f)
	}

	throughput := func(unit string) bool { return unit != "sec/op" }
	opt := compare.Options{Alpha: *alpha, MaxRegression: *maxReg / 100}
	var rows []compare.Row
	labels := make([]string, len(impls))
	for i, b := range impls {
		labels[i] = b.label
	}
	compare.Sources(stdout, labels, files...)
	if len(files) == 1 {
		compare.Table(stdout, compare.One(files[0]), impls[0].label, "", throughput, false)
	} else {
		rows = compare.Compare(files[0], files[1], opt)
		compare.Table(stdout, rows, impls[0].label+" (base)", impls[1].label, throughput, *ref != "")
	}
	fmt.Fprintf(stdout, "results: %s/*.txt (go tool benchstat reads them), %d samples each, in %v\n",
		dir, *count, time.Since(started).Round(time.Second))
	if err := writeIndex(*out, stdout); err != nil {
		return err
	}
	failed := false
	for _, b := range impls {
		for _, w := range ws {
			if why, ok := b.fail[w.Name]; ok {
				fmt.Fprintf(stderr, "conform: %s %s failed: %s\n", b.label, w.Name, firstLine(why))
				failed = true
			}
		}
	}
	if *ref != "" {
		report, regressed := compare.Gate(rows, opt, throughput)
		fmt.Fprint(stdout, report)
		if regressed {
			return exitError(1)
		}
	}
	if failed {
		return exitError(1)
	}
	return nil
}

// results renders the implementation's samples in the Go benchmark format.
func (b *benchImpl) results(ws []bench.Workload) ([]byte, error) {
	h := b.im.Hello
	config := [][2]string{
		{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH}, {"cpu", cpuModel()},
		{"ncpu", fmt.Sprint(runtime.NumCPU())},
		{"impl", b.label}, {"impl-version", h.Version}, {"language", h.Language},
	}
	if h.StartMethod != "" {
		config = append(config, [2]string{"start-method", h.StartMethod})
	}
	if b.commit != "" {
		config = append(config, [2]string{"commit", b.commit})
	}
	var buf bytes.Buffer
	units := map[string]string{"ns/op": bench.Units["ns/op"]}
	for _, wl := range ws {
		units[wl.Unit] = bench.Units[wl.Unit]
	}
	w, err := benchfile.NewWriter(&buf, config, units, runtime.NumCPU())
	if err != nil {
		return nil, err
	}
	for _, wl := range ws {
		if why, ok := b.skip[wl.Name]; ok {
			w.Skip(wl.Name, why)
			continue
		}
		for _, s := range b.smp[wl.Name] {
			w.Result(wl.Name, s.Ops, benchfile.Value{Value: s.NsPerOp(), Unit: "ns/op"},
				benchfile.Value{Value: s.Rate(), Unit: wl.Unit})
		}
		if why, ok := b.fail[wl.Name]; ok {
			w.Fail(wl.Name, why)
		}
	}
	return buf.Bytes(), nil
}

// writeIndex writes <out>/index.html from every report under out.
func writeIndex(out string, stdout io.Writer) error {
	path, err := report.WriteIndex(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", path)
	return nil
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// gitCommit names the commit an implementation directory is at, with "-dirty"
// when files under it differ; "" outside git.
func gitCommit(dir string) string {
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(head))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--", ".").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

// worktree checks out ref in a temporary git worktree and returns the
// implementation directory inside it; cleanup removes the worktree.
func worktree(implDir, ref string) (dir, commit string, cleanup func(), err error) {
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", implDir}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return strings.TrimSpace(string(out)), nil
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return "", "", nil, fmt.Errorf("--against-ref needs the implementation in a git repository: %v", err)
	}
	if commit, err = git("rev-parse", "--verify", ref+"^{commit}"); err != nil {
		return "", "", nil, err
	}
	abs, err := filepath.Abs(implDir)
	if err != nil {
		return "", "", nil, err
	}
	abs, _ = filepath.EvalSymlinks(abs)
	rel, err := filepath.Rel(top, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", "", nil, errors.Join(fmt.Errorf("%s is not inside %s", implDir, top), err)
	}
	tmp, err := os.MkdirTemp("", "mpconform-ref-")
	if err != nil {
		return "", "", nil, err
	}
	tree := filepath.Join(tmp, "tree")
	if _, err := git("worktree", "add", "--detach", tree, commit); err != nil {
		os.RemoveAll(tmp)
		return "", "", nil, err
	}
	cleanup = func() {
		git("worktree", "remove", "--force", tree)
		os.RemoveAll(tmp)
		git("worktree", "prune")
	}
	return filepath.Join(tree, rel), commit, cleanup, nil
}

// progress shows a bar on a terminal and plain lines elsewhere (CI).
type benchProgress struct {
	w        io.Writer
	tty      bool
	total, n int
	start    time.Time
}

func newProgress(w io.Writer, total int) *benchProgress {
	return &benchProgress{w: w, tty: isTerminal(w), total: total, start: time.Now()}
}

func (p *benchProgress) step(k int, format string, args ...any) {
	p.n += k
	msg := fmt.Sprintf(format, args...)
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", p.n, p.total, msg)
		return
	}
	if strings.Contains(msg, "FAILED") {
		fmt.Fprintf(p.w, "\r\033[K%s\n", msg) // keep failures on screen
	}
	const width = 30
	filled := width * p.n / max(p.total, 1)
	eta := ""
	if p.n > 0 && p.n < p.total {
		left := time.Duration(float64(time.Since(p.start)) * float64(p.total-p.n) / float64(p.n))
		eta = " ETA " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d%s %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.n, p.total, eta, msg)
}

func (p *benchProgress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
