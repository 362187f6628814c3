package kv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	for _, tc := range []struct{ key, want string }{
		{diskData + "k", `disk key "d/k"`},
		{diskHint + "2/k", `disk key "h/2/k"`},
		{diskMeta + metaIncarnation, "bytes, want 8"},
	} {
		disk := node.NewMemDisk()
		disk.Put(tc.key, []byte{0xc1, 0xc1, 0xc1})
		_, err := openDiskStore(disk)
		require.ErrorIs(t, err, ErrBadNode, tc.key)
		assert.ErrorContains(t, err, tc.want)
	}
}
