package transport

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// requireBalanced checks the accounting identity of Counters.
func requireBalanced(t require.TestingT, c Counters) {
	require.Equal(t, c.Sent+c.Duplicated, c.Delivered+c.Dropped()+c.Malformed+c.InFlight, "counters do not balance: %+v", c)
}

func TestDeliversAfterLatencyWithFreshValues(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 3, Link: plainLink(constant(t, 5*time.Millisecond))})
	tags := map[string]uint32{"b": 2, "a": 1, "c": 3}
	data := []byte("payload")
	r.sendAt(t, ms(1), 0, 2, testMsg{ID: 7, Body: "hello", Data: data, Tags: tags})
	r.loop.At(ms(2), func() { data[0] = 'X'; tags["a"] = 99 }) // the sender reuses its buffers
	require.NoError(t, r.loop.Run())

	require.Len(t, r.log, 1)
	d := r.log[0]
	assert.Equal(t, ms(6), d.At)
	assert.Equal(t, sim.NodeID(0), d.From)
	assert.Equal(t, sim.NodeID(2), d.To)
	assert.Equal(t, testMsg{ID: 7, SentAt: ms(1), Body: "hello", Data: []byte("payload"), Tags: map[string]uint32{"a": 1, "b": 2, "c": 3}}, d.Msg)

	c := r.net.Total()
	assert.Equal(t, uint64(1), c.Sent)
	assert.Equal(t, uint64(1), c.Delivered)
	assert.Equal(t, c.BytesSent, c.BytesDelivered)
	assert.Positive(t, c.BytesSent)
	requireBalanced(t, c)
}

func TestDeliveredValuesDoNotAliasNetworkBuffers(t *testing.T) {
	// Buffers are recycled; a delivered value must never change afterwards,
	// and two copies of a duplicated message must not share memory.
	cfg := Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))}
	cfg.Link.Duplicate = sim.Always1
	r := newRecorder(t, 1, cfg)
	for i := 0; i < 50; i++ {
		body := fmt.Sprintf("body-%02d", i)
		r.sendAt(t, ms(int64(i)), 0, 1, testMsg{ID: uint64(i), Body: body, Data: []byte(body)})
	}
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 100)
	r.log[0].Msg.Data[0] = 'X'
	assert.Equal(t, "body-00", string(r.log[1].Msg.Data), "duplicate copies share a byte slice")
	for i, d := range r.log[2:] {
		want := fmt.Sprintf("body-%02d", (i+2)/2)
		assert.Equal(t, want, d.Msg.Body)
		assert.Equal(t, want, string(d.Msg.Data))
	}
}

func TestZeroLatencyDeliversAtSendTimeAfterQueuedEvents(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, 0))})
	var order []string
	r.loop.At(ms(3), func() {
		require.NoError(t, r.net.Send(0, 1, testMsg{ID: 1}))
		order = append(order, "sent")
	})
	r.loop.At(ms(3), func() { order = append(order, "queued-before-delivery") })
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 1)
	assert.Equal(t, ms(3), r.log[0].At)
	assert.Equal(t, []string{"sent", "queued-before-delivery"}, order)
}

func TestDeliverCallbackMaySend(t *testing.T) {
	loop := newLoop(t)
	var net *Network[uint64]
	var got []uint64
	net, err := New(loop, sim.NewRNG(3), Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))},
		func(from, to sim.NodeID, hops uint64) {
			got = append(got, hops)
			if hops < 10 {
				require.NoError(t, net.Send(to, from, hops+1))
			}
		})
	require.NoError(t, err)
	require.NoError(t, net.Send(0, 1, 0))
	require.NoError(t, loop.Run())
	assert.Equal(t, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, got)
	assert.Equal(t, ms(11), loop.Now())
}

func TestCutDropsMessagesInFlightAtPartitionStart(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, 10*time.Millisecond))})
	r.sendAt(t, 0, 0, 1, testMsg{ID: 1})                          // due at 10ms, in flight when the cut starts
	r.sendAt(t, 0, 1, 0, testMsg{ID: 2})                          // the other direction stays open
	r.do(t, ms(5), func() error { return r.net.Cut(0, 1) })       // cut starts
	r.sendAt(t, ms(6), 0, 1, testMsg{ID: 3})                      // due at 16ms, still cut
	r.do(t, ms(20), func() error { return r.net.HealLink(0, 1) }) // heal after both arrived
	require.NoError(t, r.loop.Run())

	require.Len(t, r.log, 1)
	assert.Equal(t, uint64(2), r.log[0].Msg.ID)
	c, err := r.net.LinkCounters(0, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), c.DroppedPartition)
	assert.Zero(t, c.Delivered)
	requireBalanced(t, c)
}

func TestMessageInFlightAtHealGetsThrough(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, 10*time.Millisecond))})
	r.do(t, 0, func() error { return r.net.Cut(0, 1) })
	r.sendAt(t, ms(1), 0, 1, testMsg{ID: 1})                     // sent while cut, due at 11ms
	r.do(t, ms(5), func() error { return r.net.HealLink(0, 1) }) // healed while in flight
	require.NoError(t, r.loop.Run())

	require.Len(t, r.log, 1)
	assert.Equal(t, ms(11), r.log[0].At)
	assert.Zero(t, r.net.Total().DroppedPartition)
}

func TestCutGroupsAndHeal(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 5, Link: plainLink(constant(t, time.Millisecond))})
	require.NoError(t, cutBetween(r.net, []sim.NodeID{0, 1}, []sim.NodeID{2, 3}))
	for from := sim.NodeID(0); from < 5; from++ {
		for to := sim.NodeID(0); to < 5; to++ {
			crosses := from != to && from < 4 && to < 4 && (from < 2) != (to < 2)
			assert.Equal(t, !crosses, r.net.Connected(from, to), "%v->%v", from, to)
		}
	}
	assert.Len(t, r.net.Cuts(), 8)
	assert.Equal(t, Link{From: 0, To: 2}, r.net.Cuts()[0])

	for from := sim.NodeID(0); from < 5; from++ {
		for to := sim.NodeID(0); to < 5; to++ {
			r.sendAt(t, 0, from, to, testMsg{ID: uint64(from)*10 + uint64(to)})
		}
	}
	require.NoError(t, r.loop.Run())
	assert.Len(t, r.log, 25-8)
	for _, d := range r.log {
		assert.True(t, r.net.Connected(d.From, d.To), "delivered across the partition: %v->%v", d.From, d.To)
	}
	assert.Equal(t, uint64(8), r.net.Total().DroppedPartition)

	require.NoError(t, cutBetween(r.net, []sim.NodeID{4}, []sim.NodeID{0, 1, 2, 3}))
	assert.False(t, r.net.Connected(4, 0))
	assert.False(t, r.net.Connected(0, 4))
	assert.True(t, r.net.Connected(4, 4), "cutting a node off keeps its link to itself")
	assert.Len(t, r.net.Cuts(), 16)

	r.net.Heal()
	assert.Empty(t, r.net.Cuts())
	assert.False(t, r.net.Connected(0, 9), "an unknown node is connected to nothing")
}

func TestLossAndDuplicateExtremes(t *testing.T) {
	cfg := Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))}
	cfg.Link.Loss = sim.Always1
	r := newRecorder(t, 1, cfg)
	for i := 0; i < 10; i++ {
		r.sendAt(t, ms(int64(i)), 0, 1, testMsg{ID: uint64(i)})
	}
	require.NoError(t, r.loop.Run())
	assert.Empty(t, r.log)
	assert.Equal(t, uint64(10), r.net.Total().DroppedLoss)

	cfg.Link.Loss, cfg.Link.Duplicate = sim.Never0, sim.Always1
	r = newRecorder(t, 1, cfg)
	for i := 0; i < 10; i++ {
		r.sendAt(t, ms(int64(i)), 0, 1, testMsg{ID: uint64(i)})
	}
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 20)
	for i, d := range r.log {
		assert.Equal(t, uint64(i/2), d.Msg.ID)
	}
	c := r.net.Total()
	assert.Equal(t, uint64(10), c.Duplicated)
	assert.Equal(t, 2*c.BytesSent, c.BytesDelivered)
	requireBalanced(t, c)
}

func TestCapacityOverflowIsDroppedAndCounted(t *testing.T) {
	cfg := Config{Nodes: 3, Link: plainLink(constant(t, 10*time.Millisecond))}
	cfg.Link.Capacity = 3
	r := newRecorder(t, 1, cfg)
	for i := 0; i < 10; i++ {
		r.sendAt(t, 0, 0, 1, testMsg{ID: uint64(i)})
	}
	r.sendAt(t, 0, 0, 2, testMsg{ID: 100})      // another link has its own capacity
	r.sendAt(t, ms(11), 0, 1, testMsg{ID: 200}) // room again once the first three arrived
	require.NoError(t, r.loop.Run())

	var ids []uint64
	for _, d := range r.log {
		ids = append(ids, d.Msg.ID)
	}
	assert.Equal(t, []uint64{0, 1, 2, 100, 200}, ids)
	c, err := r.net.LinkCounters(0, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), c.DroppedCapacity)
	assert.Equal(t, uint64(7), r.net.Total().DroppedCapacity)
	requireBalanced(t, c)
}

func TestFIFOLinkNeverReordersButOthersDo(t *testing.T) {
	for _, fifo := range []bool{true, false} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			cfg := Config{Nodes: 2, Link: plainLink(uniform(t, time.Millisecond, 20*time.Millisecond))}
			cfg.Link.FIFO = fifo
			r := newRecorder(t, 5, cfg)
			for i := 0; i < 500; i++ {
				r.sendAt(t, sim.Time(i)*sim.Time(100*time.Microsecond), 0, 1, testMsg{ID: uint64(i)})
			}
			require.NoError(t, r.loop.Run())
			require.Len(t, r.log, 500)
			inversions := 0
			for i := 1; i < len(r.log); i++ {
				if r.log[i].Msg.ID < r.log[i-1].Msg.ID {
					inversions++
				}
				assert.GreaterOrEqual(t, r.log[i].At-r.log[i].Msg.SentAt, ms(1))
			}
			if fifo {
				assert.Zero(t, inversions, "a FIFO link reordered")
			} else {
				assert.Positive(t, inversions, "latency variance should reorder a non-FIFO link")
			}
		})
	}
}

func TestHoldDelaysWithoutLossAndReleasesInOrder(t *testing.T) {
	cfg := Config{Nodes: 2, Link: plainLink(uniform(t, time.Millisecond, 9*time.Millisecond))}
	cfg.Link.Capacity = 5
	cfg.Link.FIFO = true // so that arrival order, which Release keeps, is send order
	r := newRecorder(t, 1, cfg)
	r.do(t, 0, func() error { return r.net.Hold(0, 1) })
	for i := 0; i < 6; i++ {
		r.sendAt(t, ms(int64(i)), 0, 1, testMsg{ID: uint64(i)}) // the sixth finds the link full
		r.sendAt(t, ms(int64(i)), 1, 0, testMsg{ID: 100 + uint64(i)})
	}
	r.loop.At(ms(50), func() {
		c, err := r.net.LinkCounters(0, 1)
		require.NoError(t, err)
		assert.Equal(t, uint64(5), c.InFlight, "held messages stay in flight")
		assert.Zero(t, c.Delivered)
	})
	r.do(t, ms(60), func() error { return r.net.Release(0, 1) })
	require.NoError(t, r.loop.Run())

	var held []delivery
	for _, d := range r.log {
		if d.From == 0 {
			held = append(held, d)
		} else {
			assert.Less(t, d.At, ms(20), "the reverse link is not held")
		}
	}
	require.Len(t, held, 5)
	arrival := r.loop.Now()
	for i, d := range held {
		assert.Equal(t, ms(60), d.At, "released at the release time")
		assert.Equal(t, uint64(i), d.Msg.ID, "released in order")
	}
	assert.Equal(t, ms(60), arrival)
	c, err := r.net.LinkCounters(0, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), c.DroppedCapacity)
	assert.Zero(t, c.DroppedLoss+c.DroppedPartition+c.DroppedDown)
	requireBalanced(t, c)
}

func TestHeldMessagesObeyTheDeliveryTimeRule(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
	require.NoError(t, r.net.Hold(0, 1))
	r.sendAt(t, 0, 0, 1, testMsg{ID: 1})
	r.do(t, ms(5), func() error { return r.net.Cut(0, 1) })
	r.do(t, ms(6), func() error { return r.net.Release(0, 1) }) // released into a cut: dropped
	r.do(t, ms(7), func() error { return r.net.Hold(0, 1) })
	r.sendAt(t, ms(8), 0, 1, testMsg{ID: 2})
	r.do(t, ms(9), func() error { return r.net.HealLink(0, 1) })
	r.do(t, ms(10), func() error { return r.net.Release(0, 1) }) // released after the heal: delivered
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 1)
	assert.Equal(t, uint64(2), r.log[0].Msg.ID)
	assert.Equal(t, ms(10), r.log[0].At)
	assert.Equal(t, uint64(1), r.net.Total().DroppedPartition)
}

func TestClogDelaysUntilThenDeliversInOrder(t *testing.T) {
	cfg := Config{Nodes: 2, Link: plainLink(constant(t, 10*time.Millisecond))}
	cfg.Link.FIFO = true
	r := newRecorder(t, 1, cfg)
	r.do(t, 0, func() error { return r.net.Clog(0, 1, ms(30)) })
	r.sendAt(t, ms(1), 0, 1, testMsg{ID: 1})  // due 11ms -> 30ms
	r.sendAt(t, ms(5), 0, 1, testMsg{ID: 2})  // due 15ms -> 30ms
	r.sendAt(t, ms(20), 0, 1, testMsg{ID: 3}) // due exactly at 30ms, after the others
	r.sendAt(t, ms(25), 0, 1, testMsg{ID: 4}) // due 35ms, unaffected
	r.sendAt(t, ms(1), 1, 0, testMsg{ID: 5})  // the reverse link is not clogged
	require.NoError(t, r.loop.Run())

	type got struct {
		ID uint64
		At sim.Time
	}
	var log []got
	for _, d := range r.log {
		log = append(log, got{d.Msg.ID, d.At})
	}
	assert.Equal(t, []got{{5, ms(11)}, {1, ms(30)}, {2, ms(30)}, {3, ms(30)}, {4, ms(35)}}, log)
}

func TestClogCanBeExtendedShortenedAndEnded(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
	r.do(t, 0, func() error { return r.net.Clog(0, 1, ms(10)) })
	r.sendAt(t, ms(1), 0, 1, testMsg{ID: 1})
	r.do(t, ms(5), func() error { return r.net.Clog(0, 1, ms(20)) }) // extended
	r.sendAt(t, ms(21), 0, 1, testMsg{ID: 2})
	r.do(t, ms(23), func() error { return r.net.Clog(0, 1, ms(100)) })
	r.sendAt(t, ms(23), 0, 1, testMsg{ID: 3})
	r.do(t, ms(30), func() error { return r.net.Clog(0, 1, 0) }) // ended early
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 3)
	assert.Equal(t, []sim.Time{ms(20), ms(22), ms(30)}, []sim.Time{r.log[0].At, r.log[1].At, r.log[2].At})
}

func TestCloggedReportsAClogInForce(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
	assert.False(t, r.net.Clogged(0, 1), "a fresh link is not clogged")
	require.NoError(t, r.net.Clog(0, 1, ms(10)))
	assert.True(t, r.net.Clogged(0, 1))
	assert.False(t, r.net.Clogged(1, 0), "a clog is one direction")
	assert.False(t, r.net.Clogged(0, 9), "an unknown node's link is never clogged")
	var at5, at10 bool
	r.loop.At(ms(5), func() { at5 = r.net.Clogged(0, 1) })
	r.loop.At(ms(10), func() { at10 = r.net.Clogged(0, 1) })
	require.NoError(t, r.loop.Run())
	assert.True(t, at5)
	assert.False(t, at10, "a clog ends at its time")
}

func TestHoldAndClogTogether(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
	require.NoError(t, r.net.Hold(0, 1))
	require.NoError(t, r.net.Clog(0, 1, ms(20)))
	r.sendAt(t, 0, 0, 1, testMsg{ID: 1})
	r.do(t, ms(10), func() error { return r.net.Release(0, 1) }) // still clogged until 20ms
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 1)
	assert.Equal(t, ms(20), r.log[0].At)

	r = newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
	require.NoError(t, r.net.Hold(0, 1))
	require.NoError(t, r.net.Clog(0, 1, ms(20)))
	r.sendAt(t, 0, 0, 1, testMsg{ID: 1})
	r.do(t, ms(40), func() error { return r.net.Release(0, 1) }) // clog over, still held until 40ms
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 1)
	assert.Equal(t, ms(40), r.log[0].At)
}

func TestDownNodeTrafficIsDropped(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 3, Link: plainLink(constant(t, 10*time.Millisecond))})
	r.sendAt(t, 0, 0, 1, testMsg{ID: 1})                                // receiver down at arrival
	r.sendAt(t, 0, 1, 2, testMsg{ID: 2})                                // sender down at arrival
	r.do(t, ms(5), func() error { return r.net.SetDown(1, true) })      //
	r.sendAt(t, ms(6), 1, 2, testMsg{ID: 3})                            // sent by a down node
	r.sendAt(t, ms(6), 2, 0, testMsg{ID: 4})                            // unrelated: delivered
	r.sendAt(t, ms(7), 0, 1, testMsg{ID: 5})                            // in flight when 1 comes back
	r.do(t, ms(12), func() error { return r.net.SetDown(1, false) })    //
	r.do(t, ms(12), func() error { return checkDown(r.net, 1, false) }) //
	require.NoError(t, r.loop.Run())

	var ids []uint64
	for _, d := range r.log {
		ids = append(ids, d.Msg.ID)
	}
	assert.Equal(t, []uint64{4, 5}, ids)
	assert.Equal(t, uint64(3), r.net.Total().DroppedDown)
	requireBalanced(t, r.net.Total())
}

func checkDown(n *Network[testMsg], id sim.NodeID, want bool) error {
	if n.IsDown(id) != want {
		return fmt.Errorf("IsDown(%v) = %v, want %v", id, !want, want)
	}
	return nil
}

// brittle decodes only values below 100: a payload type whose bytes can fail
// to decode at delivery although they encoded fine.
type brittle struct{ N uint64 }

func (b brittle) MarshalBinary() ([]byte, error) { return []byte{byte(b.N)}, nil }

func (b *brittle) UnmarshalBinary(p []byte) error {
	if len(p) != 1 || p[0] >= 100 {
		return errors.New("brittle: value out of range")
	}
	b.N = uint64(p[0])
	return nil
}

func TestMalformedMessageIsCountedAndDroppedNotPanicking(t *testing.T) {
	loop := newLoop(t)
	var got []uint64
	net, err := New(loop, sim.NewRNG(1), Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))},
		func(_, _ sim.NodeID, m brittle) { got = append(got, m.N) })
	require.NoError(t, err)
	require.NoError(t, net.Send(0, 1, brittle{N: 5}))
	require.NoError(t, net.Send(0, 1, brittle{N: 200}))
	require.NoError(t, net.Send(1, 0, brittle{N: 6}))
	assert.NoError(t, net.LastMalformed())
	require.NoError(t, loop.Run())

	assert.Equal(t, []uint64{5, 6}, got)
	c := net.Total()
	assert.Equal(t, uint64(1), c.Malformed)
	assert.Equal(t, uint64(2), c.Delivered)
	requireBalanced(t, c)
	require.Error(t, net.LastMalformed())
	assert.Contains(t, net.LastMalformed().Error(), "n0->n1")
	assert.Contains(t, net.LastMalformed().Error(), "out of range")
}

// unsendable fails to encode above 100.
type unsendable struct{ N uint64 }

func (u unsendable) MarshalBinary() ([]byte, error) {
	if u.N > 100 {
		return nil, errors.New("unsendable: too big")
	}
	return []byte{byte(u.N)}, nil
}

func (u *unsendable) UnmarshalBinary(p []byte) error { u.N = uint64(p[0]); return nil }

func TestSendReturnsEncodeErrorsAndRecovers(t *testing.T) {
	loop := newLoop(t)
	var got []uint64
	net, err := New(loop, sim.NewRNG(1), Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))},
		func(_, _ sim.NodeID, m unsendable) { got = append(got, m.N) })
	require.NoError(t, err)
	err = net.Send(0, 1, unsendable{N: 101})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too big")
	assert.Contains(t, err.Error(), "n0->n1")
	require.NoError(t, net.Send(0, 1, unsendable{N: 3}), "the encoder must recover after an error")
	require.NoError(t, loop.Run())
	assert.Equal(t, []uint64{3}, got)
	assert.Equal(t, uint64(1), net.Total().Sent, "a message that did not encode was not sent")
}

func TestLinkOverridesAndDefaults(t *testing.T) {
	r := newRecorder(t, 1, Config{Nodes: 3, Link: plainLink(constant(t, time.Millisecond))})
	slow := plainLink(constant(t, 50*time.Millisecond))
	require.NoError(t, r.net.SetLink(0, 1, slow))
	got, err := r.net.LinkConfigOf(0, 1)
	require.NoError(t, err)
	assert.Equal(t, slow, got)
	got, err = r.net.LinkConfigOf(1, 0)
	require.NoError(t, err)
	assert.Equal(t, constant(t, time.Millisecond), got.Latency)

	r.sendAt(t, 0, 0, 1, testMsg{ID: 1}) // 50ms
	r.sendAt(t, 0, 1, 0, testMsg{ID: 2}) // 1ms
	r.do(t, ms(100), func() error {
		if err := r.net.ResetLink(0, 1); err != nil {
			return err
		}
		return r.net.SetDefaultLink(plainLink(constant(t, 7*time.Millisecond)))
	})
	r.sendAt(t, ms(100), 0, 1, testMsg{ID: 3}) // 7ms: override removed, new default
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 3)
	assert.Equal(t, []sim.Time{ms(1), ms(50), ms(107)}, []sim.Time{r.log[0].At, r.log[1].At, r.log[2].At})
}

func TestAddNodeAndSparseIDs(t *testing.T) {
	r := newRecorder(t, 1, Config{IDs: []sim.NodeID{2, 5, 9}, Link: plainLink(constant(t, time.Millisecond))})
	assert.Equal(t, []sim.NodeID{2, 5, 9}, r.net.Nodes())
	assert.Error(t, r.net.Send(0, 2, testMsg{}), "node 0 is not in the list")
	require.NoError(t, r.net.AddNode(7))
	require.NoError(t, r.net.AddNode(40))
	assert.Equal(t, []sim.NodeID{2, 5, 7, 9, 40}, r.net.Nodes())
	r.sendAt(t, 0, 2, 40, testMsg{ID: 1})
	r.sendAt(t, 0, 40, 7, testMsg{ID: 2})
	require.NoError(t, r.loop.Run())
	require.Len(t, r.log, 2)

	s := r.net.Stats()
	require.Len(t, s.Links, 2)
	assert.Equal(t, Link{From: 2, To: 40}, s.Links[0].Link)
	assert.Equal(t, Link{From: 40, To: 7}, s.Links[1].Link)
	assert.Equal(t, uint64(1), s.Links[1].Delivered)
	assert.Equal(t, uint64(2), s.Total.Delivered)
	assert.Equal(t, "n40->n7", s.Links[1].Link.String())
}

func TestTraceCoversDeliveriesDropsAndFaults(t *testing.T) {
	run := func(mutate func(r *recorder)) uint64 {
		r := newRecorder(t, 1, Config{Nodes: 2, Link: plainLink(constant(t, time.Millisecond))})
		r.sendAt(t, 0, 0, 1, testMsg{ID: 1, Body: "x"})
		mutate(r)
		require.NoError(t, r.loop.Run())
		return r.loop.Trace().Sum64()
	}
	base := run(func(*recorder) {})
	assert.Equal(t, base, run(func(*recorder) {}))
	variants := map[string]func(r *recorder){
		"payload": func(r *recorder) { r.sendAt(t, 0, 0, 1, testMsg{ID: 1, Body: "y"}) },
		"cut":     func(r *recorder) { require.NoError(t, r.net.Cut(1, 0)) },
		"hold":    func(r *recorder) { require.NoError(t, r.net.Hold(1, 0)) },
		"down":    func(r *recorder) { require.NoError(t, r.net.SetDown(1, true)) },
		"clog":    func(r *recorder) { require.NoError(t, r.net.Clog(0, 1, ms(2))) },
	}
	seen := map[uint64]string{base: "base"}
	for _, name := range []string{"payload", "cut", "hold", "down", "clog"} {
		h := run(variants[name])
		_, dup := seen[h]
		assert.False(t, dup, "variant %q has the same trace hash as %q", name, seen[h])
		seen[h] = name
	}
}
