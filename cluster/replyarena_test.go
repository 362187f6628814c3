package cluster

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/faultline-sim/faultline/node"
	"github.com/faultline-sim/faultline/workloads"
)

// plainResponse is toResponse with one allocation per piece: what the
// arena's copies must equal.
func plainResponse(r node.Reply) workloads.Response {
	resp := workloads.Response{Status: r.Status, Context: bytes.Clone(r.Context), Err: r.Err}
	if len(r.Values) > 0 {
		resp.Values = make([][]byte, len(r.Values))
		for i, v := range r.Values {
			resp.Values[i] = append([]byte{}, v...)
		}
	}
	return resp
}

// TestReplyArenaCopiesTheSameAndApart: the replies' copies equal plain
// copies (nil and empty kept apart as before), and each is its own memory:
// scribbling over one copy, or over the node's reply it came from, and
// appending to its slices, changes no other.
func TestReplyArenaCopiesTheSameAndApart(t *testing.T) {
	bin := rapid.OneOf(rapid.Just([]byte(nil)), rapid.Just([]byte{}), rapid.SliceOfN(rapid.Byte(), 1, 1500))
	rapid.Check(t, func(t *rapid.T) {
		a := newReplyArena()
		n := rapid.IntRange(1, 8).Draw(t, "replies")
		want, got := make([]workloads.Response, n), make([]workloads.Response, n)
		for i := range n {
			r := node.Reply{ID: uint64(i), Status: node.OK, Err: "e", Context: bin.Draw(t, "context")}
			if k := rapid.IntRange(0, 20).Draw(t, "values"); k > 0 {
				r.Values = rapid.SliceOfN(bin, k, k).Draw(t, "value")
			}
			want[i] = plainResponse(r)
			var err error
			got[i], err = a.toResponse(r)
			require.NoError(t, err)
			require.Equal(t, want[i], got[i])
			for _, v := range r.Values { // the node reuses its reply memory
				for k := range v {
					v[k] = 0xfe
				}
			}
			for k := range r.Context {
				r.Context[k] = 0xfe
			}
			require.Equal(t, want[i], got[i], "a copy shares memory with the node's reply")
		}
		for i := range n {
			for _, v := range got[i].Values {
				for k := range v {
					v[k] = 0xff
				}
				_ = append(v, 0xee)
			}
			_ = append(got[i].Values, []byte("x"))
			for k := range got[i].Context {
				got[i].Context[k] = 0xff
			}
			_ = append(got[i].Context, 0xee)
			for j := i + 1; j < n; j++ {
				require.Equal(t, want[j], got[j], "scribbling over reply %d changed reply %d", i, j)
			}
		}
	})
}
