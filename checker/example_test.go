package checker_test

import (
	"fmt"

	"github.com/faultline-sim/faultline/checker"
	"github.com/faultline-sim/faultline/history"
)

// A simulator records a history with a Recorder; the checker judges it.
func Example() {
	var rec history.Recorder
	must := func(_ int, err error) {
		if err != nil {
			panic(err)
		}
	}
	must(rec.Invoke(history.Event{Client: 0, Kind: history.Write, Key: "x", Value: "a", Time: 10, Node: 1}))
	must(rec.Complete(history.Event{Client: 0, Type: history.OK, Time: 20}))
	must(rec.Invoke(history.Event{Client: 0, Kind: history.Write, Key: "x", Value: "b", Time: 30, Node: 2}))
	must(rec.Complete(history.Event{Client: 0, Type: history.OK, Time: 40}))
	// a settle-phase final read that returns the older value
	must(rec.Invoke(history.Event{Client: 1, Kind: history.Read, Key: "x", Final: true, Time: 50, Node: 3}))
	must(rec.Complete(history.Event{Client: 1, Type: history.OK, Values: []string{"a"}, Time: 60}))

	ops, err := rec.Ops()
	if err != nil {
		panic(err)
	}
	lin, _ := checker.Linearizable(ops, checker.LinearOptions{Model: checker.ModelRegister})
	lost, _ := checker.LostWrites(ops, checker.LostOptions{})
	fmt.Println(lin.Checker, lin.Verdict)
	fmt.Println(lost.Checker, lost.Verdict, lost.Count, lost.Witness[0].Value)
	// Output:
	// linearizable invalid
	// lost-writes invalid 1 b
}
