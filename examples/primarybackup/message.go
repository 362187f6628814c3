package primarybackup

import (
	"fmt"
	"strings"

	"github.com/faultline-sim/faultline/node"
)

// Version orders the primary's writes: by epoch (the primary's start
// count), then by sequence number within the epoch. The zero Version is
// older than every write.
type Version struct {
	// Epoch is the primary's incarnation that made the write.
	Epoch uint64
	// Seq numbers the write within its epoch, from 1.
	Seq uint64
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	return v.Epoch < w.Epoch || (v.Epoch == w.Epoch && v.Seq < w.Seq)
}

// String formats the version as "epoch.seq".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Epoch, v.Seq) }

// Record is one key's current value, as stored on disk and replicated.
type Record struct {
	// Version is the write that produced the value.
	Version Version
	// Value is the value (nil for a deletion).
	Value []byte
	// Tombstone marks a deletion.
	Tombstone bool
}

// Entry is one key's record in a Replicate message.
type Entry struct {
	// Key is the key.
	Key string
	// Record is the primary's record of it.
	Record Record
}

// Kind is a message's type.
type Kind uint8

// The message kinds.
const (
	// KindReplicate goes from the primary to a backup: a delta (every key
	// newer than Base) or, with Full, the primary's whole state. An empty
	// delta is a heartbeat.
	KindReplicate Kind = iota + 1
	// KindAck goes from a backup to the primary: the newest version the
	// backup has applied and synced (Upto).
	KindAck
	// KindForward goes from a backup to the primary: a client request.
	KindForward
	// KindReply goes from the primary to a backup: the answer to a
	// forwarded request.
	KindReply
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindReplicate:
		return "replicate"
	case KindAck:
		return "ack"
	case KindForward:
		return "forward"
	case KindReply:
		return "reply"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Message is every message between nodes; Kind says which fields are used.
type Message struct {
	// Kind is the message's type.
	Kind Kind
	// Epoch is the primary's epoch (Replicate, and echoed by Ack).
	Epoch uint64
	// Full marks a Replicate carrying the primary's whole state.
	Full bool
	// Base is the version the primary believes the backup holds; Entries
	// are every key newer than it (Replicate).
	Base Version
	// Upto is the primary's newest version when it sent a Replicate, or
	// the backup's newest applied version in an Ack.
	Upto Version
	// Entries are the replicated records, sorted by key.
	Entries []Entry
	// Request is the forwarded client request (Forward).
	Request node.Request
	// Reply is the primary's answer to a forwarded request (Reply).
	Reply node.Reply
}

// Describe describes the message for a trace: its kind, the keys it
// concerns and the rest on one line. A forwarded request and its reply
// carry the client request's id as their operation (the reply answers the
// backup's request), so a trace can follow one client operation.
func (m *Message) Describe() node.Description {
	d := node.Description{Kind: m.Kind.String()}
	var b strings.Builder
	switch m.Kind {
	case KindReplicate:
		if m.Full {
			b.WriteString("full")
		} else {
			fmt.Fprintf(&b, "base=%v", m.Base)
		}
		fmt.Fprintf(&b, " upto=%v entries=%d", m.Upto, len(m.Entries))
		for _, e := range m.Entries {
			d.Keys = append(d.Keys, e.Key)
		}
	case KindAck:
		fmt.Fprintf(&b, "upto=%v", m.Upto)
	case KindForward:
		d.Keys, d.Op = []string{m.Request.Key}, m.Request.ID
		fmt.Fprintf(&b, "%v key=%q id=%d", m.Request.Method, m.Request.Key, m.Request.ID)
	case KindReply:
		d.Op, d.Reply = m.Reply.ID, true
		fmt.Fprintf(&b, "%v id=%d", m.Reply.Status, m.Reply.ID)
	}
	d.Text = b.String()
	return d
}
