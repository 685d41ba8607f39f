package compare

import (
	"math"
	"slices"
	"sync"

	"golang.org/x/perf/benchmath"
)

// critical is the largest Mann-Whitney U (the count of pairs, one value from
// each side, where the new value is the lower) at which benchmath's two-sided
// test on n1 and n2 samples without ties gives p < alpha; -1 when no U does.
// It asks benchmath itself, on samples built to have that U, so that the
// interval and the detectable change use the very test the gate uses,
// exact distribution or normal approximation alike.
func critical(n1, n2 int, alpha float64) int {
	type key struct {
		n1, n2 int
		alpha  float64
	}
	k := key{n1, n2, alpha}
	if c, ok := criticalCache.Load(k); ok {
		return c.(int)
	}
	thr := &benchmath.Thresholds{CompareAlpha: alpha}
	p := func(u int) float64 {
		x := make([]float64, n1)
		for i := range x {
			x[i] = float64(i)
		}
		// y[j] lies above k of the x, so U is the sum of the k, and no two
		// values are equal: a tie would change the test's distribution.
		y := make([]float64, n2)
		for j := range y {
			k := min(n1, u)
			u -= k
			y[j] = float64(k-1) + float64(j+1)/float64(n2+1)
		}
		return benchmath.AssumeNothing.Compare(benchmath.NewSample(x, thr), benchmath.NewSample(y, thr)).P
	}
	// p grows with U up to the middle of its range: search the last U below alpha.
	lo, hi := -1, n1*n2/2 // p(lo) < alpha (lo = -1 stands for "none"), p(hi+1) ≥ alpha or beyond the middle
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p(mid) < alpha {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	criticalCache.Store(k, lo)
	return lo
}

var criticalCache sync.Map

// logRatios returns every log(b/a), a from as and b from bs, in ascending
// order; nil when a value is not positive.
func logRatios(as, bs []float64, skipSameIndex bool) []float64 {
	d := make([]float64, 0, len(as)*len(bs))
	for i, a := range as {
		for j, b := range bs {
			if a <= 0 || b <= 0 {
				return nil
			}
			if skipSameIndex && i == j {
				continue
			}
			d = append(d, math.Log(b/a))
		}
	}
	slices.Sort(d)
	return d
}

// ratioInterval is the distribution-free confidence interval of new/old at
// 1-alpha that the Mann-Whitney test gives (Hodges-Lehmann, on log values):
// the order statistics c+1 and m-c of the m pairwise ratios new_j/old_i, c the
// test's critical U. It excludes 1 exactly when the test rejects (no ties).
// [0, +Inf] when the test can reject nothing; NaNs when a value is not positive.
func ratioInterval(old, new []float64, c int) (lo, hi float64) {
	d := logRatios(old, new, false)
	switch {
	case d == nil:
		return math.NaN(), math.NaN()
	case c < 0:
		return 0, math.Inf(1)
	}
	return math.Exp(d[c]), math.Exp(d[len(d)-1-c])
}
