package primarybackup

import (
	"testing"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// start starts node id of a 3-node cluster on disk, as the simulator would.
func start(t *testing.T, cfg Config, id sim.NodeID, disk node.Disk) node.Node {
	t.Helper()
	n, err := NewFactory(cfg)(node.Env{ID: id, View: node.View{Initial: []sim.NodeID{0, 1, 2}}, Disk: disk})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deliver hands every message in rd addressed to a node in nodes to it.
func deliver(t *testing.T, from sim.NodeID, rd node.Ready, nodes map[sim.NodeID]node.Node) {
	t.Helper()
	for _, e := range rd.Messages {
		if n, ok := nodes[e.To]; ok {
			if err := n.Step(from, e.Payload); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestNewFactoryRejectsABadConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = 0
	if _, err := NewFactory(cfg)(node.Env{Disk: node.NewMemDisk()}); err == nil {
		t.Fatal("Mode 0 accepted")
	}
}

// TestSyncWriteWaitsForBackups drives one Sync write by hand: no reply
// until both backups acknowledged, then OK, and the backups hold it.
func TestSyncWriteWaitsForBackups(t *testing.T) {
	cfg := DefaultConfig()
	p := start(t, cfg, 0, node.NewMemDisk())
	backups := map[sim.NodeID]node.Node{1: start(t, cfg, 1, node.NewMemDisk()), 2: start(t, cfg, 2, node.NewMemDisk())}
	p.Submit(node.Request{ID: 1, Method: node.Put, Key: "k", Value: []byte("v")})
	rd := p.Ready()
	if len(rd.Replies) != 0 || len(rd.Messages) != 2 {
		t.Fatalf("after the write: %d replies, %d messages; want 0 and 2", len(rd.Replies), len(rd.Messages))
	}
	deliver(t, 0, rd, backups)
	for _, id := range []sim.NodeID{1, 2} {
		b := backups[id]
		snap := b.(node.Snapshotter).Snapshot()
		if len(snap.Keys) != 1 || string(snap.Keys[0].Versions[0].Value) != "v" {
			t.Fatalf("backup %v holds %+v", id, snap.Keys)
		}
		deliver(t, id, b.Ready(), map[sim.NodeID]node.Node{0: p})
		rd = p.Ready()
		if want := map[sim.NodeID]int{1: 0, 2: 1}[id]; len(rd.Replies) != want {
			t.Fatalf("after %v acks: replies %+v, want %d", id, rd.Replies, want)
		}
	}
	if rd.Replies[0].Status != node.OK {
		t.Fatalf("after both acks: %+v, want OK", rd.Replies[0])
	}
}

// TestAsyncPrimaryCrashLosesAcknowledgedWrite: an Async write is
// acknowledged at once; a crash before the lazy sync drops it.
func TestAsyncPrimaryCrashLosesAcknowledgedWrite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = Async
	disk := node.NewMemDisk()
	p := start(t, cfg, 0, disk)
	p.Submit(node.Request{ID: 1, Method: node.Put, Key: "k", Value: []byte("v")})
	if rd := p.Ready(); len(rd.Replies) != 1 || rd.Replies[0].Status != node.OK {
		t.Fatalf("replies %+v, want one OK at once", rd.Replies)
	}
	disk.Crash()
	p = start(t, cfg, 0, disk)
	p.Submit(node.Request{ID: 2, Method: node.Get, Key: "k"})
	if rd := p.Ready(); len(rd.Replies) != 1 || len(rd.Replies[0].Values) != 0 {
		t.Fatalf("read after the crash: %+v, want not found", rd.Replies)
	}
}

// TestBackupRefusesWhenPrimaryIsSilent: a backup forwards while it hears
// from the primary and ends a forwarded read that got no answer in
// TimeoutTicks with Fail; once it has not heard from the primary for
// SuspectTicks it holds requests back and refuses them with Fail after
// TimeoutTicks, never forwarding them.
func TestBackupRefusesWhenPrimaryIsSilent(t *testing.T) {
	cfg := DefaultConfig()
	b := start(t, cfg, 1, node.NewMemDisk())
	b.Submit(node.Request{ID: 1, Method: node.Get, Key: "k"})
	if rd := b.Ready(); len(rd.Messages) != 1 || rd.Messages[0].To != Primary {
		t.Fatalf("first request: %+v, want it forwarded to the primary", rd)
	}
	for range max(cfg.TimeoutTicks, cfg.SuspectTicks+1) {
		b.Tick()
	}
	rd := b.Ready()
	if len(rd.Replies) != 1 || rd.Replies[0].Status != node.Fail {
		t.Fatalf("forwarded read after its timeout: %+v, want Fail", rd.Replies)
	}
	b.Submit(node.Request{ID: 2, Method: node.Put, Key: "k", Value: []byte("v")})
	for range cfg.TimeoutTicks - 1 {
		b.Tick()
	}
	if rd := b.Ready(); len(rd.Messages) != 0 || len(rd.Replies) != 0 {
		t.Fatalf("request while the primary is silent: %+v, want it held back", rd)
	}
	b.Tick()
	rd = b.Ready()
	if len(rd.Messages) != 0 || len(rd.Replies) != 1 || rd.Replies[0].Status != node.Fail {
		t.Fatalf("held request after TimeoutTicks: %+v, want refused with Fail", rd)
	}
}
