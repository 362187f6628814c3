package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
)

// Tests run `check` in-process; TestCheckCrashIsExit3 turns the child
// process back on.
func init() { checkIsolate = false }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

const knossosBad = `; Knossos style: one vector, maps over lines
[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:process 0, :type :invoke, :f :write, :value 2}
 {:process 0, :type :ok, :f :write, :value 2}
 {:process :nemesis, :type :info, :f :stop, :value nil}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 1}]
`

func TestCheckReadsKnossosAndJepsenLog(t *testing.T) {
	bad := writeFile(t, "bad.edn", knossosBad)
	vis := filepath.Join(t.TempDir(), "vis.html")
	code, out, errOut := runArgs("check", "-model", "cas-register", "-html", vis, bad)
	require.Equal(t, exitCorrectness, code, out+errOut)
	assert.Contains(t, out, "edn, ordered by position (line 2 has no :time; times shown are event positions)")
	assert.Contains(t, out, `stale read: read "1" after a later write of "2" had ended; a smallest set of 3 operations that cannot be ordered`)
	assert.Contains(t, out, "nemesis: 2 operations, not judged (drawn with -html)")
	html, err := os.ReadFile(vis)
	require.NoError(t, err)
	assert.Contains(t, string(html), `"Description":"start","Details":"start from 2ns to 4ns"`, "the nemesis window is in the visualization")
	assert.Equal(t, 1, strings.Count(out, "stale read"), "no repeated text")

	// with an initial value, Knossos's rule: a read of nil observed nothing
	logText := "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n" +
		"INFO  jepsen.util - 1\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:ok\t:write\t3\n" +
		"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\tnil\n"
	log := writeFile(t, "jepsen.log", logText)
	code, out, _ = runArgs("check", "-model", "register", log)
	assert.Equal(t, exitCorrectness, code, "a nil read after a write ended is stale: %s", out)
	assert.Contains(t, out, "jepsen-log")
	code, out, _ = runArgs("check", "-model", "register", "-initial", "0", log)
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "2 ok reads of nil observed nothing")
}

func TestCheckUsage(t *testing.T) {
	ok := writeFile(t, "ok.edn", "{:process 0 :type :invoke :f :write :value 1}\n{:process 0 :type :ok :f :write :value 1}\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "-model", "set", "-initial", "0", ok}, "the set model has no initial value"},
		{[]string{"check", "-model", "register", "-initial", "nil", ok}, "leave -initial out"},
		{[]string{"check", "-model", "register", "-initial", " 0", ok}, "surrounding spaces"},
		{[]string{"check", "-model", "register", "-memory", "lots", ok}, "want a positive size such as 512MiB"},
		{[]string{"check", "-model", "register", "-steps", "0", ok}, "-steps 0: must be > 0"},
		{[]string{"check", "-model", "register", "-witness-steps", "-1", ok}, "-witness-steps -1: must be > 0"},
		{[]string{"check", "-model", "mutex", ok}, "the mutex model does not accept write operations (use -model kv)"},
		{[]string{"check", "-model", "register", writeFile(t, "bad.edn", "[{:process 0 :type :invoke\n :f :write :value 1}\n{:process 0")}, "line 3, column 12: unterminated map"},
	} {
		code, _, errOut := runArgs(c.args...)
		assert.Equal(t, exitUsage, code, "%q", c.args)
		assert.Contains(t, errOut, c.want, "%q", c.args)
	}
	code, out, _ := runArgs("check", "-h")
	assert.Equal(t, exitOK, code)
	for _, doc := range []string{"Knossos's rule", "a failed cas", "returns\n    at infinity", "-witness-steps", "checker.LinearOptions.WitnessSteps", "never 2"} {
		assert.Contains(t, out, doc, "check -h documents it")
	}
}

// concurrentWrites is one key with n writes all concurrent with each other,
// then a read of 5 and a later read of 3: not linearizable (after the read
// of 5 no write can follow), but neither read is stale or future on its
// own, so only an exhaustive search, exponential in n, can tell.
func concurrentWrites(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{:process %d, :type :invoke, :f :write, :value %d}\n", i, i%7)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{:process %d, :type :ok, :f :write, :value %d}\n", i, i%7)
	}
	for _, v := range []int{5, 3} {
		fmt.Fprintf(&b, "{:process %d, :type :invoke, :f :read, :value nil}\n{:process %d, :type :ok, :f :read, :value %d}\n", n, n, v)
	}
	return b.String()
}

// TestCheckBudgetsAreDeterministic: running out of steps or memory is
// unknown (exit 2), the same every time, and says which budget to raise.
func TestCheckBudgetsAreDeterministic(t *testing.T) {
	wide := writeFile(t, "wide.edn", concurrentWrites(3000))
	var first string
	for range 2 {
		code, out, errOut := runArgs("check", "-model", "register", "-memory", "8MiB", "-json", wide)
		require.Equal(t, exitLiveness, code, out+errOut)
		objs := jsonLines(t, out)
		assert.Equal(t, "memory", objs[0]["exhausted"])
		assert.Contains(t, objs[0]["explanation"], "the memory budget of 8 MiB ran out")
		assert.Contains(t, objs[0]["explanation"], "more time does not help")
		delete(objs[0], "wall_ns")
		if first == "" {
			first = fmt.Sprint(objs[0])
		}
		assert.Equal(t, first, fmt.Sprint(objs[0]))
	}
	code, out, _ := runArgs("check", "-model", "register", "-steps", "5000", wide)
	assert.Equal(t, exitLiveness, code)
	assert.Contains(t, out, "the search budget of 5000 model steps ran out (raise -steps")
	// the input itself counts against the memory budget
	code, out, _ = runArgs("check", "-model", "register", "-memory", "64KiB", wide)
	assert.Equal(t, exitLiveness, code)
	assert.Contains(t, out, "the history is larger than the memory budget allows")
}

// TestCheckCrashIsExit3 runs the check in a child process, as the CLI
// does: a panic is a crash (3), and so is a child that dies of a fatal
// runtime error (exit status 2, like Go's out of memory), never unknown.
func TestCheckCrashIsExit3(t *testing.T) {
	if os.Getenv("FAULTLINE_CHECK_HELPER") != "" {
		t.Skip("this is the helper process")
	}
	valid := "../../checker/testdata/jepsen-cas-register-valid.edn"
	defer func(old bool, oldCmd func([]string) (*exec.Cmd, error)) {
		checkIsolate, checkChildCommand = old, oldCmd
	}(checkIsolate, checkChildCommand)
	checkIsolate = true
	for _, c := range []struct {
		mode string
		args []string
		want int
		msg  string
	}{
		{"check", []string{"-model", "cas-register", valid}, exitOK, ""},
		{"panic", []string{"-model", "cas-register", valid}, exitCrash, "crash (a bug in faultline"},
		{"exit2", []string{"-model", "cas-register", valid}, exitCrash, "the check crashed (exit status 2): out of memory"},
		{"oom", []string{"-model", "register", "-memory", "64GiB", "-steps", "1000000000"}, exitCrash, "the check crashed"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			args := c.args
			if c.mode == "oom" {
				args = append(args, writeFile(t, "wide.edn", concurrentWrites(20000)))
			}
			checkChildCommand = func(a []string) (*exec.Cmd, error) {
				cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCheckHelperProcess$", "--"}, a...)...)
				cmd.Env = append(os.Environ(), "FAULTLINE_CHECK_HELPER="+c.mode)
				return cmd, nil
			}
			code, out, errOut := runArgs(append([]string{"check"}, args...)...)
			assert.Equal(t, c.want, code, out+errOut)
			assert.Contains(t, errOut, c.msg)
		})
	}
}

// TestCheckHelperProcess is the child of TestCheckCrashIsExit3.
func TestCheckHelperProcess(t *testing.T) {
	mode := os.Getenv("FAULTLINE_CHECK_HELPER")
	if mode == "" {
		t.Skip("only run as TestCheckCrashIsExit3's child")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	switch mode {
	case "exit2":
		os.Exit(2) // what the Go runtime does on a fatal error such as out of memory
	case "panic":
		linearizable = func([]history.Op, checker.LinearOptions) (checker.Result, error) { panic("planted") }
	case "oom":
		// Leave the process little address space: the search's allocations
		// then fail inside the runtime, which cannot be recovered.
		lim := syscall.Rlimit{Cur: 1 << 30, Max: 1 << 30}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			t.Fatal(err)
		}
	}
	os.Exit(runCheck(args, os.Stdout, os.Stderr))
}
