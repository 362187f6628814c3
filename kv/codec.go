package kv

// The wire types of this package (Message and what it carries) have
// generated msgpack codecs in message_codecgen.go: they halve the time a
// simulated run spends encoding and decoding messages. Regenerate after any
// change to a wire type; TestEveryWireFieldRoundTrips fails if a field is
// missing from the generated code.
//
//go:generate go run github.com/hashicorp/go-msgpack/v2/codec/codecgen@v2.1.5 -o message_codecgen.go -r ^(Message|Version|Request|Reply|VClock|ClockEntry|Dot|KeySnapshot)$ -nx message.go version.go stats.go
