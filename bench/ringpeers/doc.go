// Package ringpeers benchmarks faultline's ring against other Go
// consistent-hashing libraries on the same operations, keys and (where a
// library lets the caller choose) the same xxhash64 hash. It is a separate
// module so the peers never enter faultline's own dependency graph; CI does
// not run it.
//
//	cd bench/ringpeers && go test -run '^$' -bench . -benchmem -count 3
//
// Peers: github.com/buraksezer/consistent (v0.10.0, partitioned with bounded
// loads), github.com/stathat/consistent (crc32, not replaceable),
// github.com/golang/groupcache/consistenthash (32-bit hash, no replica
// lists) and github.com/serialx/hashring (weights as token counts).
package ringpeers
