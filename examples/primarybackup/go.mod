module github.com/faultline-sim/faultline/examples/primarybackup

go 1.26.8

require github.com/faultline-sim/faultline v0.0.0

require (
	github.com/anishathalye/porcupine v1.3.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/hashicorp/go-msgpack/v2 v2.1.5 // indirect
)

replace github.com/faultline-sim/faultline => ../..
