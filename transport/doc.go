// Package transport is faultline's simulated network: a deterministic,
// fault-injecting message bus between simulated nodes, driven by a sim.Loop
// and generic over the payload type.
//
// It sits in layer L2 (docs/design.md §2): it imports sim, node (for the
// wire format's msgpack handle), the msgpack codec
// (github.com/hashicorp/go-msgpack/v2) and xxhash, and nothing else of
// faultline; kv never imports it, cluster builds on it.
//
// # Messages are values
//
// Send msgpack-encodes the payload (see NewHandle: canonical, structs as
// arrays) and the receiver gets a fresh value decoded from those bytes, so
// nodes never share memory and every byte is counted. An encode error is
// returned by Send; bytes that fail to decode at delivery are counted as
// Malformed and dropped. New rejects payload types that cannot make the trip
// unchanged (CheckWireType); virtual times travel as sim.Time (int64).
//
// # Links
//
// Every directed link from->to (including a node's link to itself) has a
// LinkConfig: a latency distribution, loss and duplication probabilities,
// FIFO or not, and a capacity. Config.Link is the default; SetLink overrides
// one link. Send decides, in this order and drawing only from the network's
// RNG stream: loss (the message vanishes), duplication (a second copy with
// its own latency draw), capacity (a copy that would exceed the link's
// in-flight bound is dropped), and the delivery time Now + latency. Messages
// on a non-FIFO link reorder whenever their latency draws cross; a FIFO link
// delivers each message no earlier than the one sent before it on that link,
// and equal delivery times keep send order.
//
// # The delivery-time rule
//
// Cuts and down nodes are checked when a message reaches delivery, as
// TigerBeetle's packet simulator does, not when it is sent:
//
//   - A message in flight when a cut (Cut) starts is
//     dropped if it arrives while the cut lasts.
//   - A message in flight when the cut heals (HealLink, Heal) gets through,
//     even if it was sent while the link was cut.
//   - A message sent by a down node is dropped at once; a message whose
//     sender or receiver is down when it arrives is dropped.
//
// # Delays without loss
//
// Hold(from, to) parks every message that reaches its delivery time on the
// link; Release delivers the parked messages at the release time, in the
// order they arrived (their latency has already elapsed). Clog(from, to,
// until) is a delay spike: nothing on the link is delivered before until, and
// whatever came due meanwhile is delivered at until, in order. While a link
// has parked messages, newly arriving ones queue behind them, so neither
// holds nor clogs reorder a link. Parked messages stay in flight (and count
// against Capacity); the delivery-time rule applies when they finally leave.
//
// # Accounting and trace
//
// Counters per link and in total (Stats) record sent, delivered, duplicated,
// dropped by reason, malformed and bytes. Every delivery and drop, and every
// fault the network applies, is recorded in the loop's trace hash together
// with the virtual time, the link and an xxhash of the encoded bytes, so the
// run's hash covers the network.
package transport
