package runner

import (
	"testing"
	"time"
)

func TestWallOffsetSteady(t *testing.T) {
	// Without a step, the two clocks keep their distance to well within the
	// limit over a short wait (NTP slews by at most 0.5 ms a second).
	a := wallOffset()
	time.Sleep(50 * time.Millisecond)
	if d := wallOffset() - a; (&Result{ClockStep: d}).ClockStepped() {
		t.Fatalf("the clocks moved %v apart in 50 ms without a step", d)
	}
	if !(&Result{ClockStep: -time.Millisecond}).ClockStepped() {
		t.Fatal("a 1 ms step backwards is not seen")
	}
}
