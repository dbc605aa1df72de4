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

// TestCPUTimes reads /proc/stat's aggregate line (idle and iowait as idle) and the idle share
// between two samples; the cluster tier waits on it before each measured run.
func TestCPUTimes(t *testing.T) {
	a, err := parseCPUTimes("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if a.idle != 850 || a.total != 1000 {
		t.Fatalf("parsed %+v, want idle 850 of 1000", a)
	}
	b, err := parseCPUTimes("cpu  400 0 100 850 50 0 0 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	// 400 more ticks, 50 of them idle.
	if got := idleShare(a, b); got != 0.125 {
		t.Fatalf("idle share %v, want 0.125", got)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5"} {
		if _, err := parseCPUTimes(bad); err == nil {
			t.Errorf("parseCPUTimes(%q) accepted", bad)
		}
	}
	if _, err := readCPUTimes(); err != nil {
		t.Fatalf("this machine's /proc/stat: %v", err)
	}
}
