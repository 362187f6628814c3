package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/faultline-sim/faultline/internal/report"
	"github.com/faultline-sim/faultline/scenarios"
)

// exitIOError is the exit code when a run's verdicts are fine but a file it
// had to write (under -out, or the -corpus) could not be written: the
// results are not all on disk (BSD sysexits EX_IOERR).
const exitIOError = 74

// outName is the directory, relative to -out, that holds the target's
// seeds: the scenario's name for a scenario run as catalogued, and
// <scenario>/cfg-<config hash> for an ad-hoc run or a scenario with knobs,
// so that two configurations never share (or overwrite) seed-S.
func (t *target) outName() string {
	if !t.adHoc && !t.knobs.any() {
		return t.spec.Name
	}
	return t.spec.Name + "/cfg-" + t.configHash()
}

// seedDir is where a seed's files go: ROOT/<name>/seed-<S>, with '/' in
// names (e.g. skew/1s) kept as subdirectories.
func seedDir(root, name string, seed uint64) string {
	return filepath.Join(root, filepath.FromSlash(name), "seed-"+strconv.FormatUint(seed, 10))
}

// writeSeedFiles writes a seed's files into dir atomically: everything is
// written into a fresh temporary directory beside dir and only then renamed
// into place, file by file, so a full or read-only disk leaves either the
// complete file or none (never a truncated one) and the error is returned.
// A rerun of the same seed and configuration replaces the files it wrote.
func writeSeedFiles(dir string, o scenarios.Outcome, adHoc bool, vis []byte) ([]string, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	run := reportRun(o, adHoc)
	if o.Class == scenarios.ClassCorrectness {
		// Each witness's explanation: a traced replay's slice. A replay that
		// cannot explain (it diverged) is no reason to lose the report.
		if whys, err := scenarios.Explain(o); err == nil {
			run.Why = whys
		}
	}
	written, err := report.WriteDir(tmp, run, visualization(o, vis))
	if err == nil && o.Panic != "" {
		p := filepath.Join(tmp, "panic.txt")
		if err = os.WriteFile(p, []byte(o.Failure+"\n\n"+o.Panic), 0o644); err == nil {
			written = append(written, p)
		}
	}
	if err == nil {
		err = syncDir(tmp, written)
	}
	if err != nil {
		return nil, fmt.Errorf("writing %s (nothing kept): %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dir, err)
	}
	var files []string
	for _, p := range written {
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.Rename(p, dst); err != nil {
			return files, fmt.Errorf("writing %s: %w", dst, err)
		}
		files = append(files, dst)
	}
	return files, nil
}

// syncDir flushes the files to disk, so a write error the kernel reports
// only at sync (a full disk on some file systems) is seen before the
// rename.
func syncDir(dir string, files []string) error {
	for _, p := range files {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, os.ErrInvalid) {
			return err
		}
	}
	return nil
}
