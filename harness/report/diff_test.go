package report

import "testing"

func TestRegressed(t *testing.T) {
	for _, c := range []struct {
		old, new string
		want     bool
	}{
		{Pass, Fail, true}, {Pass, Flaky, true}, {Pass, Missing, true}, {XFail, Fail, true},
		{Pass, XFail, false}, {Pass, Unsupported, false}, {Fail, Pass, false}, {XFail, Pass, false},
		{Fail, Missing, false}, {Missing, Fail, false}, {Unsupported, Fail, false}, {Flaky, Fail, false},
	} {
		if got := Regressed(c.old, c.new); got != c.want {
			t.Errorf("Regressed(%s, %s) = %v", c.old, c.new, got)
		}
	}
}

func TestDiff(t *testing.T) {
	old := &Results{Behaviours: []Behaviour{{ID: "b", Status: Pass}, {ID: "a", Status: XFail}, {ID: "c", Status: Pass}}}
	new := &Results{Behaviours: []Behaviour{{ID: "a", Status: Fail}, {ID: "c", Status: Pass}, {ID: "d", Status: Pass}}}
	got := Diff(old, new)
	want := []Change{{"a", XFail, Fail, true}, {"b", Pass, Missing, true}, {"d", Missing, Pass, false}}
	if len(got) != len(want) {
		t.Fatalf("Diff: %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
