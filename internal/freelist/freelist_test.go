package freelist

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Pop hands out the objects last in, first out, clears each slot it
// empties (the backing array keeps no reference), and returns nil once
// the list is empty.
func TestPop(t *testing.T) {
	a, b := new(int), new(int)
	free := []*int{a, b}
	backing := free[:2]
	require.Same(t, b, Pop(&free))
	require.Nil(t, backing[1], "the emptied slot is cleared")
	require.Same(t, a, Pop(&free))
	require.Nil(t, backing[0])
	require.Empty(t, free)
	require.Nil(t, Pop(&free))
	var none []*int
	require.Nil(t, Pop(&none))
}
