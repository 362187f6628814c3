package node

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/sim"
)

// TestMemDiskCrashKeepsExactlyTheSyncedState checks MemDisk against a
// model of two maps (durable, current): a crash restores the durable one,
// Sync and PutDurable move writes into it, Get and Keys always show the
// current one. A slice Get returned keeps its bytes until the next write
// of its key (MemDisk reuses memory after that).
func TestMemDiskCrashKeepsExactlyTheSyncedState(t *testing.T) {
	type held struct {
		b    []byte
		want string
	}
	rapid.Check(t, func(t *rapid.T) {
		d := NewMemDisk()
		durable, current := map[string]string{}, map[string]string{}
		unsynced := map[string]bool{} // keys with a write since the last Sync or Crash
		gets := map[string]held{}
		key := rapid.SampledFrom([]string{"a", "b", "d/x", "d/y", "h/1"})
		for i := range rapid.IntRange(1, 60).Draw(t, "ops") {
			k := key.Draw(t, "key")
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1:
				v := rapid.StringN(0, 3, -1).Draw(t, "value")
				buf := []byte(v)
				d.Put(k, buf)
				buf = append(buf[:0], "mutated"...) // the disk keeps its own copy
				current[k] = v
				unsynced[k] = true
				delete(gets, k)
			case 2:
				d.Delete(k)
				delete(current, k)
				_, was := durable[k]
				unsynced[k] = was // deleting a never-synced key leaves nothing to sync
				delete(gets, k)
			case 3:
				d.Sync()
				durable = maps.Clone(current)
				clear(unsynced)
			case 4:
				d.Crash()
				current = maps.Clone(durable)
				clear(unsynced)
			case 5:
				v := rapid.StringN(0, 3, -1).Draw(t, "value")
				d.PutDurable(k, []byte(v))
				current[k], durable[k] = v, v
				unsynced[k] = false
				delete(gets, k)
			}
			pending, kept := 0, maps.Clone(durable)
			for k, u := range unsynced {
				if u {
					pending++
					kept[k] = ""
				}
			}
			if d.Unsynced() != pending {
				t.Fatalf("op %d: Unsynced() = %d, want %d", i, d.Unsynced(), pending)
			}
			if len(d.entries) != len(kept) {
				t.Fatalf("op %d: the disk holds %d keys, want %d (synced or with an unsynced write): a dropped key is kept", i, len(d.entries), len(kept))
			}
			for _, k := range []string{"a", "b", "d/x", "d/y", "h/1"} {
				if h, ok := gets[k]; ok && string(h.b) != h.want {
					t.Fatalf("op %d: a slice Get(%q) returned before changed from %q to %q with no write of the key", i, k, h.want, h.b)
				}
				got, ok := d.Get(k)
				want, wok := current[k]
				if ok != wok || string(got) != want {
					t.Fatalf("op %d: Get(%q) = %q,%v; want %q,%v", i, k, got, ok, want, wok)
				}
				if ok && rapid.Bool().Draw(t, "hold") {
					gets[k] = held{got, want}
				}
			}
			var want []string
			for k := range current {
				if strings.HasPrefix(k, "d/") {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			if got := d.Keys("d/"); !slices.Equal(got, want) {
				t.Fatalf("op %d: Keys(d/) = %q, want %q", i, got, want)
			}
		}
	})
}

func TestViewMembers(t *testing.T) {
	v := View{Initial: []sim.NodeID{0, 1, 2}}
	w := v.With(Change{Node: 5, Join: true}).With(Change{Node: 1})
	require.Equal(t, []sim.NodeID{0, 2, 5}, w.Members())
	require.Equal(t, 2, w.Epoch())
	require.True(t, w.Contains(5))
	require.False(t, w.Contains(1))
	require.Equal(t, []sim.NodeID{0, 1, 2}, v.Members(), "With leaves the view it extends alone")
	a := w.With(Change{Node: 7, Join: true})
	b := w.With(Change{Node: 8, Join: true})
	require.Equal(t, []sim.NodeID{0, 2, 5, 7}, a.Members(), "two views extended from one do not share changes")
	require.Equal(t, []sim.NodeID{0, 2, 5, 8}, b.Members())
}

type wire struct {
	Key    string
	Values [][]byte
	N      int
}

func TestCodecRoundTripsAndRejectsGarbage(t *testing.T) {
	c := NewCodec[wire]()
	in := wire{Key: "k", Values: [][]byte{[]byte("a"), nil}, N: 3}
	b1, err := c.Append([]byte("prefix"), &in)
	require.NoError(t, err)
	require.Equal(t, "prefix", string(b1[:6]), "Append keeps what buf held")
	b2, err := c.Encode(&in)
	require.NoError(t, err)
	require.Equal(t, b1[6:], b2, "equal values encode to equal bytes")
	var out wire
	require.NoError(t, c.Decode(b2, &out))
	require.Equal(t, in.Key, out.Key)
	require.Equal(t, in.N, out.N)
	var junk wire
	require.Error(t, c.Decode(append(b2, 0x01), &junk), "trailing bytes")
	require.Error(t, c.Decode(b2[:len(b2)-1], &junk), "truncated")
}

// selfCoded encodes itself: a one-byte length, then its text.
type selfCoded struct{ s string }

func (m *selfCoded) AppendMsgpack(buf []byte) ([]byte, error) {
	if len(m.s) > 31 {
		return buf, errors.New("too long")
	}
	return append(append(buf, 0xa0|byte(len(m.s))), m.s...), nil
}

func (m *selfCoded) DecodeMsgpack(p []byte) error {
	if len(p) == 0 || p[0]&0xe0 != 0xa0 || int(p[0]&0x1f) != len(p)-1 {
		return errors.New("not a fixstr")
	}
	m.s = string(p[1:])
	return nil
}

// A type implementing SelfCoder is encoded and decoded by its own methods
// (its unexported field would be invisible to go-msgpack), errors included.
func TestCodecUsesSelfCoder(t *testing.T) {
	c := NewCodec[selfCoded]()
	b, err := c.Append([]byte("p"), &selfCoded{s: "hi"})
	require.NoError(t, err)
	require.Equal(t, "p\xa2hi", string(b))
	var out selfCoded
	require.NoError(t, c.Decode(b[1:], &out))
	require.Equal(t, "hi", out.s)
	_, err = c.Encode(&selfCoded{s: strings.Repeat("x", 32)})
	require.ErrorContains(t, err, "too long")
	require.ErrorContains(t, c.Decode([]byte{0xa3, 'x'}, &out), "not a fixstr")
}
