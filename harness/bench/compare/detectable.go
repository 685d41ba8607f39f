package compare

import "math"

// detectable is the smallest shift, as a log ratio, that the test with
// critical U c would call significant between n1 old samples and n2 new ones,
// if the new samples scattered as the old ones do: +Inf when it sees none.
//
// It is an A/A comparison of the old samples with themselves. Shifted by s,
// the new samples are rejected when at most c of the n1·n2 pairwise log ratios
// old_i/new_j still exceed s. Without a change, those ratios are distributed as
// the ratios between two halves of the old samples, and the cross pairs of all
// the splits into halves are, together, every ordered pair i ≠ j once each
// (each as often): so the ratios old_i/old_j, i ≠ j, are that distribution,
// from all the splits at once. s is their quantile at 1 - (c+½)/(n1·n2), ½
// being the boundary between the counts the test rejects and those it keeps.
// At that shift the expected count is at the boundary: the test finds the
// change about half the time.
func detectable(old []float64, n2, c int) float64 {
	n1 := len(old)
	d := logRatios(old, old, true)
	switch {
	case d == nil && n1 > 1:
		return math.NaN()
	case c < 0 || len(d) == 0:
		return math.Inf(1)
	}
	return quantile(d, 1-(float64(c)+0.5)/float64(n1*n2))
}

// quantile of sorted xs at q, interpolated between order statistics.
func quantile(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}
