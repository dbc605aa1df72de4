package bench

import (
	"math"
	"testing"
)

func TestGrowthExponent(t *testing.T) {
	n := []float64{10, 100, 1000}
	for _, c := range []struct {
		y    []float64
		want float64
	}{{[]float64{1, 10, 100}, 1}, {[]float64{1, 100, 10000}, 2}, {[]float64{5, 5, 5}, 0}} {
		if got := GrowthExponent(n, c.y); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("GrowthExponent(%v, %v) = %v, want %v", n, c.y, got, c.want)
		}
	}
	if got := Median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("Median = %v, want 2.5", got)
	}
}
