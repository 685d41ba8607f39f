package check_test

import (
	"testing"

	"github.com/mpconform/mpconform/harness/check"
	"github.com/mpconform/mpconform/harness/trace"
)

func iv(t0, t1 int64) check.Interval {
	return check.Interval{T0: t0, T1: t1, Rec: trace.Record{Op: "x"}}
}

func TestCommonPoint(t *testing.T) {
	if err := check.CommonPoint([]check.Interval{iv(0, 10), iv(5, 20), iv(9, 30)}); err != nil {
		t.Error(err)
	}
	if err := check.CommonPoint([]check.Interval{iv(0, 10), iv(5, 20), iv(11, 30)}); err == nil {
		t.Error("sequential intervals passed")
	}
}

func TestDisjoint(t *testing.T) {
	if err := check.Disjoint([]check.Interval{iv(20, 30), iv(0, 10), iv(10, 19)}); err != nil {
		t.Error(err)
	}
	if err := check.Disjoint([]check.Interval{iv(0, 10), iv(9, 12)}); err == nil {
		t.Error("overlapping intervals passed")
	}
}

func TestBefore(t *testing.T) {
	a := []trace.Record{{T0: 0, T1: 5}}
	b := []trace.Record{{T0: 6, T1: 9}}
	if err := check.Before(a, b); err != nil {
		t.Error(err)
	}
	if err := check.Before(b, a); err == nil {
		t.Error("reversed order passed")
	}
}

func TestAtMost(t *testing.T) {
	three := []check.Interval{iv(0, 10), iv(5, 20), iv(8, 30), iv(20, 40)}
	if err := check.AtMost(three, 3); err != nil {
		t.Error(err)
	}
	if err := check.AtMost(three, 2); err == nil {
		t.Error("three at once passed AtMost 2")
	}
}
