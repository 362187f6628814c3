package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// The environment variables a batch engine sets for one task of an array:
// Kubernetes Indexed Jobs (0-based) and Slurm job arrays (SLURM_ARRAY_TASK_MIN
// is subtracted, so --array=1-8 gives shards 0..7).
const (
	envJobIndex   = "JOB_COMPLETION_INDEX"
	envSlurmTask  = "SLURM_ARRAY_TASK_ID"
	envSlurmFirst = "SLURM_ARRAY_TASK_MIN"
)

// maxShards bounds -shards (an array larger than the seeds is pointless, and
// Kubernetes caps Indexed Jobs at 100000 completions).
const maxShards = 100_000

// shardFlags are -shards K and -shard I, shared by run and swarm.
type shardFlags struct {
	shards *int
	shard  *string
}

func addShardFlags(fs *flag.FlagSet) shardFlags {
	return shardFlags{
		shards: fs.Int("shards", 1, "split the seeds into K shards (seed mod K); this process runs one of them"),
		shard: fs.String("shard", "", "the shard this process runs, 0..K-1 (default: $"+envJobIndex+
			", else $"+envSlurmTask+" minus $"+envSlurmFirst+")"),
	}
}

// shardSpec is the partition a process runs: the seeds s with s mod K == I.
type shardSpec struct {
	// K is the number of shards (1: not sharded); I this process's shard.
	K, I int
}

// owns reports whether seed belongs to the shard. It is a pure function of
// (seed, K, I), so K processes together run every seed exactly once.
func (s shardSpec) owns(seed uint64) bool { return seed%uint64(s.K) == uint64(s.I) }

// filter returns the seeds the shard owns, in order.
func (s shardSpec) filter(seeds []uint64) []uint64 {
	if s.K == 1 {
		return seeds
	}
	out := make([]uint64, 0, len(seeds)/s.K+1)
	for _, seed := range seeds {
		if s.owns(seed) {
			out = append(out, seed)
		}
	}
	return out
}

// resolve reads -shards and -shard, falling back to the batch engine's
// environment (getenv) for the index. The error is a usage error message
// naming what to change.
func (f shardFlags) resolve(getenv func(string) string) (shardSpec, error) {
	k := *f.shards
	if k < 1 || k > maxShards {
		return shardSpec{}, fmt.Errorf("-shards %d: want 1..%d", k, maxShards)
	}
	s := shardSpec{K: k}
	src, val := "-shard", *f.shard
	if val == "" {
		if k == 1 {
			return s, nil
		}
		switch {
		case getenv(envJobIndex) != "":
			src, val = "$"+envJobIndex, getenv(envJobIndex)
		case getenv(envSlurmTask) != "":
			src, val = "$"+envSlurmTask, getenv(envSlurmTask)
		default:
			return shardSpec{}, fmt.Errorf("-shards %d without -shard: set -shard 0..%d, or run as a Kubernetes Indexed Job ($%s) or a Slurm array task ($%s)",
				k, k-1, envJobIndex, envSlurmTask)
		}
	}
	i, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil {
		return shardSpec{}, fmt.Errorf("%s %q: want a shard index, a non-negative integer", src, val)
	}
	if src == "$"+envSlurmTask {
		if lo := getenv(envSlurmFirst); lo != "" {
			first, err := strconv.Atoi(strings.TrimSpace(lo))
			if err != nil {
				return shardSpec{}, fmt.Errorf("$%s %q: want a non-negative integer", envSlurmFirst, lo)
			}
			i -= first
			src = fmt.Sprintf("$%s - $%s", envSlurmTask, envSlurmFirst)
		}
	}
	switch {
	case i < 0:
		return shardSpec{}, fmt.Errorf("%s is %d: a shard index must be >= 0", src, i)
	case i >= k:
		return shardSpec{}, fmt.Errorf("%s is %d, but -shards is %d: the index must be < -shards (0..%d)", src, i, k, k-1)
	}
	s.I = i
	return s, nil
}

// unshardedWarning is a warning when a batch engine's index is set but the
// run is not sharded (-shards 1): every task would run every seed.
func (s shardSpec) unshardedWarning(getenv func(string) string) string {
	if s.K != 1 {
		return ""
	}
	for _, v := range []string{envJobIndex, envSlurmTask} {
		if x := getenv(v); x != "" {
			return fmt.Sprintf("$%s is %s but -shards is 1: this task runs every seed; add -shards K to split them", v, x)
		}
	}
	return ""
}

// stamp identifies what produced a JSON line, so that merge can refuse to
// mix shards of different binaries or configurations.
type stamp struct {
	// Build identifies the binary (see buildStamp).
	Build string `json:"build"`
	// ConfigHash identifies the resolved configuration (see configHash).
	ConfigHash string `json:"config_hash"`
	// Shard and Shards are the partition this process ran.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
}

var (
	buildOnce sync.Once
	buildID   string
)

// buildStamp identifies the running binary: the VCS revision when the build
// is a clean checkout, the module version and sum when built with go
// install mod@version, and otherwise (a modified checkout, a test binary)
// a hash of the executable itself; always with the Go version. Two
// processes of one binary get the same stamp.
func buildStamp() string {
	buildOnce.Do(func() { buildID = computeBuildStamp() })
	return buildID
}

func computeBuildStamp() string {
	info, ok := debug.ReadBuildInfo()
	goVersion := "go?"
	var rev, modified, sum, version string
	if ok {
		goVersion = info.GoVersion
		version, sum = info.Main.Version, info.Main.Sum
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	switch {
	case rev != "" && modified != "true":
		return "git:" + short(rev, 12) + " " + goVersion
	case sum != "":
		return "mod:" + version + "@" + sum + " " + goVersion
	}
	id := "exe:" + exeHash()
	if rev != "" {
		id = "git:" + short(rev, 12) + "+modified " + id
	}
	return id + " " + goVersion
}

// exeHash hashes the running executable ("unknown" if it cannot be read).
func exeHash() string {
	path, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// configHash fingerprints the resolved configuration of a target: the
// scenario and every knob that shapes its runs (for an ad-hoc run every
// knob's value, set or not, since all of them apply; for a named scenario
// the knobs the user set). With the build stamp it determines every seed's
// result, so equal (build, config hash, seed) means an equal run.
func (t *target) configHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "scenario=%s\nad-hoc=%t\n", t.spec.Name, t.adHoc)
	for _, n := range knobNames {
		if t.adHoc || t.knobs.set[n] {
			fmt.Fprintf(h, "%s=%s\n", n, t.knobs.fs.Lookup(n).Value.String())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
