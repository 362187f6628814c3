package kv

import (
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/sim"
)

// The disk store writes through and reads back what the disk keeps: after
// a crash, only what was synced, decoded from the disk itself.
func TestDiskStoreReadsWhatTheDiskKept(t *testing.T) {
	disk := node.NewMemDisk()
	s, err := openDiskStore(disk)
	require.NoError(t, err)
	v := func(x string) []Version { return []Version{{Value: []byte(x), Dot: Dot{Node: 1, Counter: 1<<32 | 1}}} }
	s.Apply([]Write{
		{Kind: WriteData, Key: "a", Versions: v("1")},
		{Kind: WriteHint, Hint: Hint{ID: 2, Seq: 3, Owner: 2, Key: "a", Versions: v("1")}},
		{Kind: WriteMeta, Key: metaIncarnation, Value: 4},
	})
	s.Sync()
	s.Apply([]Write{
		{Kind: WriteData, Key: "b", Versions: v("2")},
		{Kind: WriteData, Key: "a"}, // deleted, unsynced
		{Kind: WriteHint, Hint: Hint{Owner: 2, Key: "a"}},
	})
	assert.Equal(t, []string{"b"}, s.Keys())
	assert.Empty(t, s.Hints())
	disk.Crash()

	s, err = openDiskStore(disk)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, s.Keys())
	got, ok := s.Get("a")
	require.True(t, ok)
	assert.Equal(t, "1", string(got[0].Value))
	_, ok = s.Get("b")
	assert.False(t, ok, "unsynced: lost in the crash")
	require.Len(t, s.Hints(), 1)
	assert.Equal(t, sim.NodeID(2), s.Hints()[0].Owner)
	inc, ok := s.Meta(metaIncarnation)
	assert.True(t, ok)
	assert.Equal(t, uint64(4), inc)
}

// A disk whose entries do not decode is refused at open, naming the entry.
func TestDiskStoreRefusesACorruptDisk(t *testing.T) {
	v := []Version{{Value: []byte("v"), Dot: Dot{Node: 1, Counter: 1<<32 | 1}}}
	snap, err := (&KeySnapshot{Key: "k", Versions: v}).AppendMsgpack(nil)
	require.NoError(t, err)
	hint, err := (&Hint{ID: 1, Seq: 1, Owner: 2, Key: "k", Versions: v}).AppendMsgpack(nil)
	require.NoError(t, err)
	garbage := []byte{0xc1, 0xc1, 0xc1}
	for _, tc := range []struct {
		key   string
		value []byte
		want  string
	}{
		{diskData + "k", garbage, `disk key "d/k": msgpack, byte 0: want a map`},
		{diskData + "k", snap[:len(snap)-1], `disk key "d/k": msgpack`},
		{diskData + "k", append(snap, 0), `disk key "d/k": 1 trailing bytes`},
		{diskData + "k", hint, `disk key "d/k": msgpack, byte 2: want a string or binary, got an integer`},
		{diskHint + "2/k", garbage, `disk key "h/2/k": msgpack, byte 0: want a map`},
		{diskHint + "2/k", hint[:len(hint)-1], `disk key "h/2/k": msgpack`},
		{diskMeta + metaIncarnation, garbage, "bytes, want 8"},
	} {
		disk := node.NewMemDisk()
		disk.Put(tc.key, tc.value)
		_, err := openDiskStore(disk)
		require.ErrorIs(t, err, ErrBadNode, tc.key)
		assert.ErrorContains(t, err, tc.want)
	}
	disk := node.NewMemDisk()
	disk.Put(diskData+"k", snap)
	disk.Put(diskHint+"2/k", hint)
	_, err = openDiskStore(disk)
	require.NoError(t, err, "the same entries, whole, open")
}

// Against a model of what was written and what was synced: data and hints
// of a few keys and owners (hints of one key for several owners side by
// side), put, replaced and deleted, synced or lost in crashes; after every
// reopen the store reads back exactly the synced model. The store caches
// disk keys, so this is what shows a cached key pointing at the wrong
// entry.
func TestDiskStoreKeepsExactlyTheSyncedWrites(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		disk := node.NewMemDisk()
		s, err := openDiskStore(disk)
		require.NoError(t, err)
		type hk struct {
			owner sim.NodeID
			key   string
		}
		data, hints := map[string]string{}, map[hk]string{}
		syncedData, syncedHints := map[string]string{}, map[hk]string{}
		keyGen := rapid.SampledFrom([]string{"a", "b", "c"})
		ownerGen := rapid.SampledFrom([]sim.NodeID{1, 2, 3})
		vs := func(x string) []Version {
			return []Version{{Value: []byte(x), Dot: Dot{Node: 1, Counter: 1<<32 | 1}}}
		}
		for i := range rapid.IntRange(1, 60).Draw(t, "steps") {
			k := keyGen.Draw(t, "key")
			val := fmt.Sprint("v", i)
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0:
				s.Apply([]Write{{Kind: WriteData, Key: k, Versions: vs(val)}})
				data[k] = val
			case 1:
				s.Apply([]Write{{Kind: WriteData, Key: k}})
				delete(data, k)
			case 2:
				o := ownerGen.Draw(t, "owner")
				s.Apply([]Write{{Kind: WriteHint, Hint: Hint{ID: uint64(i), Seq: 1, Owner: o, Key: k, Versions: vs(val)}}})
				hints[hk{o, k}] = val
			case 3:
				o := ownerGen.Draw(t, "owner")
				s.Apply([]Write{{Kind: WriteHint, Hint: Hint{Owner: o, Key: k}}})
				delete(hints, hk{o, k})
			case 4:
				s.Sync()
				syncedData, syncedHints = maps.Clone(data), maps.Clone(hints)
			case 5:
				disk.Crash()
				s, err = openDiskStore(disk)
				require.NoError(t, err)
				data, hints = maps.Clone(syncedData), maps.Clone(syncedHints)
				gotData := map[string]string{}
				for _, key := range s.Keys() {
					got, ok := s.Get(key)
					require.True(t, ok)
					gotData[key] = string(got[0].Value)
				}
				require.Equal(t, syncedData, gotData, "step %d: data after the crash", i)
				gotHints := map[hk]string{}
				for _, h := range s.Hints() {
					gotHints[hk{h.Owner, h.Key}] = string(h.Versions[0].Value)
				}
				require.Equal(t, syncedHints, gotHints, "step %d: hints after the crash", i)
			}
		}
	})
}
