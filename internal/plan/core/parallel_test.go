package core

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestParallelCallsEachIndexOnce: for sizes below, at and above the split threshold, with one
// and with several processors, every index is called exactly once.
func TestParallelCallsEachIndexOnce(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, parallelMin - 1, parallelMin, 65, 1000, 1001} {
			calls := make([]atomic.Int32, n)
			Parallel(n, func(i int) { calls[i].Add(1) })
			for i := range calls {
				if c := calls[i].Load(); c != 1 {
					t.Fatalf("GOMAXPROCS %d, n %d: index %d called %d times", procs, n, i, c)
				}
			}
		}
	}
}
