package membership_test

import (
	"fmt"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/sim"
)

// Three nodes join through seed 0. Each round every node ticks, and the
// node delivers the pushes and the replies they cause; here all at once.
func Example() {
	root := sim.NewRNG(1)
	cfg := membership.Config{Seeds: []sim.NodeID{0}}
	var nodes []*membership.Table
	for id := range 3 {
		t, _ := membership.New(cfg, membership.Self{ID: sim.NodeID(id), Weight: 1}, root.Fork(fmt.Sprint("membership/", id)))
		nodes = append(nodes, t)
	}
	for range 3 {
		for from, n := range nodes {
			for _, push := range n.Tick() {
				for _, reply := range nodes[push.To].Receive(sim.NodeID(from), push.Msg) {
					nodes[reply.To].Receive(push.To, reply.Msg)
				}
			}
		}
	}
	for _, n := range nodes {
		fmt.Println(n.Self(), n.Members(), n.Alive(0), n.Alive(1), n.Alive(2), n.Digest() == nodes[0].Digest())
	}
	for _, e := range nodes[0].TakeEvents() {
		fmt.Println(e.Kind, e.ID)
	}
	// Output:
	// n0 [n0 n1 n2] true true true true
	// n1 [n0 n1 n2] true true true true
	// n2 [n0 n1 n2] true true true true
	// joined n1
	// joined n2
}
