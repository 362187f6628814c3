package transport_test

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/sim"
	"github.com/faultline-sim/faultline/transport"
)

// Put is a payload: a plain struct with exported fields.
type Put struct {
	Key   string
	Value []byte
	TS    sim.Time
}

func Example() {
	loop, _ := sim.NewLoop(sim.DefaultLimits)
	latency, _ := sim.Uniform(time.Millisecond, 3*time.Millisecond)
	cfg := transport.Config{
		Nodes: 3,
		Link:  transport.LinkConfig{Latency: latency, Capacity: transport.DefaultCapacity},
	}
	net, err := transport.New(loop, sim.NewRNG(42).Fork("net"), cfg, func(from, to sim.NodeID, m Put) {
		fmt.Printf("%v %v->%v %s=%s\n", loop.Now(), from, to, m.Key, m.Value)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = net.Send(0, 1, Put{Key: "a", Value: []byte("1")})
	_ = net.Cut(0, 2) // checked at delivery time: this message is dropped
	_ = net.Send(0, 2, Put{Key: "b", Value: []byte("2")})
	_ = net.Clog(1, 2, sim.Time(10*time.Millisecond))
	_ = net.Send(1, 2, Put{Key: "c", Value: []byte("3")})
	if err := loop.Run(); err != nil {
		fmt.Println(err)
	}
	s := net.Total()
	fmt.Printf("sent %d delivered %d dropped by partition %d\n", s.Sent, s.Delivered, s.DroppedPartition)
	// Output:
	// 2.065745ms n0->n1 a=1
	// 10ms n1->n2 c=3
	// sent 3 delivered 2 dropped by partition 1
}
