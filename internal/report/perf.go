package report

import (
	"math"
	"sort"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// The latency-quantile and throughput plots cut the workload into
// bucketsFor(completed operations) buckets: about perBucket operations per
// bucket, between minBuckets and maxBuckets (the page recomputes them the
// same way for the operations in view when zoomed in).
const (
	minBuckets = 12
	maxBuckets = 120
	perBucket  = 25
)

// bucketsFor returns how many buckets the plots of n completed operations
// use.
func bucketsFor(n int) int { return max(minBuckets, min(maxBuckets, n/perBucket)) }

// The operation groups the performance plots tell apart.
const (
	groupRead  = 0 // reads
	groupWrite = 1 // writes, CAS, adds and deletes: everything that changes state
)

// The quantiles the latency plot draws, in order.
var quantiles = []struct {
	name string
	q    float64 // 1 means the maximum
}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}, {"max", 1}}

// perfSeries is the latency quantiles and throughput of a span of time cut
// into equal buckets, as the page plots them (times in nanoseconds).
type perfSeries struct {
	// T0 is the start of bucket 0; Step the length of every bucket; N the
	// number of buckets.
	T0   int64 `json:"t0"`
	Step int64 `json:"step"`
	N    int   `json:"n"`
	// Lat[g][q][i] is quantile q (p50, p95, p99, max) of the latencies of
	// the ok operations of group g (read, write) called in bucket i, in
	// nanoseconds; -1 when no such operation was called in bucket i.
	Lat [2][4][]int64 `json:"lat"`
	// Done[g][o][i] counts the operations of group g that completed in
	// bucket i with outcome o (ok, fail, info).
	Done [2][3][]int `json:"done"`
}

// groupOf returns the plot group of an operation kind.
func groupOf(k history.Kind) int {
	if k == history.Read {
		return groupRead
	}
	return groupWrite
}

// outcomeIndex returns the index of an outcome in perfSeries.Done.
func outcomeIndex(t history.Type) int {
	switch t {
	case history.OK:
		return 0
	case history.Fail:
		return 1
	}
	return 2
}

// quantile returns the nearest-rank quantile q of sorted (q = 1: the
// maximum): the smallest value with at least a fraction q of the values at
// or below it.
func quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return -1
	}
	rank := int(math.Ceil(q*float64(len(sorted))-1e-9)) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// computePerf buckets ops over [t0, t1] into n buckets. Final reads are
// left out: they measure the settled cluster, not the workload.
func computePerf(ops []history.Op, t0, t1 sim.Time, n int) perfSeries {
	n = max(n, 1)
	span := max(int64(t1-t0), int64(n))
	step := (span + int64(n) - 1) / int64(n)
	p := perfSeries{T0: int64(t0), Step: step, N: n}
	lat := make([][2][]int64, n)
	for g := range p.Done {
		for o := range p.Done[g] {
			p.Done[g][o] = make([]int, n)
		}
	}
	bucket := func(t sim.Time) int {
		if t < t0 {
			return -1
		}
		i := int64(t-t0) / step
		switch {
		case t > t1:
			return -1
		case i >= int64(n):
			i = int64(n - 1) // t1 itself closes the last bucket
		}
		return int(i)
	}
	for i := range ops {
		o := &ops[i]
		if o.Final || o.End == sim.Never {
			continue
		}
		g := groupOf(o.Kind)
		if b := bucket(o.End); b >= 0 {
			p.Done[g][outcomeIndex(o.Outcome)][b]++
		}
		if o.Outcome != history.OK {
			continue
		}
		if b := bucket(o.Call); b >= 0 {
			lat[b][g] = append(lat[b][g], int64(o.End-o.Call))
		}
	}
	for g := range p.Lat {
		for q := range p.Lat[g] {
			p.Lat[g][q] = make([]int64, n)
		}
	}
	for b := range lat {
		for g := range lat[b] {
			ls := lat[b][g]
			sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
			for q, qq := range quantiles {
				p.Lat[g][q][b] = quantile(ls, qq.q)
			}
		}
	}
	return p
}

// latencySummary is the overall latency quantiles of one group's ok
// operations (final reads excluded), in nanoseconds, and their count.
type latencySummary struct {
	n int
	q [4]int64
}

// summarize returns the overall latency quantiles of the ok operations of
// each group.
func summarize(ops []history.Op) [2]latencySummary {
	var ls [2][]int64
	for i := range ops {
		o := &ops[i]
		if o.Final || o.Outcome != history.OK || o.End == sim.Never {
			continue
		}
		g := groupOf(o.Kind)
		ls[g] = append(ls[g], int64(o.End-o.Call))
	}
	var out [2]latencySummary
	for g := range ls {
		sort.Slice(ls[g], func(i, j int) bool { return ls[g][i] < ls[g][j] })
		out[g].n = len(ls[g])
		for q, qq := range quantiles {
			out[g].q[q] = quantile(ls[g], qq.q)
		}
	}
	return out
}
