package transport

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/faultline-sim/faultline/internal/freelist"
	"github.com/faultline-sim/faultline/sim"
)

// Buffer recycling bounds: encoded messages live in pooled byte slices; at
// most maxFreeBufs are kept, and none larger than maxFreeBufBytes.
const (
	initBufBytes    = 256
	maxFreeBufs     = 8192
	maxFreeBufBytes = 64 << 10
)

// Link names one directed link.
type Link struct {
	From, To sim.NodeID
}

// String formats the link as "n1->n2".
func (l Link) String() string { return l.From.String() + "->" + l.To.String() }

// packet is one message (or duplicate copy) in flight.
type packet struct {
	from, to sim.NodeID
	buf      []byte
}

// link is the state of one directed link, allocated on first use.
type link struct {
	override  bool
	own       LinkConfig
	cut       bool
	held      bool
	clogUntil sim.Time
	lastAt    sim.Time // latest delivery time scheduled on the link
	parked    []packet // held or clogged packets, in arrival order from parkHead
	parkHead  int
	stats     Counters
}

func (l *link) parkedLen() int { return len(l.parked) - l.parkHead }

// Network is a simulated network for payloads of type M, driven by a
// sim.Loop. See the package documentation for its delivery rules. A Network
// belongs to its loop's goroutine; it is not safe for concurrent use.
type Network[M any] struct {
	loop    *sim.Loop
	rng     *sim.RNG
	deliver func(from, to sim.NodeID, msg M)
	// deliverRaw is set by NewRaw: payloads cross as the bytes they are,
	// with no codec.
	deliverRaw func(from, to sim.NodeID, payload []byte)
	observe    func(Event) // SetObserver's, nil when off
	def        LinkConfig

	present []bool       // by node id
	down    []bool       // by node id
	links   [][]*link    // [from][to], allocated on first use
	ids     []sim.NodeID // present ids, increasing

	flights   []*flight[M]    // landed flights, reused for the next packets
	flushes   sim.Queue[Link] // pending flushes of parked packets, by (time, seq)
	seq       uint64
	fireFlush func() // n.fireFlushNext, allocated once

	enc    *codec.Encoder
	dec    *codec.Decoder
	encOut []byte
	tx, rx M
	free   [][]byte

	total         Counters
	lastMalformed error
}

// New returns a network of the nodes cfg names, scheduling its deliveries on
// loop, drawing every random choice from rng (give it its own stream, e.g.
// root.Fork("net")) and handing each delivered message to deliver. It
// returns an error if an argument is missing, cfg is invalid, or M cannot
// cross the wire unchanged (see CheckWireType).
func New[M any](loop *sim.Loop, rng *sim.RNG, cfg Config, deliver func(from, to sim.NodeID, msg M)) (*Network[M], error) {
	switch {
	case loop == nil:
		return nil, errors.New("transport: New needs a *sim.Loop, got nil")
	case rng == nil:
		return nil, errors.New("transport: New needs a *sim.RNG (e.g. root.Fork(\"net\")), got nil")
	case deliver == nil:
		return nil, errors.New("transport: New needs a deliver function, got nil")
	}
	if err := CheckWireType(reflect.TypeFor[M]()); err != nil {
		return nil, err
	}
	ids, err := cfg.initialIDs()
	if err != nil {
		return nil, err
	}
	if err := cfg.Link.Validate(); err != nil {
		return nil, fmt.Errorf("transport config: default %w", err)
	}
	n := &Network[M]{
		loop:    loop,
		rng:     rng,
		deliver: deliver,
		def:     cfg.Link,
	}
	n.fireFlush = n.fireFlushNext
	n.enc = codec.NewEncoderBytes(&n.encOut, wireHandle)
	n.dec = codec.NewDecoderBytes([]byte{0xc0}, wireHandle)
	n.grow(int(ids[len(ids)-1]) + 1)
	for _, id := range ids {
		n.present[id] = true
	}
	n.ids = ids
	return n, nil
}

// NewRaw returns a network that carries payloads as the bytes the sender
// encoded, with no codec of its own: SendBytes copies the payload, and
// deliver gets a slice that is valid only during the call (copy what you
// keep). Byte accounting, delivery rules and the trace are those of New.
func NewRaw(loop *sim.Loop, rng *sim.RNG, cfg Config, deliver func(from, to sim.NodeID, payload []byte)) (*Network[[]byte], error) {
	if deliver == nil {
		return nil, errors.New("transport: NewRaw needs a deliver function, got nil")
	}
	n, err := New[[]byte](loop, rng, cfg, func(sim.NodeID, sim.NodeID, []byte) {})
	if err != nil {
		return nil, err
	}
	n.deliverRaw = deliver
	return n, nil
}

// grow extends the per-node tables to hold ids below size.
func (n *Network[M]) grow(size int) {
	old := len(n.present)
	if size <= old {
		return
	}
	n.present = append(n.present, make([]bool, size-old)...)
	n.down = append(n.down, make([]bool, size-old)...)
	for i := range n.links {
		n.links[i] = append(n.links[i], make([]*link, size-old)...)
	}
	for i := old; i < size; i++ {
		n.links = append(n.links, make([]*link, size))
	}
}

func (n *Network[M]) known(id sim.NodeID) bool {
	return int(id) < len(n.present) && n.present[id]
}

func (n *Network[M]) checkNode(op string, id sim.NodeID) error {
	if !n.known(id) {
		return fmt.Errorf("transport: %s: unknown node %v (nodes are %v; add it with AddNode)", op, id, n.ids)
	}
	return nil
}

func (n *Network[M]) checkLink(op string, from, to sim.NodeID) error {
	if err := n.checkNode(op, from); err != nil {
		return err
	}
	return n.checkNode(op, to)
}

// link returns the state of from->to, allocating it; both must be known.
func (n *Network[M]) link(from, to sim.NodeID) *link {
	l := n.links[from][to]
	if l == nil {
		l = &link{}
		n.links[from][to] = l
	}
	return l
}

func (n *Network[M]) cfgOf(l *link) *LinkConfig {
	if l.override {
		return &l.own
	}
	return &n.def
}

// Nodes returns the ids of the nodes present, in increasing order.
func (n *Network[M]) Nodes() []sim.NodeID { return append([]sim.NodeID(nil), n.ids...) }

// AddNode adds node id (e.g. a node joining the cluster): up, connected to
// every node, with the default link configuration on all its links.
func (n *Network[M]) AddNode(id sim.NodeID) error {
	if id >= MaxNodes {
		return fmt.Errorf("transport: AddNode: id %v must be below MaxNodes %d", id, MaxNodes)
	}
	if n.known(id) {
		return fmt.Errorf("transport: AddNode: node %v is already present", id)
	}
	n.grow(int(id) + 1)
	n.present[id] = true
	i := 0
	for i < len(n.ids) && n.ids[i] < id {
		i++
	}
	n.ids = append(n.ids, 0)
	copy(n.ids[i+1:], n.ids[i:])
	n.ids[i] = id
	n.loop.Trace().Record("net.add", uint64(id))
	return nil
}

// SetLink overrides the configuration of the directed link from->to. It
// applies to messages sent from now on; messages in flight keep their
// scheduled delivery time.
func (n *Network[M]) SetLink(from, to sim.NodeID, cfg LinkConfig) error {
	if err := n.checkLink("SetLink", from, to); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("transport: SetLink %v->%v: %w", from, to, err)
	}
	l := n.link(from, to)
	l.override, l.own = true, cfg
	return nil
}

// ResetLink removes the override of from->to, so the default applies again.
func (n *Network[M]) ResetLink(from, to sim.NodeID) error {
	if err := n.checkLink("ResetLink", from, to); err != nil {
		return err
	}
	l := n.link(from, to)
	l.override, l.own = false, LinkConfig{}
	return nil
}

// SetDefaultLink replaces the configuration of every link without an
// override, for messages sent from now on.
func (n *Network[M]) SetDefaultLink(cfg LinkConfig) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("transport: SetDefaultLink: %w", err)
	}
	n.def = cfg
	return nil
}

// LinkConfigOf returns the configuration in force on from->to.
func (n *Network[M]) LinkConfigOf(from, to sim.NodeID) (LinkConfig, error) {
	if err := n.checkLink("LinkConfigOf", from, to); err != nil {
		return LinkConfig{}, err
	}
	return *n.cfgOf(n.link(from, to)), nil
}

// Send encodes msg and puts it on the link from->to. It returns an error only
// for an unknown node or a message that does not encode; a message the
// network then loses, drops or duplicates is counted, not reported.
func (n *Network[M]) Send(from, to sim.NodeID, msg M) error {
	if err := n.checkLink("Send", from, to); err != nil {
		return err
	}
	n.encOut = n.getBuf()
	n.enc.ResetBytes(&n.encOut)
	n.tx = msg
	err := n.enc.Encode(&n.tx)
	var zero M
	n.tx = zero
	buf := n.encOut
	n.encOut = nil
	if err != nil {
		n.putBuf(buf)
		return fmt.Errorf("transport: Send %v->%v: encode: %w", from, to, err)
	}

	n.put(from, to, buf)
	return nil
}

// SendBytes puts a copy of payload on the link from->to, as it is (a
// network made by NewRaw). It returns an error only for an unknown node or
// a network that encodes its messages itself.
func (n *Network[M]) SendBytes(from, to sim.NodeID, payload []byte) error {
	if n.deliverRaw == nil {
		return errors.New("transport: SendBytes needs a network made by NewRaw")
	}
	if err := n.checkLink("Send", from, to); err != nil {
		return err
	}
	n.put(from, to, append(n.getBuf(), payload...))
	return nil
}

// put sends one encoded message: counted, then dropped, lost or enqueued
// (twice when duplicated).
func (n *Network[M]) put(from, to sim.NodeID, buf []byte) {
	l := n.link(from, to)
	cfg := n.cfgOf(l)
	if n.observe != nil {
		n.observed(Sent, from, to, buf, 0)
	}
	l.stats.Sent++
	n.total.Sent++
	l.stats.BytesSent += uint64(len(buf))
	n.total.BytesSent += uint64(len(buf))

	if n.down[from] {
		n.drop(l, from, to, buf, dropDown)
		return
	}
	if n.rng.Chance(cfg.Loss) {
		n.drop(l, from, to, buf, dropLoss)
		return
	}
	dup := n.rng.Chance(cfg.Duplicate)
	var copyBuf []byte
	if dup {
		copyBuf = append(n.getBuf(), buf...)
	}
	n.enqueue(l, cfg, from, to, buf)
	if dup {
		l.stats.Duplicated++
		n.total.Duplicated++
		if n.observe != nil {
			n.observed(Duplicated, from, to, copyBuf, 0)
		}
		n.enqueue(l, cfg, from, to, copyBuf)
	}
}

// enqueue puts one packet in flight, or drops it if the link is full.
func (n *Network[M]) enqueue(l *link, cfg *LinkConfig, from, to sim.NodeID, buf []byte) {
	if l.stats.InFlight >= uint64(cfg.Capacity) {
		n.drop(l, from, to, buf, dropCapacity)
		return
	}
	now := n.loop.Now()
	at := now.Add(cfg.Latency.Sample(n.rng))
	if cfg.FIFO && at < l.lastAt {
		at = l.lastAt
	}
	if at > l.lastAt {
		l.lastAt = at
	}
	l.stats.InFlight++
	n.total.InFlight++
	f := n.flight()
	f.p = packet{from: from, to: to, buf: buf}
	n.loop.At(at, f.land)
}

// flight is one packet in flight and the loop event that lands it. Landed
// flights are kept for the next packets, so sending allocates nothing.
type flight[M any] struct {
	n    *Network[M]
	p    packet
	land func() // f.fire, made once per flight
}

// flight returns a free flight, reused or new.
func (n *Network[M]) flight() *flight[M] {
	if f := freelist.Pop(&n.flights); f != nil {
		return f
	}
	f := &flight[M]{n: n}
	f.land = f.fire
	return f
}

// fire runs when the flight's delivery time comes: the flight is freed and
// its packet arrives.
func (f *flight[M]) fire() {
	n, p := f.n, f.p
	f.p = packet{}
	n.flights = append(n.flights, f)
	n.arrive(p)
}

// arrive parks a packet that reaches a held or clogged link (or one with
// packets parked ahead of it) and delivers the others.
func (n *Network[M]) arrive(p packet) {
	l := n.links[p.from][p.to]
	if l.held || l.parkedLen() > 0 || n.loop.Now() < l.clogUntil {
		l.parked = append(l.parked, p)
		return
	}
	n.finish(l, p)
}

// flush delivers parked packets of l in order while the link is neither
// held nor clogged.
func (n *Network[M]) flush(l *link) {
	for l.parkedLen() > 0 && !l.held && n.loop.Now() >= l.clogUntil {
		p := l.parked[l.parkHead]
		l.parked[l.parkHead] = packet{}
		l.parkHead++
		if l.parkHead == len(l.parked) {
			l.parked, l.parkHead = l.parked[:0], 0
		}
		n.finish(l, p)
	}
}

// finish ends a packet's flight: dropped if an end is down or the link is
// cut now, otherwise decoded into a fresh M and delivered.
func (n *Network[M]) finish(l *link, p packet) {
	l.stats.InFlight--
	n.total.InFlight--
	switch {
	case n.down[p.from] || n.down[p.to]:
		n.drop(l, p.from, p.to, p.buf, dropDown)
		return
	case l.cut:
		n.drop(l, p.from, p.to, p.buf, dropPartition)
		return
	}
	if n.deliverRaw != nil {
		n.delivered(l, p)
		n.deliverRaw(p.from, p.to, p.buf)
		n.putBuf(p.buf)
		return
	}
	var zero M
	n.rx = zero
	n.dec.ResetBytes(p.buf)
	err := n.dec.Decode(&n.rx)
	if err == nil && n.dec.NumBytesRead() != len(p.buf) {
		err = fmt.Errorf("%d trailing bytes after the message", len(p.buf)-n.dec.NumBytesRead())
	}
	if err != nil {
		n.rx = zero
		n.lastMalformed = fmt.Errorf("transport: malformed message %v->%v at %v (%d bytes): %w", p.from, p.to, n.loop.Now(), len(p.buf), err)
		n.drop(l, p.from, p.to, p.buf, dropMalformed)
		return
	}
	n.delivered(l, p)
	n.putBuf(p.buf)
	msg := n.rx
	n.rx = zero
	n.deliver(p.from, p.to, msg)
}

// delivered counts a delivery and mixes it into the trace.
func (n *Network[M]) delivered(l *link, p packet) {
	size := uint64(len(p.buf))
	l.stats.Delivered++
	n.total.Delivered++
	l.stats.BytesDelivered += size
	n.total.BytesDelivered += size
	n.loop.Trace().Record("net.deliver", uint64(n.loop.Now()), linkKey(p.from, p.to), xxhash.Sum64(p.buf))
}

func (n *Network[M]) drop(l *link, from, to sim.NodeID, buf []byte, r dropReason) {
	l.stats.countDrop(r)
	n.total.countDrop(r)
	if n.observe != nil {
		n.observed(Dropped, from, to, buf, r)
	}
	n.loop.Trace().Record(dropTags[r], uint64(n.loop.Now()), linkKey(from, to), xxhash.Sum64(buf))
	n.putBuf(buf)
}

// linkKey packs a link into one trace field.
func linkKey(from, to sim.NodeID) uint64 { return uint64(from)<<32 | uint64(to) }

func (n *Network[M]) getBuf() []byte {
	if k := len(n.free); k > 0 {
		b := n.free[k-1]
		n.free[k-1] = nil
		n.free = n.free[:k-1]
		return b
	}
	return make([]byte, 0, initBufBytes)
}

func (n *Network[M]) putBuf(b []byte) {
	if cap(b) > maxFreeBufBytes || len(n.free) >= maxFreeBufs {
		return
	}
	n.free = append(n.free, b[:0])
}

// Total returns the network-wide counters.
func (n *Network[M]) Total() Counters { return n.total }

// LinkCounters returns the counters of from->to.
func (n *Network[M]) LinkCounters(from, to sim.NodeID) (Counters, error) {
	if err := n.checkLink("LinkCounters", from, to); err != nil {
		return Counters{}, err
	}
	if l := n.links[from][to]; l != nil {
		return l.stats, nil
	}
	return Counters{}, nil
}

// Stats returns a snapshot of every counter.
func (n *Network[M]) Stats() Stats {
	s := Stats{Total: n.total}
	for from, row := range n.links {
		for to, l := range row {
			if l != nil && (l.stats.Sent > 0 || l.stats.Duplicated > 0) {
				s.Links = append(s.Links, LinkStats{Link: Link{From: sim.NodeID(from), To: sim.NodeID(to)}, Counters: l.stats})
			}
		}
	}
	return s
}

// LastMalformed returns the error of the most recent message that failed to
// decode at delivery, or nil if none has.
func (n *Network[M]) LastMalformed() error { return n.lastMalformed }
