package scenarios

import (
	"runtime"
	"sync"
)

// Parallel calls run(i) for every i in [0, n) on up to parallel goroutines
// (0 means GOMAXPROCS) and calls finished(i, done) on the calling goroutine
// as each one completes, done counting completions so far. Runs must be
// independent (each simulated run is single-threaded and a pure function of
// its seed), so results never depend on parallel; only the order of the
// finished calls does.
func Parallel(n, parallel int, run func(i int), finished func(i, done int)) {
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	parallel = max(1, min(parallel, n))
	if parallel == 1 {
		for i := 0; i < n; i++ {
			run(i)
			if finished != nil {
				finished(i, i+1)
			}
		}
		return
	}
	work := make(chan int)
	doneCh := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				run(i)
				doneCh <- i
			}
		}()
	}
	go func() {
		for i := 0; i < n; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		close(doneCh)
	}()
	done := 0
	for i := range doneCh {
		done++
		if finished != nil {
			finished(i, done)
		}
	}
}
