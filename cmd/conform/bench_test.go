package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/harness/bench/benchfile"
)

// TestBenchWritesBenchstatFiles runs conform bench on one cheap workload, briefly,
// and checks that benchstat reads the file it wrote.
func TestBenchWritesBenchstatFiles(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "bench", "--impl", "./impl", "--count", "2", "--time", "20ms",
		"--filter", "^Lock/uncontended$", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	path := filepath.Join(out, "bench", "go-reference.txt")
	f, err := benchfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Results) != 2 || f.Config["impl"] != "go-reference" || f.Config["ncpu"] == "" || f.CPU() == "" ||
		f.Config["goos"] == "" || f.Config["goarch"] == "" {
		t.Fatalf("%s: %d results, config %v", path, len(f.Results), f.Config)
	}
	if f.Units.GetBetter("ops/s") != 1 {
		t.Errorf("%s: no Unit line says ops/s is better higher", path)
	}
	if !strings.Contains(stdout, "Lock/uncontended") || !strings.Contains(stdout, "ops/s") || !strings.Contains(stdout, "(cpu: "+f.CPU()+")") {
		t.Errorf("no table on stdout:\n%s", stdout)
	}
	bs, err := exec.Command("go", "tool", "benchstat", path).CombinedOutput()
	if err != nil || !strings.Contains(string(bs), "Lock/uncontended") || !strings.Contains(string(bs), "ops/s") {
		t.Fatalf("go tool benchstat %s: %v\n%s", path, err, bs)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Errorf("no index.html: %v", err)
	}
}

// TestBenchReportsUnsupported: a driver that lists no feature but control runs no
// workload, and every workload is reported unsupported, never as 0.
func TestBenchReportsUnsupported(t *testing.T) {
	impl := t.TempDir()
	os.WriteFile(filepath.Join(impl, "conform.json"), []byte(`{"name": "bare", "driver": ["sh", "driver.sh"]}`), 0o644)
	os.WriteFile(filepath.Join(impl, "driver.sh"), []byte(`case "$1" in
hello) echo '{"protocol": 1, "name": "bare", "version": "0", "language": "sh", "features": ["control"]}' ;;
*) echo "bare runs nothing" >&2; exit 2 ;;
esac
`), 0o755)
	out := t.TempDir()
	code, stdout, stderr := run(t, "bench", "--impl", impl, "--filter", "^(Lock/uncontended|Pool/map/workers=1)$", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	f, err := benchfile.ReadFile(filepath.Join(out, "bench", "bare.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Results) != 0 || len(f.Skipped) != 2 {
		t.Fatalf("results %d, skipped %v", len(f.Results), f.Skipped)
	}
	if strings.Count(stdout, "unsupported") != 2 {
		t.Errorf("the table does not say unsupported twice:\n%s", stdout)
	}
}

// writeSynthetic writes 6 samples of two benchmarks around rate, with relative
// noise, measured on cpu.
func writeSynthetic(t *testing.T, path string, seed uint64, rate, noise float64, cpu string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	w, err := benchfile.NewWriter(&b, [][2]string{{"cpu", cpu}, {"impl", "go-reference"}}, map[string]string{"msgs/s": "higher"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		v := rate * (1 + noise*(2*r.Float64()-1))
		w.Result("Queue/p=1/c=1/size=8B", 100000, benchfile.Value{Value: 1e9 / v, Unit: "ns/op"}, benchfile.Value{Value: v, Unit: "msgs/s"})
		w.Result("Lock/uncontended", 100000, benchfile.Value{Value: 5 * (1 + noise*r.Float64()), Unit: "ns/op"})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompareGate(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name+".txt") }
	const cpu = "AMD EPYC 7B13"
	writeSynthetic(t, path("old"), 1, 1e6, 0.03, cpu)
	writeSynthetic(t, path("same"), 2, 1e6, 0.03, cpu)
	writeSynthetic(t, path("drop"), 3, 0.9e6, 0.03, cpu)
	writeSynthetic(t, path("gain"), 4, 1.1e6, 0.03, cpu)
	writeSynthetic(t, path("noisy-old"), 5, 1e6, 0.4, cpu)
	writeSynthetic(t, path("noisy-new"), 6, 1e6, 0.4, cpu)
	writeSynthetic(t, path("elsewhere"), 2, 1e6, 0.03, "Intel(R) Xeon(R) CPU @ 2.20GHz")
	for _, c := range []struct {
		old, new string
		code     int
		want     string
	}{
		{"old", "same", 0, "gate: no significant regression beyond 5% (α=0.05); the run could see one in every workload (2)"},
		{"old", "gain", 0, "better"},
		{"old", "drop", 1, "regression: Queue/p=1/c=1/size=8B-2 msgs/s"},
		{"noisy-old", "noisy-new", 0, "warning: Queue/p=1/c=1/size=8B-2: could not see a 5% regression: the run could only detect ≥ "},
		{"noisy-old", "noisy-new", 0, "gate: no significant regression beyond 5% (α=0.05); 2 of 2 workloads could not see one"},
		{"old", "elsewhere", 0, `warning: the files come from different machines (cpu "AMD EPYC 7B13" and "Intel(R) Xeon(R) CPU @ 2.20GHz")`},
	} {
		code, stdout, stderr := run(t, "compare", path(c.old), path(c.new), "--max-regression", "5")
		if code != c.code || !strings.Contains(stdout, c.want) {
			t.Errorf("compare %s %s: exit %d, want %d and %q\n%s%s", c.old, c.new, code, c.code, c.want, stdout, stderr)
		}
	}
	if _, stdout, _ := run(t, "compare", path("old"), path("same")); strings.Contains(stdout, "warning") {
		t.Errorf("compare on one machine, with little noise, warns:\n%s", stdout)
	}
	old := path("old")
	if code, _, stderr := run(t, "compare", old); code != 2 {
		t.Errorf("compare with one file: exit %d, want 2 (usage)\n%s", code, stderr)
	}
}

// TestBenchAgainstRef builds the reference at HEAD in a worktree, compares in one
// run, and removes the worktree.
func TestBenchAgainstRef(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the driver at HEAD")
	}
	if err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not in a git checkout")
	}
	before := worktrees(t)
	out := t.TempDir()
	code, stdout, stderr := run(t, "bench", "--impl", "./impl", "--against-ref", "HEAD", "--count", "1", "--time", "20ms",
		"--filter", "^Lock/uncontended$", "--out", out)
	if code != 0 || !strings.Contains(stdout, "gate: no significant regression") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, name := range []string{"go-reference.txt", "go-reference_HEAD.txt"} {
		if _, err := os.Stat(filepath.Join(out, "bench", name)); err != nil {
			t.Errorf("%v", err)
		}
	}
	if after := worktrees(t); after != before {
		t.Errorf("worktrees left behind:\n%s", after)
	}
}

func worktrees(t *testing.T) string {
	out, err := exec.Command("git", "-C", "../..", "worktree", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(strings.Count(string(out), "\n"))
}
