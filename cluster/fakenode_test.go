package cluster

import (
	"errors"
	"fmt"
	"slices"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// fakeNode is the small store cluster's own tests run, where kv's details
// are beside the point: every member keeps every key on its disk. A Put is
// written locally, synced, acknowledged, and copied to every peer (fire and
// forget); a Get reads the local copy. Its messages are "key=value" bytes.
// It is deliberately weak (not linearizable under partitions) but
// deterministic, and each bug field plants one way of breaking the node
// boundary's contract.
type fakeNode struct {
	id    sim.NodeID
	peers []sim.NodeID
	disk  node.Disk
	ready node.Ready
	bugs  fakeBugs
	ticks int
}

// fakeBugs are the contract violations a test can plant.
type fakeBugs struct {
	sendToUnknown bool // send to n99
	bogusReply    bool // reply to a request it never got
	panicOnStep   bool // panic on the first message
	rejectSteps   bool // Step returns a decode error
	badStatus     bool // reply with status 0
}

func fakeFactory(bugs fakeBugs) node.Factory {
	return func(env node.Env) (node.Node, error) {
		return &fakeNode{id: env.ID, peers: env.View.Members(), disk: env.Disk, bugs: bugs}, nil
	}
}

func (f *fakeNode) Step(from sim.NodeID, payload []byte) error {
	if f.bugs.rejectSteps {
		return errors.New("unexpected EOF")
	}
	if f.bugs.panicOnStep {
		panic("fake node: boom")
	}
	k, v, ok := cutKV(payload)
	if !ok {
		return fmt.Errorf("no '=' in %q", payload)
	}
	f.disk.Put(k, v)
	return nil
}

func cutKV(b []byte) (string, []byte, bool) {
	i := slices.Index(b, '=')
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

func (f *fakeNode) Submit(req node.Request) {
	rep := node.Reply{ID: req.ID, Status: node.OK}
	if f.bugs.badStatus {
		rep.Status = 0
	}
	switch req.Method {
	case node.Get:
		if v, ok := f.disk.Get(req.Key); ok && len(v) > 0 {
			rep.Values = [][]byte{v}
		}
	case node.Put, node.Delete:
		f.disk.Put(req.Key, req.Value)
		f.disk.Sync()
		for _, p := range f.peers {
			if p != f.id {
				f.ready.Messages = append(f.ready.Messages, node.Envelope{To: p, Payload: append([]byte(req.Key+"="), req.Value...)})
			}
		}
	}
	if f.bugs.sendToUnknown {
		f.ready.Messages = append(f.ready.Messages, node.Envelope{To: 99, Payload: []byte("k=v")})
	}
	if f.bugs.bogusReply {
		rep.ID += 1_000_000
	}
	f.ready.Replies = append(f.ready.Replies, rep)
}

func (f *fakeNode) Tick() { f.ticks++ }

func (f *fakeNode) Ready() node.Ready {
	rd := f.ready
	f.ready = node.Ready{}
	return rd
}

// Snapshot shows every key on the disk, one version each.
func (f *fakeNode) Snapshot() node.Snapshot {
	var s node.Snapshot
	for _, k := range f.disk.Keys("") {
		v, _ := f.disk.Get(k)
		s.Keys = append(s.Keys, node.KeyState{Key: k, Versions: []node.Version{{ID: string(v), Value: slices.Clone(v)}}})
	}
	return s
}

// Counters reports the ticks seen.
func (f *fakeNode) Counters() []node.Counter {
	return []node.Counter{{Name: "ticks", Value: uint64(f.ticks)}}
}

// fakeConfig is DefaultConfig with fake nodes.
func fakeConfig(bugs fakeBugs) Config {
	cfg := DefaultConfig()
	cfg.Node = fakeFactory(bugs)
	return cfg
}

// settlingNode is a fakeNode with background work: it is quiescent only
// after busyTicks ticks since Healed (never, if busyTicks < 0).
type settlingNode struct {
	*fakeNode
	busyTicks int
	since     int
	healed    bool
}

func (s *settlingNode) Tick() { s.fakeNode.Tick(); s.since++ }

func (s *settlingNode) Healed([]sim.NodeID) { s.healed, s.since = true, 0 }

func (s *settlingNode) Quiescent() (bool, string) {
	if !s.healed || s.busyTicks < 0 || s.since < s.busyTicks {
		return false, "3 hints to hand off"
	}
	return true, ""
}
