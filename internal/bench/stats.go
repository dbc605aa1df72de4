package bench

import (
	"math"
	"slices"
)

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// GrowthExponent is the least-squares slope of log y over log n: 1 is linear growth, 2
// quadratic. NaN for fewer than two points or a non-positive value.
func GrowthExponent(n, y []float64) float64 {
	if len(n) != len(y) || len(n) < 2 {
		return math.NaN()
	}
	var sx, sy, sxx, sxy float64
	for i := range n {
		if n[i] <= 0 || y[i] <= 0 {
			return math.NaN()
		}
		x, v := math.Log(n[i]), math.Log(y[i])
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	k := float64(len(n))
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}
