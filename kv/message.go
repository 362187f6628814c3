package kv

import (
	"fmt"

	"github.com/faultline-sim/faultline/kv/membership"
	"github.com/faultline-sim/faultline/kv/merkle"
	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/ring"
	"github.com/faultline-sim/faultline/sim"
)

// OpKind is a client operation: the node boundary's Method.
type OpKind = node.Method

const (
	// Get reads a key: its live values (more than one = siblings), whether
	// it was found and, in vector-clock mode, a causal context.
	Get = node.Get
	// Put writes a value, superseding the versions named by its context
	// (vector clocks) or every older timestamp (LWW).
	Put = node.Put
	// Delete writes a tombstone; it is a Put of "nothing".
	Delete = node.Delete
)

// Status is the outcome of a client request: the node boundary's, in the
// history's words.
type Status = node.Status

const (
	// OK: the write reached W replicas or the read got R replies (and, with
	// blocking read repair, its result is held by W replicas).
	OK = node.OK
	// Fail: the operation certainly took effect nowhere — it was rejected
	// before any replica was asked, or every replica refused it.
	Fail = node.Fail
	// Info: the outcome is unknown (the history's info). The write may
	// have reached some replicas (fewer than W acknowledged, or the
	// deadline passed).
	Info = node.Info
)

// Request is a client operation submitted to a node, which coordinates it.
type Request struct {
	// ID is the client's id for the request; the Reply carries it back.
	ID uint64
	// Op is Get, Put or Delete.
	Op OpKind
	// Key is the key; it must be non-empty and at most MaxKeyBytes long.
	Key string
	// Value is the value of a Put (at most MaxValueBytes).
	Value []byte
	// Context is the opaque causal context of an earlier Get of the same
	// key (vector-clock mode). Empty means "I have seen nothing": the write
	// becomes a sibling of every existing version.
	Context []byte
	// N, W and R override the cluster defaults when non-zero.
	N, W, R int
}

// Reply is a node's answer to a Request.
type Reply struct {
	// ID is the Request.ID this answers.
	ID uint64
	// Status is OK, Fail or Info.
	Status Status
	// Values are the live values of a Get, in a deterministic order; more
	// than one means concurrent siblings (vector-clock mode).
	Values [][]byte
	// Found reports whether a Get found a live value.
	Found bool
	// Context is the causal context to pass to a later Put or Delete of
	// the same key (vector-clock mode; nil under LWW).
	Context []byte
	// Err explains a Fail or Info.
	Err string
	// Coordinator is the node that coordinated the request (after any
	// forwarding).
	Coordinator sim.NodeID
}

// MsgType says what a Message is.
type MsgType uint8

const (
	// MsgWrite asks a replica to merge Versions into key Key. With Hinted
	// set the receiver is a fallback and stores them as a hint for HintFor.
	// Repair marks read-repair and write-back traffic.
	MsgWrite MsgType = iota + 1
	// MsgWriteAck answers a MsgWrite: Refused with Err if it was not
	// applied.
	MsgWriteAck
	// MsgRead asks a replica (or, with Hinted, a fallback holding a hint
	// for HintFor) for its versions of Key.
	MsgRead
	// MsgReadReply answers a MsgRead with the replica's Versions.
	MsgReadReply
	// MsgForward asks another node to coordinate Req.
	MsgForward
	// MsgForwardReply carries the Reply of a forwarded request back.
	MsgForwardReply
	// MsgHandoff replays a hint: the owner merges Versions into Key and
	// acknowledges with HintID and HintSeq.
	MsgHandoff
	// MsgHandoffAck acknowledges a MsgHandoff; the fallback deletes the
	// hint if it has not changed since (same HintSeq).
	MsgHandoffAck
	// MsgPing probes a suspected peer.
	MsgPing
	// MsgPong answers a MsgPing.
	MsgPong
	// MsgTreeRequest is one step of a Merkle anti-entropy exchange: Tree
	// asks about the range Tree.Range; Op is the initiator's session id.
	MsgTreeRequest
	// MsgTreeReply answers a MsgTreeRequest with TreeReply (a refusal if
	// the node holds no tree for the range).
	MsgTreeReply
	// MsgRepair carries, for each key an exchange found differing, the
	// initiator's versions (none if it lacks the key) in Items.
	MsgRepair
	// MsgRepairReply answers a MsgRepair with the responder's merged
	// versions of the keys the initiator's versions did not cover.
	MsgRepairReply
	// MsgGossip carries a membership push or reply in Gossip.
	MsgGossip
	// MsgStreamRequest asks a previous replica of the arc (ArcStart,
	// ArcEnd] for every key it holds there (ownership handoff); Op is the
	// receiver's stream id. Force accepts data from a node that still
	// takes writes for the arc.
	MsgStreamRequest
	// MsgStreamData is one batch of a handoff stream: Items, with Last set
	// on the final batch, and Partial on every batch if the sender has not
	// received the arc itself; Wait (and no Items) says the sender still
	// replicates the arc in its view and will not stream it yet.
	MsgStreamData
	// MsgStreamAck acknowledges a MsgStreamData batch; the sender then
	// sends the next one.
	MsgStreamAck
	msgTypeEnd // the end of the types that cross the network
)

// Local inputs: the messages a node's driver steps it with, from the
// node's own id, as raft's MsgHup. They never cross the network: a peer's
// copy is an unknown type, ignored. Step returns an error when a local
// input is refused.
const (
	// MsgJoin makes the node a member under gossip membership (see
	// Node.Join).
	MsgJoin MsgType = iota + 64
	// MsgLeave starts the node's departure (see Node.Leave).
	MsgLeave
	// MsgRingChange gives the node Ring, the cluster's new ring under
	// oracle membership (see Node.SetRing).
	MsgRingChange
	// MsgStartAntiEntropy starts an exchange of the range holding ring
	// position Point with Peer now (see Node.StartAntiEntropy).
	MsgStartAntiEntropy
	msgLocalEnd
)

// String returns the message type's name, e.g. "write".
func (t MsgType) String() string {
	switch t {
	case MsgWrite:
		return "write"
	case MsgWriteAck:
		return "write-ack"
	case MsgRead:
		return "read"
	case MsgReadReply:
		return "read-reply"
	case MsgForward:
		return "forward"
	case MsgForwardReply:
		return "forward-reply"
	case MsgHandoff:
		return "handoff"
	case MsgHandoffAck:
		return "handoff-ack"
	case MsgPing:
		return "ping"
	case MsgPong:
		return "pong"
	case MsgTreeRequest:
		return "tree-request"
	case MsgTreeReply:
		return "tree-reply"
	case MsgRepair:
		return "repair"
	case MsgRepairReply:
		return "repair-reply"
	case MsgGossip:
		return "gossip"
	case MsgStreamRequest:
		return "stream-request"
	case MsgStreamData:
		return "stream-data"
	case MsgStreamAck:
		return "stream-ack"
	case MsgJoin:
		return "join"
	case MsgLeave:
		return "leave"
	case MsgRingChange:
		return "ring-change"
	case MsgStartAntiEntropy:
		return "start-anti-entropy"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is every message nodes exchange: one plain value type with a
// Type and the fields that type uses. It holds no maps and no interfaces,
// so it encodes with msgpack and crosses the simulated network as bytes.
// The payloads of anti-entropy and gossip (Tree, TreeReply, Gossip) are
// pointers, nil unless the type uses them, so that other messages do not
// carry their zero values on the wire; like every slice of a message,
// what they point to is never modified once the message is sent.
type Message struct {
	// Type says which fields are meaningful.
	Type MsgType
	// Op is the sender's operation id for requests and the id being
	// answered for replies.
	Op uint64
	// Key is the key a write, read or handoff is about.
	Key string
	// Versions are the versions written, read or handed off.
	Versions []Version
	// Hinted marks a write or read addressed to a fallback on behalf of
	// home replica HintFor.
	Hinted bool
	// HintFor is the home replica a hinted write or read stands in for.
	HintFor sim.NodeID
	// Repair marks a write sent by read repair or a blocking write-back.
	Repair bool
	// Refused reports in a MsgWriteAck that the write was not applied.
	Refused bool
	// Err explains a refusal.
	Err string
	// HintID and HintSeq identify the hint a MsgHandoff replays and its
	// MsgHandoffAck acknowledges.
	HintID, HintSeq uint64
	// Req is the request of a MsgForward (a pointer, as are the other
	// fields of one message type only, so a Message stays small to copy).
	Req *Request
	// Reply is the reply of a MsgForwardReply.
	Reply *Reply
	// Tree is the Merkle request of a MsgTreeRequest.
	Tree *merkle.Request
	// TreeReply is the Merkle response of a MsgTreeReply.
	TreeReply *merkle.Response
	// Items are the keys and versions of anti-entropy repairs and handoff
	// streams.
	Items []KeySnapshot
	// Gossip is the membership message of a MsgGossip.
	Gossip *membership.Message
	// ArcStart and ArcEnd name the ring arc (ArcStart, ArcEnd] of a
	// handoff stream (ArcStart == ArcEnd is the whole ring).
	ArcStart, ArcEnd uint64
	// Force, Last and Wait qualify handoff streams (see MsgStreamRequest
	// and MsgStreamData).
	Force, Last, Wait bool
	// Partial marks a MsgStreamData stream of an arc its sender has not
	// received itself: what it holds there may miss acknowledged writes.
	Partial bool
	// Ring is the new ring of a MsgRingChange (a local input, never
	// encoded).
	Ring *ring.Ring `codec:"-"`
	// Point and Peer name the range and the peer of a MsgStartAntiEntropy
	// (a local input, never encoded).
	Point uint64     `codec:"-"`
	Peer  sim.NodeID `codec:"-"`
}

// Envelope is a message addressed to a node.
type Envelope struct {
	// To is the destination node.
	To sim.NodeID
	// Msg is the message.
	Msg Message
}

// Ready is what a node produced since the last call to Node.Ready: writes
// to its durable state, messages to send, in order, and replies to
// clients. The driver applies Writes to the node's Store, in order, and
// syncs the store if MustSync, before it sends Messages and Replies
// (Ready.Apply does the first two): a reply or an acknowledgement must
// never leave before what it promises is on disk.
type Ready struct {
	// Writes are the changes to the node's durable state, in order.
	Writes []Write
	// MustSync says the store must be synced after Writes are applied
	// and before Messages and Replies are released.
	MustSync bool
	// Messages are the messages to send.
	Messages []Envelope
	// Replies are the client replies.
	Replies []Reply
}
