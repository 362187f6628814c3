package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/nemesis"
	"github.com/faultline-sim/faultline/sim"
)

func TestFaultCoverage(t *testing.T) {
	ms := func(x int64) sim.Time { return sim.Time(x * 1_000_000) }
	wins := []nemesis.Window{
		{Start: ms(0), End: ms(100)},
		{Start: ms(50), End: ms(150)},    // overlaps the first: faults active 0-150
		{Start: ms(300), End: sim.Never}, // never undone: active until the settle at 400
		{Start: ms(200), End: ms(200)},   // instantaneous (a join): no time
	}
	ops := []history.Op{
		{Call: ms(10), End: ms(40)},
		{Call: ms(30), End: ms(60)},              // overlaps: busy 10-60
		{Call: ms(120), End: ms(130)},            // busy 120-130
		{Call: ms(350), End: sim.Never},          // pending until the settle: busy 350-400
		{Call: ms(0), End: ms(400), Final: true}, // a final read does not count
	}
	ft, cov := FaultCoverage(wins, ops, ms(400))
	require.Equal(t, ms(250), ft)
	require.InDelta(t, float64(50+10+50)/250, cov, 1e-9)

	ft, cov = FaultCoverage(nil, ops, ms(400))
	require.Zero(t, ft)
	require.Equal(t, 1.0, cov, "no fault: nothing was missed")
	_, cov = FaultCoverage(wins, nil, ms(400))
	require.Zero(t, cov, "faults on an idle cluster cover nothing")
}
