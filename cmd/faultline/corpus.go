package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
)

// corpusEntry is one line of a -corpus file: a seed that failed, with what
// produced it. A run replays the entries of its own scenario and
// configuration hash (from any build: that is how a fix is checked and a
// regression caught) before its seed range, and appends every new failure.
type corpusEntry struct {
	Scenario   string `json:"scenario"`
	Seed       uint64 `json:"seed"`
	ConfigHash string `json:"config_hash"`
	Build      string `json:"build"`
	Class      string `json:"class"`
	Failure    string `json:"failure,omitempty"`
	SimNs      int64  `json:"sim_ns"`
	Repro      string `json:"repro"`
}

// corpus is a loaded -corpus file.
type corpus struct {
	path string
	// seeds are the entries of this configuration, in file order, deduplicated.
	seeds []uint64
	// known holds every seed of this configuration in the file (so a failure
	// is appended once), other counts the entries of other configurations.
	known map[uint64]bool
	other int
	// readOnly: replay only, append nothing (the shards of a fleet; merge
	// is the one writer).
	readOnly bool
}

// loadCorpus reads the corpus at path for scenario and config hash (a
// missing file is an empty corpus). The error names the file and line.
func loadCorpus(path, scenario, hash string) (*corpus, error) {
	c := &corpus{path: path, known: map[uint64]bool{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("-corpus %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var e corpusEntry
		if err := json.Unmarshal(b, &e); err != nil || e.Scenario == "" || e.ConfigHash == "" {
			return nil, fmt.Errorf("-corpus %s:%d: not a corpus entry (a JSON object with scenario, seed and config_hash, as faultline appends them)", path, line)
		}
		if e.Scenario != scenario || e.ConfigHash != hash {
			c.other++
			continue
		}
		if !c.known[e.Seed] {
			c.known[e.Seed] = true
			c.seeds = append(c.seeds, e.Seed)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-corpus %s: %v", path, err)
	}
	return c, nil
}

// split returns the corpus seeds the shard owns (replayed first, in file
// order) and the range seeds that are not among them, so no seed runs
// twice.
func (c *corpus) split(sh shardSpec, seeds []uint64) (replay, rest []uint64) {
	replay = sh.filter(c.seeds)
	in := make(map[uint64]bool, len(replay))
	for _, s := range replay {
		in[s] = true
	}
	for _, s := range seeds {
		if !in[s] {
			rest = append(rest, s)
		}
	}
	return replay, rest
}

// add appends a failing seed's entry unless the corpus knows the seed. One
// write per line with O_APPEND, so shards sharing a local file do not
// interleave lines.
func (c *corpus) add(e corpusEntry) error {
	if c.known[e.Seed] || c.readOnly {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("-corpus %s: %w", c.path, err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-corpus %s: %w", c.path, err)
	}
	c.known[e.Seed] = true
	return nil
}

// entryOf is the corpus entry of a failing seed.
func entryOf(r *seedResult, st stamp) corpusEntry {
	return corpusEntry{Scenario: r.out.Scenario, Seed: r.job.seed, ConfigHash: st.ConfigHash, Build: st.Build,
		Class: string(r.out.Class), Failure: r.out.Failure, SimNs: r.out.SimTime.Nanoseconds(), Repro: r.out.Repro}
}

// sortedSeeds returns the keys of a seed set in order.
func sortedSeeds(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
