package nemesis

import "github.com/stretchr/testify/require"

// ApplyStrict is applyStrict for the external (rapid) tests.
var ApplyStrict = func(t require.TestingT, s Schedule, opts GenOptions) []string { return applyStrict(t, s, opts) }
