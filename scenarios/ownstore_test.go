package scenarios_test

import (
	"testing"

	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/scenarios"
	"github.com/faultline-sim/faultline/sim"
)

// single is the README's minimal store: node 0 holds every key on its disk;
// any other node forwards a request to it and relays the answer.
type single struct {
	id    sim.NodeID
	disk  node.Disk
	codec *node.Codec[msg]
	ready node.Ready
}

type msg struct {
	Req   node.Request
	Reply *node.Reply // nil in a forwarded request
}

func (s *single) Submit(req node.Request) {
	if s.id != 0 {
		s.send(0, msg{Req: req})
		return
	}
	s.ready.Replies = append(s.ready.Replies, s.serve(req))
}

func (s *single) serve(req node.Request) node.Reply {
	rep := node.Reply{ID: req.ID, Status: node.OK}
	if req.Method == node.Get {
		if v, ok := s.disk.Get(req.Key); ok && len(v) > 0 {
			rep.Values = [][]byte{v}
		}
		return rep
	}
	s.disk.Put(req.Key, req.Value) // a delete writes nil
	s.disk.Sync()                  // durable before it is acknowledged
	return rep
}

func (s *single) Step(from sim.NodeID, payload []byte) error {
	var m msg
	if err := s.codec.Decode(payload, &m); err != nil {
		return err
	}
	if m.Reply != nil {
		s.ready.Replies = append(s.ready.Replies, *m.Reply) // relay to my client
	} else {
		rep := s.serve(m.Req)
		s.send(from, msg{Reply: &rep})
	}
	return nil
}

func (s *single) send(to sim.NodeID, m msg) {
	b, _ := s.codec.Encode(&m)
	s.ready.Messages = append(s.ready.Messages, node.Envelope{To: to, Payload: b})
}

func (s *single) Tick() {}

func (s *single) Ready() node.Ready { rd := s.ready; s.ready = node.Ready{}; return rd }

// TestSingleNodeStoreIsLinearizable runs the minimal store under partitions
// and crashes (n0 itself crashes at 300 ms, losing what it did not sync):
// every operation is served by n0 from its synced disk, so the
// history is linearizable and nothing acknowledged is lost.
func TestSingleNodeStoreIsLinearizable(t *testing.T) {
	spec := scenarios.Spec{Name: "single", Description: "one node serves every key", Seeds: 4}
	spec.Base = scenarios.DefaultConfig()
	spec.Base.Node = func(env node.Env) (node.Node, error) {
		return &single{id: env.ID, disk: env.Disk, codec: node.NewCodec[msg]()}, nil
	}
	mix, err := nemesis.ParseMix("partition,crash")
	if err != nil {
		t.Fatal(err)
	}
	crash, err := nemesis.Parse("300ms crash n0 lose-unsynced=true\n350ms restart n0\n")
	if err != nil {
		t.Fatal(err)
	}
	spec.Faults = scenarios.Faults{Mix: mix, Duration: 1e9, Interval: 2e8, FaultDuration: 2e8, Schedule: crash}
	spec.Expect = map[string]scenarios.Expectation{
		"linearizable": scenarios.AlwaysValid,
		"lost-writes":  scenarios.AlwaysValid,
	}
	scenarios.Run(t, spec)
}
