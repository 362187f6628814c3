package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The faultline binary these tests run as separate processes, built once.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// faultlineBinary builds cmd/faultline once (go build into a temporary
// directory) and returns its path.
func faultlineBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "faultline-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "faultline")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	require.NoError(t, binErr)
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// proc is one finished faultline process.
type proc struct {
	code           int
	stdout, stderr string
}

// startShards starts k processes of args at once, each with the
// environment a Kubernetes Indexed Job gives its pod (JOB_COMPLETION_INDEX),
// and waits for all of them.
func startShards(t *testing.T, k int, args ...string) []proc {
	t.Helper()
	bin := faultlineBinary(t)
	cmds := make([]*exec.Cmd, k)
	outs := make([]*bytes.Buffer, k)
	errs := make([]*bytes.Buffer, k)
	for i := range cmds {
		c := exec.Command(bin, append(args, "-shards", strconv.Itoa(k))...)
		c.Env = append(os.Environ(), envJobIndex+"="+strconv.Itoa(i))
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		c.Stdout, c.Stderr = outs[i], errs[i]
		require.NoError(t, c.Start())
		cmds[i] = c
	}
	procs := make([]proc, k)
	for i, c := range cmds {
		_ = c.Wait()
		procs[i] = proc{code: c.ProcessState.ExitCode(), stdout: outs[i].String(), stderr: errs[i].String()}
	}
	return procs
}

func runBinary(t *testing.T, stdin string, args ...string) proc {
	t.Helper()
	c := exec.Command(faultlineBinary(t), args...)
	var o, e bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &o, &e
	_ = c.Run()
	return proc{code: c.ProcessState.ExitCode(), stdout: o.String(), stderr: e.String()}
}

// seedKey is what must be equal seed for seed between a sharded and a
// single-process run.
type seedKey struct {
	Class, TraceHash, Failure, Build, Config string
}

func seedsOf(t *testing.T, out string) map[uint64]seedKey {
	t.Helper()
	m := map[uint64]seedKey{}
	for _, l := range jsonLines(t, out) {
		if l["summary"] == true {
			continue
		}
		seed := uint64(l["seed"].(float64))
		_, dup := m[seed]
		require.False(t, dup, "seed %d twice", seed)
		failure, _ := l["failure"].(string)
		m[seed] = seedKey{l["class"].(string), l["trace_hash"].(string), failure, l["build"].(string), l["config_hash"].(string)}
	}
	return m
}

// mergedWithoutWall decodes merge -json output, dropping what may differ
// between a sharded and a single run: wall time and the shard count.
func mergedWithoutWall(t *testing.T, out string) mergeJSON {
	t.Helper()
	var m mergeJSON
	require.NoError(t, json.Unmarshal([]byte(out), &m), out)
	m.WallNs, m.Shards = 0, 0
	return m
}

// TestShardsAsProcessesMergeEqualsSingleProcess is the fleet contract: K
// shard processes started as an Indexed Job starts them, merged, give
// exactly the single-process run: seed for seed, trace hash for trace hash,
// and the same merged summary. Two workloads: the documented swarm command
// (shards write -json-out FILE, as docs/scale.md has them), and an ad-hoc
// configuration whose seeds fail (so the failing-seed list is compared
// too), with -json on stdout.
func TestShardsAsProcessesMergeEqualsSingleProcess(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		k       int
		jsonOut bool
	}{
		{"swarm", []string{"swarm", "-seeds", "9", "-ops", "200", "-parallel", "1"}, 3, true},
		{"failing ad-hoc", []string{"run", "-seeds", "1-8", "-w", "1", "-r", "1", "-read-repair", "off", "-ops", "200", "-parallel", "1"}, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			shardArgs := append(append([]string(nil), c.args...), "-json")
			if c.jsonOut {
				shardArgs = append(append([]string(nil), c.args...), "-json-out", filepath.Join(dir, "shard-{shard}.jsonl"))
			}
			shards := startShards(t, c.k, shardArgs...)
			var files []string
			union := map[uint64]seedKey{}
			for i, p := range shards {
				require.Contains(t, []int{exitOK, exitCorrectness}, p.code, "shard %d: %s", i, p.stderr)
				f := filepath.Join(dir, "shard-"+strconv.Itoa(i)+".jsonl")
				if c.jsonOut {
					assert.Contains(t, p.stdout, "shard "+strconv.Itoa(i)+" of 3", "text on stdout")
					b, err := os.ReadFile(f)
					require.NoError(t, err)
					p.stdout = string(b)
				} else {
					require.NoError(t, os.WriteFile(f, []byte(p.stdout), 0o644))
				}
				files = append(files, f)
				for s, v := range seedsOf(t, p.stdout) {
					assert.Equal(t, uint64(i), s%uint64(c.k), "seed %d ran in shard %d", s, i)
					union[s] = v
				}
			}
			single := runBinary(t, "", append(c.args, "-json")...)
			require.Contains(t, []int{exitOK, exitCorrectness}, single.code, single.stderr)
			assert.Equal(t, seedsOf(t, single.stdout), union, "seed for seed, trace hash for trace hash")

			merged := runBinary(t, "", append([]string{"merge", "-json"}, files...)...)
			require.Contains(t, []int{exitOK, exitCorrectness}, merged.code, merged.stderr)
			alone := runBinary(t, single.stdout, "merge", "-json") // from stdin
			assert.Equal(t, alone.code, merged.code)
			assert.Equal(t, mergedWithoutWall(t, alone.stdout), mergedWithoutWall(t, merged.stdout))
			m := mergedWithoutWall(t, merged.stdout)
			assert.Equal(t, len(union), m.Seeds)
			assert.Empty(t, m.MissingShards)
			if c.name == "failing ad-hoc" {
				assert.Len(t, m.Failing, 8, "every seed of W=R=1 without read repair fails")
				assert.Equal(t, exitCorrectness, merged.code)
			}

			// Leaving a shard out is named, and is not a pass.
			short := runBinary(t, "", "merge", files[0])
			assert.Equal(t, exitUsage, short.code)
			var missing []string
			for i := 1; i < c.k; i++ {
				missing = append(missing, strconv.Itoa(i))
			}
			assert.Contains(t, short.stderr, "missing shards "+strings.Join(missing, ", ")+" of "+strconv.Itoa(c.k))
		})
	}
}

// TestSIGINTPrintsTheSummaryOfWhatRan sends a real SIGINT to a swarm
// process once its first seed is out (so the handler is installed and work
// is under way): the process finishes the seed in flight, prints the
// summary marked interrupted, and exits with the class of what ran.
func TestSIGINTPrintsTheSummaryOfWhatRan(t *testing.T) {
	c := exec.Command(faultlineBinary(t), "swarm", "-seeds", "5000", "-parallel", "1", "-ops", "200", "-json")
	stdout, err := c.StdoutPipe()
	require.NoError(t, err)
	var errOut bytes.Buffer
	c.Stderr = &errOut
	require.NoError(t, c.Start())
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	require.True(t, sc.Scan(), "the first seed line")
	var lines []string
	lines = append(lines, sc.Text())
	require.NoError(t, c.Process.Signal(syscall.SIGINT))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	_ = c.Wait()
	last := lines[len(lines)-1]
	var sum summaryJSON
	require.NoError(t, json.Unmarshal([]byte(last), &sum), last)
	assert.Equal(t, sum.Exit, c.ProcessState.ExitCode(), "it exits with the class of what ran: %s", errOut.String())
	assert.True(t, sum.Summary)
	assert.True(t, sum.Interrupted)
	assert.Equal(t, len(lines)-1, sum.Seeds, "the summary counts exactly the seeds printed")
	assert.Less(t, sum.Seeds, 5000)
	assert.Contains(t, errOut.String(), "interrupt: finishing the seeds in flight")

	// merge does not take an interrupted shard for a complete one.
	p := runBinary(t, strings.Join(lines, "\n")+"\n", "merge")
	assert.Equal(t, exitUsage, p.code)
	assert.Contains(t, p.stderr, "shard 0 was interrupted")
}

// TestFullDiskLeavesNoPartialFile runs a failing seed with -out under a file
// size limit (ulimit -f) that the files exceed: the write fails, nothing
// truncated is left behind (neither the seed's directory nor a temporary
// one), the -json line and summary say so, and the exit code is 74.
func TestFullDiskLeavesNoPartialFile(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for ulimit")
	}
	out := t.TempDir()
	bin := faultlineBinary(t)
	script := `ulimit -f 8 && exec "$0" "$@"` // 8 blocks: a few KiB per file
	c := exec.Command("sh", "-c", script, bin, "run", "-w", "1", "-r", "1", "-read-repair", "off", "-ops", "600", "-seed", "3", "-out", out, "-json")
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	_ = c.Run()
	require.Equal(t, exitIOError, c.ProcessState.ExitCode(), "%s%s", o.String(), e.String())
	lines := jsonLines(t, o.String())
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0]["write_error"], "nothing kept")
	assert.Equal(t, "correctness", lines[1]["class"], "the class is still reported")
	assert.Equal(t, float64(exitIOError), lines[1]["exit"])
	assert.NotEmpty(t, lines[1]["write_errors"])
	assert.Contains(t, e.String(), "file not written")
	var files []string
	require.NoError(t, filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		if err == nil && info.IsDir() && strings.HasPrefix(info.Name(), ".tmp-") {
			files = append(files, p)
		}
		return err
	}))
	assert.Empty(t, files, "no partial or temporary file is left")
}

// TestFullDiskCorpusAppendExits74: a corpus that cannot grow (the file size
// limit is below its size) is a write failure: exit 74, reported, and the
// file is left as it was.
func TestFullDiskCorpusAppendExits74(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for ulimit")
	}
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	var b strings.Builder
	for b.Len() < 8*512 {
		b.WriteString(`{"scenario":"other","seed":1,"config_hash":"0000000000000000","build":"x","class":"correctness","repro":"-"}` + "\n")
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	c := exec.Command("sh", "-c", `ulimit -f 8 && exec "$0" "$@"`, faultlineBinary(t),
		"run", "-w", "1", "-r", "1", "-read-repair", "off", "-ops", "200", "-seed", "1", "-corpus", path)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	_ = c.Run()
	assert.Equal(t, exitIOError, c.ProcessState.ExitCode(), "%s%s", o.String(), e.String())
	assert.Contains(t, e.String(), "file not written")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, b.String(), string(after), "no partial line appended")
}

// TestInterruptHandler sends real signals to this test process while the
// handler is installed: the first is acknowledged and sets stopped, the
// second calls exit(130) (the run's os.Exit) without waiting. (In a
// subprocess the second signal races with the end of the seed in flight;
// here each step waits for the previous one.)
func TestInterruptHandler(t *testing.T) {
	var errOut lockedBuffer
	exited := make(chan int, 1)
	in, stop := onInterrupt(&errOut, func(code int) { exited <- code })
	defer stop()
	assert.False(t, in.stopped.Load())
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	<-in.first
	assert.True(t, in.stopped.Load())
	assert.Contains(t, errOut.String(), "interrupt: finishing the seeds in flight")
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	assert.Equal(t, 130, <-exited)
	assert.Contains(t, errOut.String(), "terminated again: quitting without a summary")
}

// lockedBuffer is a bytes.Buffer safe for the handler's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
