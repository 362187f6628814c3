package main

import (
	"os"
	"runtime"
)

// gcFloorBytes is the heap the collector is told is live before any run
// starts (gcFloor). A seed of the standard run keeps about 1 MB live and
// allocates about 5 MB, so the collector's own 4 MB minimum goal runs it
// two or three times per seed (275 collections for 100 seeds); with the
// floor it runs about once every six seeds (18), for ~30 MB more resident
// garbage. Big runs are hardly affected: the goal grows by the floor, not
// by a factor.
const gcFloorBytes = 32 << 20

// gcFloor returns a ballast: a pointer-free allocation the collector
// counts as live but never scans, and that is never written, so the
// operating system never backs it with memory (the ballast itself adds
// nothing to RSS; the garbage it lets accumulate does).
// It raises the heap goal from 2× the live heap to 2× (live + floor). It
// returns nil, changing nothing, when the user set GOGC or GOMEMLIMIT:
// their choice wins. Keep the result alive for the life of the process.
func gcFloor() []byte {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	return make([]byte, gcFloorBytes)
}

// keepGCFloor keeps the ballast reachable until the process ends.
func keepGCFloor(b []byte) { runtime.KeepAlive(b) }
