package main

import (
	"fmt"
	"time"

	"github.com/faultline-sim/faultline/cluster"
)

// setAntiEntropy sets cfg's anti-entropy interval (0: off).
func setAntiEntropy(cfg *cluster.Config, every time.Duration) error {
	if every == 0 {
		return nil
	}
	return fmt.Errorf("-anti-entropy %v: this build's kv.Config has no anti-entropy setting yet; use -anti-entropy off", every)
}
