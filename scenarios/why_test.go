package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/checker"
)

// TestExplainAStaleRead: a weak-quorum seed's linearizability witness is
// explained by the stale read itself (its fan-out and the replicas' replies,
// with the versions they held), the write of the value it saw, and the
// faults active meanwhile.
func TestExplainAStaleRead(t *testing.T) {
	spec := small(t, "weak-quorum", 2000)
	var o Outcome
	for seed := uint64(1); seed <= 5; seed++ {
		var err error
		o, err = RunSeed(spec, seed, RunOptions{})
		require.NoError(t, err)
		if v, _ := o.Verdict(checker.NameLinearizable); v == checker.Invalid {
			break
		}
	}
	require.Equal(t, checker.Invalid, func() checker.Verdict { v, _ := o.Verdict(checker.NameLinearizable); return v }())
	whys, err := Explain(o)
	require.NoError(t, err)
	require.NotEmpty(t, whys)
	w := whys[0]
	require.Equal(t, checker.NameLinearizable, w.Checker)
	require.Equal(t, 1, w.Witness)
	require.Contains(t, w.Text, "# following #")
	require.Contains(t, w.Text, "the operation the witness names")
	require.Regexp(t, `#\d+ invoke c\d+ read`, w.Text)
	require.Regexp(t, `#\d+ ok c\d+ read`, w.Text, "its completion, with what it read")
	require.Regexp(t, `send write to n\d key=.* versions=`, w.Text, "the write it saw, fanned out with its version")
	require.Contains(t, w.Text, "the final read of the key")
	for _, l := range strings.Split(strings.TrimSpace(w.Text), "\n") {
		if !strings.HasPrefix(l, "#") {
			require.Regexp(t, `^ *\d`, l, "trace lines only")
		}
	}
	o.Result.TraceHash++
	_, err = Explain(o)
	require.ErrorContains(t, err, "diverged", "an explanation of another run is refused")
}
