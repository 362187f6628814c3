package wiresize

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func encodedLen(t *rapid.T, v any) int {
	var b []byte
	require.NoError(t, codec.NewEncoderBytes(&b, &codec.MsgpackHandle{}).Encode(v))
	return len(b)
}

// TestSizesMatchTheEncoder checks every helper against go-msgpack itself.
func TestSizesMatchTheEncoder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		shift := rapid.IntRange(0, 63).Draw(t, "shift")
		x := rapid.Uint64().Draw(t, "x") >> shift
		require.Equal(t, encodedLen(t, x), Uint(x), "uint %d", x)
		n := rapid.IntRange(0, 70000).Draw(t, "n")
		require.Equal(t, encodedLen(t, make([]bool, n)), Container(n)+n, "array of %d", n)
		s := strings.Repeat("a", rapid.IntRange(0, 70000).Draw(t, "len"))
		require.Equal(t, encodedLen(t, s), Str(len(s))+len(s), "string of %d", len(s))
	})
}
