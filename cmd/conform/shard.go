package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/report"
)

// nothing is a label no spec has: the filter of a shard that got no behaviour.
const nothing = "mpconform-no-behaviour"

// restrict narrows the label filter expr to the behaviours that failed or were
// flaky in the results at rerun (conform run --rerun-failed), then to the
// shard-th part of them (conform run --shard i/n). Either may be empty. ok is
// false when rerun names no behaviour to run again.
func restrict(expr, rerun, shard string) (_ string, ok bool, err error) {
	if rerun == "" && shard == "" {
		return expr, true, nil
	}
	ids, err := selected(expr)
	if err != nil {
		return "", false, err
	}
	if rerun != "" {
		res, err := readResults(rerun)
		if err != nil {
			return "", false, err
		}
		failed := map[string]bool{}
		for _, b := range res.Behaviours {
			// What failed the run: a failure, a flake, an xfail that passed.
			failed[b.ID] = b.Status == report.Fail || b.Status == report.Flaky || b.Unexpected || b.Unrecorded
		}
		var keep []string
		for _, id := range ids {
			if failed[id] {
				keep = append(keep, id)
			}
		}
		if ids = keep; len(ids) == 0 {
			return "", false, nil
		}
	}
	if shard != "" {
		i, n, err := report.ParseShard(shard)
		if err != nil {
			return "", false, fmt.Errorf("%w: --shard: %v", errUsage, err)
		}
		ids = shardOf(ids, i, n)
	}
	if len(ids) == 0 {
		return nothing, true, nil
	}
	return joinFilters(expr, strings.Join(ids, " || ")), true, nil
}

// selected lists, sorted, the IDs of the behaviours whose specs the label
// filter expr selects: a spec's labels are its behaviour's ID, profile and
// features (suite.Spec).
func selected(expr string) ([]string, error) {
	match, err := types.ParseLabelFilter(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: --label-filter: %v", errUsage, firstLine(err.Error()))
	}
	var ids []string
	for _, b := range catalogue.All() {
		if match(append([]string{b.ID, b.Profile}, b.Features...)) {
			ids = append(ids, b.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// shardOf deals ids (sorted) round-robin into n shards and returns the i-th:
// every behaviour is in exactly one shard, shards differ in size by one at
// most, and the split depends only on the selection, not on the machine.
func shardOf(ids []string, i, n int) []string {
	var out []string
	for k, id := range ids {
		if k%n == i-1 {
			out = append(out, id)
		}
	}
	return out
}

// readResults reads a results.json, or the one in a report directory.
func readResults(path string) (*report.Results, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, "results.json")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: no results: %v", path, firstLine(err.Error()))
	}
	var r report.Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a results.json: %v", file, firstLine(err.Error()))
	}
	if r.Impl.Name == "" {
		return nil, fmt.Errorf("%s: not a results.json: it names no implementation", file)
	}
	return &r, nil
}

// reportDir is the report directory of path, a results.json or a directory.
func reportDir(path string) string {
	if filepath.Base(path) == "results.json" {
		return filepath.Dir(path)
	}
	return path
}

// mergeCmd is conform merge OUT DIR...: the shards of one run, joined into
// the report the whole run would have written under OUT/<impl>, with their
// traces and run files.
func mergeCmd(args []string, stdout io.Writer) error {
	if len(args) < 2 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: merge needs OUT and the shards' report directories", errUsage)
	}
	out, dirs := args[0], args[1:]
	var parts []*report.Results
	for _, d := range dirs {
		r, err := readResults(d)
		if err != nil {
			return err
		}
		parts = append(parts, r)
	}
	res, err := report.JoinShards(parts, dirs)
	if err != nil {
		return err
	}
	dest := filepath.Join(out, safeName(res.Impl.Name))
	for _, d := range dirs {
		if same(reportDir(d), dest) {
			return fmt.Errorf("%s is a shard: merge into another directory", dest)
		}
	}
	if err := os.RemoveAll(filepath.Join(dest, "traces")); err != nil {
		return err
	}
	owner := map[string]string{} // behaviour ID -> its shard's report directory
	for k, r := range parts {
		for _, b := range r.Behaviours {
			owner[b.ID] = reportDir(dirs[k])
		}
	}
	for i := range res.Behaviours {
		b := &res.Behaviours[i]
		src := owner[b.ID]
		for _, rel := range []string{b.Trace, b.Visualisation, b.Files} {
			if rel == "" {
				continue
			}
			if err := copyPath(filepath.Join(src, rel), filepath.Join(dest, rel)); err != nil {
				return err
			}
		}
		if b.Files != "" {
			b.Replay = strings.Replace(b.Replay, filepath.Join(src, b.Files), filepath.Join(dest, b.Files), 1)
		}
	}
	if err := res.Write(dest); err != nil {
		return err
	}
	res.Table(stdout)
	fmt.Fprintf(stdout, "reports: %s/{results.json,junit.xml,summary.md} (merged from %d shards)\n", dest, len(parts))
	if err := writeIndex(out, stdout); err != nil {
		return err
	}
	if res.Failed() {
		return exitError(1)
	}
	return nil
}

// copyPath copies a file, or a directory and what it holds.
func copyPath(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.CopyFS(dst, os.DirFS(src))
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

func same(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
