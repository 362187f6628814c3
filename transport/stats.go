package transport

// Counters counts what happened to the messages of one link or of the whole
// network. Every message accepted by Send, and every duplicate copy, ends in
// exactly one of Delivered, the Dropped counters or Malformed, or is still
// InFlight:
//
//	Sent + Duplicated == Delivered + Dropped() + Malformed + InFlight
type Counters struct {
	// Sent counts messages accepted by Send (encoded without error).
	Sent uint64
	// Delivered counts messages handed to the deliver function.
	Delivered uint64
	// Duplicated counts extra copies made by the link's Duplicate probability.
	Duplicated uint64
	// DroppedLoss counts messages lost on the wire (the link's Loss).
	DroppedLoss uint64
	// DroppedPartition counts messages dropped at delivery because the link
	// was cut.
	DroppedPartition uint64
	// DroppedDown counts messages whose sender was down at send time, or
	// whose sender or receiver was down at delivery time.
	DroppedDown uint64
	// DroppedCapacity counts messages that found the link full.
	DroppedCapacity uint64
	// Malformed counts messages whose bytes did not decode into the payload
	// type at delivery; they are dropped.
	Malformed uint64
	// BytesSent counts encoded bytes accepted by Send (once per Send).
	BytesSent uint64
	// BytesDelivered counts encoded bytes of delivered messages (every copy).
	BytesDelivered uint64
	// InFlight is the number of messages on the link now, including held and
	// clogged ones (a gauge, not a counter).
	InFlight uint64
}

// Dropped returns the total of all Dropped counters.
func (c Counters) Dropped() uint64 {
	return c.DroppedLoss + c.DroppedPartition + c.DroppedDown + c.DroppedCapacity
}

// LinkStats are the counters of one directed link.
type LinkStats struct {
	Link
	Counters
}

// Stats is a snapshot of the network's counters: plain data, safe to keep.
type Stats struct {
	// Total sums every link.
	Total Counters
	// Links lists every link that has carried at least one message, sorted
	// by (From, To).
	Links []LinkStats
}

// dropReason indexes the drop counters and trace tags.
type dropReason uint8

const (
	dropLoss dropReason = iota
	dropPartition
	dropDown
	dropCapacity
	dropMalformed
)

var dropTags = [...]string{
	dropLoss:      "net.drop.loss",
	dropPartition: "net.drop.partition",
	dropDown:      "net.drop.down",
	dropCapacity:  "net.drop.capacity",
	dropMalformed: "net.drop.malformed",
}

func (c *Counters) countDrop(r dropReason) {
	switch r {
	case dropLoss:
		c.DroppedLoss++
	case dropPartition:
		c.DroppedPartition++
	case dropDown:
		c.DroppedDown++
	case dropCapacity:
		c.DroppedCapacity++
	case dropMalformed:
		c.Malformed++
	}
}
