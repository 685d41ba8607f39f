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
	if len(f.Results) != 2 || f.Config["impl"] != "go-reference" || f.Config["ncpu"] == "" {
		t.Fatalf("%s: %d results, config %v", path, len(f.Results), f.Config)
	}
	if f.Units.GetBetter("ops/s") != 1 {
		t.Errorf("%s: no Unit line says ops/s is better higher", path)
	}
	if !strings.Contains(stdout, "Lock/uncontended") || !strings.Contains(stdout, "ops/s") {
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

// writeSynthetic writes count samples of two benchmarks around rate.
func writeSynthetic(t *testing.T, path string, seed uint64, rate float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	w, err := benchfile.NewWriter(&b, [][2]string{{"impl", "go-reference"}}, map[string]string{"msgs/s": "higher"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		v := rate * (1 + 0.03*(2*r.Float64()-1))
		w.Result("Queue/p=1/c=1/size=8B", 100000, benchfile.Value{Value: 1e9 / v, Unit: "ns/op"}, benchfile.Value{Value: v, Unit: "msgs/s"})
		w.Result("Lock/uncontended", 100000, benchfile.Value{Value: 5 * (1 + 0.03*r.Float64()), Unit: "ns/op"})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompareGate(t *testing.T) {
	dir := t.TempDir()
	old, same, drop, gain := filepath.Join(dir, "old.txt"), filepath.Join(dir, "same.txt"), filepath.Join(dir, "drop.txt"), filepath.Join(dir, "gain.txt")
	writeSynthetic(t, old, 1, 1e6)
	writeSynthetic(t, same, 2, 1e6)
	writeSynthetic(t, drop, 3, 0.9e6)
	writeSynthetic(t, gain, 4, 1.1e6)
	for _, c := range []struct {
		new  string
		code int
		want string
	}{
		{same, 0, "gate: no significant regression"},
		{gain, 0, "better"},
		{drop, 1, "regression: Queue/p=1/c=1/size=8B-2 msgs/s"},
	} {
		code, stdout, stderr := run(t, "compare", old, c.new, "--max-regression", "5")
		if code != c.code || !strings.Contains(stdout, c.want) {
			t.Errorf("compare old %s: exit %d, want %d and %q\n%s%s", filepath.Base(c.new), code, c.code, c.want, stdout, stderr)
		}
	}
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
