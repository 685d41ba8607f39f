package report

import (
	"strings"
	"testing"
	"time"
)

func TestJoinShards(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	shard := func(s string, started time.Time, ids ...string) *Results {
		r := &Results{Impl: Impl{Name: "x"}, Profile: "all", Shard: s, Started: started}
		for _, id := range ids {
			r.Behaviours = append(r.Behaviours, Behaviour{ID: id, Status: Pass})
		}
		return r
	}
	a, b, c := shard("1/3", t0.Add(time.Second), "q.b", "q.d"), shard("2/3", t0, "q.a"), shard("3/3", t0, "q.c")
	r, err := JoinShards([]*Results{c, a, b}, []string{"c", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range r.Behaviours {
		ids = append(ids, x.ID)
	}
	if strings.Join(ids, " ") != "q.a q.b q.c q.d" || r.Shard != "" || !r.Started.Equal(t0) || r.Totals[Pass] != 4 {
		t.Errorf("joined: %v, shard %q, started %v, totals %v", ids, r.Shard, r.Started, r.Totals)
	}

	other := shard("3/3", t0, "q.e")
	other.Impl.Name = "y"
	filtered := shard("3/3", t0, "q.e")
	filtered.Filter = "lock"
	for _, k := range []struct {
		parts []*Results
		want  string
	}{
		{[]*Results{a, b}, "missing shards: 3/3"},
		{[]*Results{a, b, c, a}, "overlapping shards: p0 and p3 are both shard 1/3"},
		{[]*Results{a, b, shard("3/3", t0, "q.d")}, "overlapping shards: p0 and p2 both checked q.d"},
		{[]*Results{a, b, shard("3/4", t0)}, "not the same split"},
		{[]*Results{a, b, shard("", t0)}, "p2 is not a shard"},
		{[]*Results{a, b, other}, "p2 is of y but p0 is of x"},
		{[]*Results{a, b, filtered}, `p2 ran profile "all", filter "lock"`},
		{nil, "no shards"},
	} {
		names := make([]string, len(k.parts))
		for i := range names {
			names[i] = "p" + string(rune('0'+i))
		}
		if _, err := JoinShards(k.parts, names); err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("JoinShards: %v, want %q", err, k.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	if i, n, err := ParseShard("2/5"); i != 2 || n != 5 || err != nil {
		t.Errorf("2/5: %d %d %v", i, n, err)
	}
	for _, bad := range []string{"", "1", "0/2", "3/2", "1/0", "a/b", "-1/2", "1/2/3"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
