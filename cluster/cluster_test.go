package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	cfg := DefaultConfig()
	c, err := New(cfg, 1)
	require.NoError(t, err)
	r, err := c.Run()
	require.NoError(t, err)
	t.Logf("stats %+v hash %x", r.Stats, r.TraceHash)
	res, err := Judge(r, JudgeOptionsFor(cfg))
	require.NoError(t, err)
	for _, x := range res {
		t.Logf("%s", x)
	}
}
