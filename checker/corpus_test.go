package checker

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline-sim/faultline/history"
)

// corpusEntry is one line of testdata/corpus/MANIFEST.tsv: a published
// history, the verdict its source states, and the flags to check it with.
type corpusEntry struct {
	file, verdict, flags, how, source, sha string
}

func readManifest(t testing.TB) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("MANIFEST.tsv line %d: %d fields, want 6", n, len(f))
		}
		out = append(out, corpusEntry{f[0], f[1], f[2], f[3], f[4], f[5]})
	}
	return out
}

// corpusDir finds the corpus files: testdata/corpus/data (not committed),
// $FAULTLINE_CORPUS, or shared/corpus beside the repository.
func corpusDir(t testing.TB) string {
	t.Helper()
	cands := []string{filepath.Join("testdata", "corpus", "data")}
	if d := os.Getenv("FAULTLINE_CORPUS"); d != "" {
		cands = append([]string{d}, cands...)
	}
	cands = append(cands, filepath.Join("..", "..", "shared", "corpus"))
	for _, d := range cands {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	if os.Getenv("FAULTLINE_CORPUS_REQUIRED") != "" {
		t.Fatalf("no corpus in %q", cands)
	}
	t.Skipf("the published-history corpus is not here (looked in %q); see checker/testdata/corpus/SOURCES.md", cands)
	return ""
}

// corpusOptions turns a manifest's flags into LinearOptions.
func corpusOptions(flags string) (LinearOptions, error) {
	var o LinearOptions
	f := strings.Fields(flags)
	for i := 0; i < len(f); i += 2 {
		if i+1 >= len(f) {
			return o, fmt.Errorf("flag %s without a value", f[i])
		}
		switch f[i] {
		case "-model":
			m, err := ParseModel(f[i+1])
			if err != nil {
				return o, err
			}
			o.Model = m
		case "-initial":
			o.Initial, o.HasInitial = f[i+1], true
		default:
			return o, fmt.Errorf("unknown flag %s", f[i])
		}
	}
	return o, nil
}

// checkCorpusFile reads one corpus file as-is and checks it.
func checkCorpusFile(path, flags string) (Result, *history.Parsed, error) {
	opts, err := corpusOptions(flags)
	if err != nil {
		return Result{}, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, nil, err
	}
	defer f.Close()
	p, err := history.ReadHistory(f)
	if err != nil {
		return Result{}, nil, err
	}
	ops, err := history.Pair(p.Events)
	if err != nil {
		return Result{}, p, err
	}
	res, err := Linearizable(ops, opts)
	return res, p, err
}

// TestPublishedCorpus checks every published history of the corpus as it
// was published and requires the verdict its source states.
func TestPublishedCorpus(t *testing.T) {
	entries := readManifest(t)
	dir := corpusDir(t)
	judged := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.file))
		if err != nil {
			t.Errorf("%s: %v", e.file, err)
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != e.sha {
			t.Errorf("%s: sha256 differs from the manifest: the file is not as published", e.file)
			continue
		}
		if e.verdict == "skip" {
			continue
		}
		judged++
		res, p, err := checkCorpusFile(filepath.Join(dir, e.file), e.flags)
		if err != nil {
			t.Errorf("%s: %v", e.file, err)
			continue
		}
		if string(res.Verdict) != e.verdict {
			t.Errorf("%s (%s): %s, its source says %s: %s", e.file, p.Format, res.Verdict, e.verdict, res.Explanation)
		}
	}
	if judged < 200 {
		t.Errorf("only %d histories judged, want at least 200", judged)
	}
}
