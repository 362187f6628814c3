package cluster_test

import (
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/cluster"
	"github.com/faultline-sim/faultline/scenarios"
)

var (
	memprofOps  = flag.Int("faultline.memprof-ops", 0, "TestHeapAfterRun: operations of the run (0: skip the test)")
	memprofFile = flag.String("faultline.memprof", "", "TestHeapAfterRun: write the heap profile after the run (and after the judge, FILE.judged) here")
)

// TestHeapAfterRun profiles what a long run keeps live: the heap right
// after Run (before judging) and after Judge. It runs only with
// -faultline.memprof-ops, e.g.
// go test ./cluster -run TestHeapAfterRun -faultline.memprof-ops 200000 -faultline.memprof /tmp/heap.pb.gz
func TestHeapAfterRun(t *testing.T) {
	if *memprofOps == 0 {
		t.Skip("set -faultline.memprof-ops to run")
	}
	cfg := scenarios.DefaultConfig()
	cfg.WorkloadConfig.Ops = *memprofOps
	cfg.TimeLimit = 0
	cfg = withFaults(t, cfg, 1, "partition,crash", time.Second)
	c, err := cluster.New(cfg.Cluster(), 1)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	writeHeap(t, *memprofFile)
	res, err := cluster.Judge(r, scenarios.JudgeOptionsFor(cfg))
	require.NoError(t, err)
	if *memprofFile != "" {
		writeHeap(t, *memprofFile+".judged")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("ops %d events %d heap-in-use %d MiB, sys %d MiB, total alloc %d MiB", len(r.Ops), r.Stats.Events, ms.HeapInuse>>20, ms.Sys>>20, ms.TotalAlloc>>20)
	for _, x := range res {
		t.Logf("%s: %s", x.Checker, x.Verdict)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(r)
}

func writeHeap(t *testing.T, path string) {
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, pprof.WriteHeapProfile(f))
}
