package nemesis

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseIsBounded: every input Parse reads is bounded, with an error
// naming the bound, before any quadratic check can run.
func TestParseIsBounded(t *testing.T) {
	nodes := func(from, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("n%d", from+i)
		}
		return strings.Join(parts, ",")
	}
	_, err := Parse("1s crash " + nodes(0, MaxTargetNodes+1) + " lose-unsynced=true\n")
	require.ErrorContains(t, err, "line 1: crash: node list of 1025 nodes: at most 1024")
	_, err = Parse("1s partition-halves " + nodes(0, 600) + "|" + nodes(600, MaxTargetNodes+1) + "\n")
	require.ErrorContains(t, err, "at most 1024")
	_, err = Parse("1s link-clear " + strings.Repeat("n1>n2,", MaxTargetNodes) + "n1>n2\n")
	require.ErrorContains(t, err, "link list of 1025 links: at most 1024")
	_, err = Parse(strings.Repeat("#", MaxScheduleBytes+1))
	require.ErrorContains(t, err, "more than the 1048576 a schedule may have")
	_, err = Parse("# ok\n" + strings.Repeat(" ", MaxFaultLineBytes+1))
	require.ErrorContains(t, err, "line 2: 65537 bytes")
	_, err = ParseFault(strings.Repeat(" ", MaxFaultLineBytes+1))
	require.ErrorContains(t, err, "more than the 65536 a fault may have")
	_, err = Parse(strings.Repeat("1s heal\n", MaxFaults+1))
	require.ErrorContains(t, err, fmt.Sprintf("line %d: more than %d faults", MaxFaults+1, MaxFaults))

	// the largest target allowed still parses
	s, err := Parse("1s crash " + nodes(0, MaxTargetNodes) + " lose-unsynced=true\n")
	require.NoError(t, err)
	assert.Len(t, s[0].Nodes, MaxTargetNodes)
}
