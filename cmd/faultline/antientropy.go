package main

import (
	"time"

	"github.com/faultline-sim/faultline/scenarios"
)

// setAntiEntropy sets cfg's Merkle anti-entropy interval (0: off), in node
// ticks, rounding up so that a positive interval never turns it off.
func setAntiEntropy(cfg *scenarios.Config, every time.Duration) error {
	if every == 0 {
		cfg.KV.AntiEntropyIntervalTicks = 0
		return nil
	}
	tick := max(cfg.Tick, 1)
	cfg.KV.AntiEntropyIntervalTicks = int((every + tick - 1) / tick)
	return nil
}
