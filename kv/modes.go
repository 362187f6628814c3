package kv

import (
	"fmt"
	"strings"
)

// The mode enums read and write their names (String's) as text, so flags,
// transcripts and JSON all spell them one way: MarshalText writes the
// name, UnmarshalText accepts exactly the names and says which exist.

func parseMode[T ~uint8](what string, text []byte, names map[T]string, first, last T) (T, error) {
	var valid []string
	for m := first; m <= last; m++ {
		if names[m] == string(text) {
			return m, nil
		}
		valid = append(valid, names[m])
	}
	want := strings.Join(valid[:len(valid)-1], ", ") + " or " + valid[len(valid)-1]
	return 0, fmt.Errorf("%w: %s %q: want %s", ErrBadConfig, what, text, want)
}

func markMode[T ~uint8](m T, names map[T]string) ([]byte, error) {
	if n, ok := names[m]; ok {
		return []byte(n), nil
	}
	return nil, fmt.Errorf("%w: %d is not a mode", ErrBadConfig, uint8(m))
}

var (
	quorumNames     = map[QuorumMode]string{Strict: "strict", Sloppy: "sloppy"}
	resolveNames    = map[ResolveMode]string{LWW: "lww", VectorClock: "vclock"}
	repairNames     = map[ReadRepairMode]string{RepairOff: "off", RepairAsync: "async", RepairBlocking: "blocking"}
	hintPolicyNames = map[HintPolicy]string{HintRejectWhenFull: "reject", HintEvictOldest: "evict-oldest"}
	membershipNames = map[MembershipMode]string{MembershipOracle: "oracle", MembershipGossip: "gossip"}
)

// MarshalText writes the mode's name.
func (q QuorumMode) MarshalText() ([]byte, error) { return markMode(q, quorumNames) }

// UnmarshalText reads "strict" or "sloppy".
func (q *QuorumMode) UnmarshalText(b []byte) (err error) {
	*q, err = parseMode("quorum", b, quorumNames, Strict, Sloppy)
	return err
}

// MarshalText writes the mode's name.
func (r ResolveMode) MarshalText() ([]byte, error) { return markMode(r, resolveNames) }

// UnmarshalText reads "lww" or "vclock".
func (r *ResolveMode) UnmarshalText(b []byte) (err error) {
	*r, err = parseMode("resolve", b, resolveNames, LWW, VectorClock)
	return err
}

// MarshalText writes the mode's name.
func (m ReadRepairMode) MarshalText() ([]byte, error) { return markMode(m, repairNames) }

// UnmarshalText reads "off", "async" or "blocking".
func (m *ReadRepairMode) UnmarshalText(b []byte) (err error) {
	*m, err = parseMode("read-repair", b, repairNames, RepairOff, RepairBlocking)
	return err
}

// MarshalText writes the policy's name.
func (p HintPolicy) MarshalText() ([]byte, error) { return markMode(p, hintPolicyNames) }

// UnmarshalText reads "reject" or "evict-oldest".
func (p *HintPolicy) UnmarshalText(b []byte) (err error) {
	*p, err = parseMode("hint-policy", b, hintPolicyNames, HintRejectWhenFull, HintEvictOldest)
	return err
}

// MarshalText writes the mode's name.
func (m MembershipMode) MarshalText() ([]byte, error) { return markMode(m, membershipNames) }

// UnmarshalText reads "oracle" or "gossip".
func (m *MembershipMode) UnmarshalText(b []byte) (err error) {
	*m, err = parseMode("membership", b, membershipNames, MembershipOracle, MembershipGossip)
	return err
}
