package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParseShard reads "i/n" (1 ≤ i ≤ n).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("shard %q is not i/n with 1 ≤ i ≤ n", s)
	}
	return i, n, nil
}

// JoinShards joins the results of the n shards of one run (conform run
// --shard i/n, each given once, in any order) into the results of the whole
// run. names label the parts in errors (their paths). It refuses parts of
// different implementations, profiles or filters, a result that is not a
// shard, a shard given twice or missing, and a behaviour that two shards
// checked: each is a sign that the parts are not one run.
func JoinShards(parts []*Results, names []string) (*Results, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no shards to merge")
	}
	first := parts[0]
	_, n, err := ParseShard(first.Shard)
	if err != nil {
		return nil, notShard(names[0])
	}
	seen := make([]string, n+1)  // shard number -> the part that is it
	owner := map[string]string{} // behaviour ID -> the part that checked it
	joined := *first
	joined.Behaviours, joined.Shard = nil, ""
	for k, r := range parts {
		i, m, err := ParseShard(r.Shard)
		switch {
		case err != nil:
			return nil, notShard(names[k])
		case m != n:
			return nil, fmt.Errorf("%s is shard %s but %s is shard %s: not the same split", names[k], r.Shard, names[0], first.Shard)
		case seen[i] != "":
			return nil, fmt.Errorf("overlapping shards: %s and %s are both shard %s", seen[i], names[k], r.Shard)
		case r.Impl.Name != first.Impl.Name:
			return nil, fmt.Errorf("%s is of %s but %s is of %s", names[k], r.Impl.Name, names[0], first.Impl.Name)
		case r.Profile != first.Profile || r.Filter != first.Filter:
			return nil, fmt.Errorf("%s ran profile %q, filter %q but %s ran profile %q, filter %q",
				names[k], r.Profile, r.Filter, names[0], first.Profile, first.Filter)
		}
		seen[i] = names[k]
		for _, b := range r.Behaviours {
			if o, dup := owner[b.ID]; dup {
				return nil, fmt.Errorf("overlapping shards: %s and %s both checked %s", o, names[k], b.ID)
			}
			owner[b.ID] = names[k]
			joined.Behaviours = append(joined.Behaviours, b)
		}
		if r.Started.Before(joined.Started) {
			joined.Started = r.Started
		}
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if seen[i] == "" {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing shards: %s", strings.Join(missing, ", "))
	}
	sort.SliceStable(joined.Behaviours, func(i, j int) bool { return joined.Behaviours[i].ID < joined.Behaviours[j].ID })
	joined.Count()
	return &joined, nil
}

func notShard(name string) error {
	return fmt.Errorf("%s is not a shard (it holds no \"shard\": run it with conform run --shard i/n)", name)
}
