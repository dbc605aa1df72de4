package core

import (
	"runtime"
	"sync"
)

// parallelMin is the smallest n Parallel splits: below it the goroutines cost more than they
// save, and small plans (every test's) run on the calling goroutine.
const parallelMin = 64

// Parallel calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines each taking a
// contiguous range, and returns when all calls have returned. fn must be safe to call
// concurrently for different i: it may read shared values but write only what belongs to i.
func Parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/(parallelMin/2))
	if n < parallelMin || workers < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				fn(i)
			}
		})
	}
	wg.Wait()
}
