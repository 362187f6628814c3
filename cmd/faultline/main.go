// Command faultline is the command-line front end of the faultline
// fault-injection harness. Each subcommand lives in its own file and is
// listed in the commands table below; `faultline -h` lists them and
// `faultline <command> -h` describes one.
//
// With no arguments it runs the built-in suite. Exit codes: 0 as expected,
// 1 correctness (a verdict differs from its expectation; for check, not
// linearizable), 2 liveness (a run hit a limit; for check, unknown), 3 crash
// (a recovered panic, with its seed), 64 usage error (one line on stderr
// naming what to change), 74 a file the run had to write (-out, -json-out,
// the corpus) could not be written.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// exitUsage is the exit code for a usage error (BSD sysexits EX_USAGE).
const exitUsage = 64

// command is one subcommand: run parses args (without the command name)
// and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is the dispatch table; add new subcommands here.
var commands = []command{
	{"suite", "run the built-in suite (what faultline with no arguments does) and print a table", runSuiteCmd},
	{"list", "list the built-in scenarios with their expected verdicts", runList},
	{"run", "run a scenario or an ad-hoc configuration for one seed or a range of seeds", runRun},
	{"replay", "replay one seed with a readable trace (virtual time, node, event)", runReplay},
	{"swarm", "random configurations and faults per seed, across cores (or -shards of a batch job); prints failing seeds", runSwarm},
	{"merge", "join the -json output of shards into one summary and the failing seeds, fastest first", runMerge},
	{"shrink", "shrink a failing seed to a minimal schedule and print the Go regression test", runShrink},
	{"check", "judge an external history (faultline JSON lines, Jepsen/Knossos EDN, jepsen.log) for linearizability", runCheck},
	{"ring", "balance of the consistent-hash ring and what moves on a join or leave", runRing},
}

// defaultCommand runs when faultline is given no arguments: the suite.
var defaultCommand = runSuiteCmd

func main() {
	floor := gcFloor()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	keepGCFloor(floor)
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return defaultCommand(nil, stdout, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "faultline: unknown command %q (see faultline -h)\n", args[0])
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "faultline: a deterministic fault-injection harness for Dynamo-style KV stores")
	fmt.Fprintln(w, "\nUsage: faultline <command> [flags]   (faultline <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// newFlags returns a flag set for a subcommand that reports errors through
// parseFlags instead of printing them itself.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("faultline "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: faultline %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. It returns done=true with the exit code
// when the command must stop: 0 after printing help for -h, exitUsage after
// printing a one-line usage error.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (done bool, code int) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return true, 0
	}
	if err != nil {
		return true, usageError(stderr, fs, "%v", err)
	}
	if fs.NArg() > 0 {
		return true, usageError(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	return false, 0
}

// usageError prints one line naming the problem and returns exitUsage.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	fmt.Fprintf(stderr, "%s: %s (see %s -h)\n", fs.Name(), msg, fs.Name())
	return exitUsage
}
