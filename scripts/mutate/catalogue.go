package main

// catalogue is the list of planted bugs, one mechanism each. Snippets are
// exact (tabs are written \t); each must occur exactly once in its file.
var catalogue = []Mutation{
	// Quorum counting.
	{
		Name: "write-quorum-off-by-one", Mechanism: "quorum (W)", File: "kv/coordinator.go",
		Original:    "case o.acks >= o.w:",
		Replacement: "case o.acks >= o.w-1:",
		Bug:         "a write is acknowledged to the client after W-1 replica acks",
	},
	{
		Name: "read-quorum-off-by-one", Mechanism: "quorum (R)", File: "kv/coordinator.go",
		Original:    "if o.replies < o.r {",
		Replacement: "if o.replies < o.r-1 {",
		Bug:         "a read reconciles and answers after R-1 replies",
	},
	{
		Name: "duplicate-ack-counted", Mechanism: "quorum (duplicate acks)", File: "kv/coordinator.go",
		Original:    "if o.targets[i].state != tPending {",
		Replacement: "if o.targets[i].state == tRefused {",
		Bug:         "a write ack the network duplicated is counted twice towards W",
	},
	{
		Name: "timeout-reported-as-fail", Mechanism: "outcomes (info vs fail)", File: "kv/coordinator.go",
		Original:    "c.reply(o, Reply{Status: Info, Err: fmt.Sprintf(\"deadline after %d ticks: %d of W=%d acks",
		Replacement: "c.reply(o, Reply{Status: Fail, Err: fmt.Sprintf(\"deadline after %d ticks: %d of W=%d acks",
		Bug:         "a write that timed out (maybe applied) is reported as failed (certainly not applied)",
	},

	// Sloppy quorums and fallbacks.
	{
		Name: "strict-uses-fallbacks", Mechanism: "sloppy fallbacks", File: "kv/coordinator.go",
		Original:    "if c.cfg.Quorum == Strict {",
		Replacement: "if c.cfg.Quorum == Strict && false {",
		Bug:         "a strict quorum silently substitutes fallbacks for suspected home replicas",
	},
	{
		Name: "fallback-write-not-hinted", Mechanism: "sloppy fallbacks", File: "kv/coordinator.go",
		Original:    "ts = append(ts, target{node: fb[fi], hinted: true, hintFor: p})",
		Replacement: "ts = append(ts, target{node: fb[fi]})",
		Bug:         "a fallback is sent a plain write, not a hint for the home replica it stands in for",
	},

	// Hinted handoff.
	{
		Name: "hint-deleted-before-ack", Mechanism: "hinted handoff (delete)", File: "kv/hints.go",
		Original:    "send = append(send, hintReplay{to: hint.Owner, msg: Message{Type: MsgHandoff, Key: hint.Key, Versions: hint.Versions, HintID: hint.ID, HintSeq: hint.Seq}})",
		Replacement: "send = append(send, hintReplay{to: hint.Owner, msg: Message{Type: MsgHandoff, Key: hint.Key, Versions: hint.Versions, HintID: hint.ID, HintSeq: hint.Seq}})\n\t\th.st.DeleteHint(hint.Owner, hint.Key)",
		Bug:         "a fallback deletes its hint when it sends it, before the owner acknowledges it",
	},
	{
		Name: "hints-never-replayed", Mechanism: "hinted handoff (replay)", File: "kv/node.go",
		Original:    "n.replayHints()",
		Replacement: "_ = n.cfg.HintReplayBatch // hints are never replayed",
		Bug:         "hints are stored but the replay timer never sends them",
	},
	{
		Name: "stale-handoff-ack-deletes", Mechanism: "hinted handoff (delete)", File: "kv/hints.go",
		Original:    "case ok && cur.ID == m.HintID && cur.Seq == m.HintSeq:",
		Replacement: "case ok && cur.ID == m.HintID:",
		Bug:         "a handoff ack for an older copy of a hint deletes the hint a newer write merged into",
	},
	{
		Name: "no-coordinator-hints", Mechanism: "hinted handoff (store)", File: "kv/coordinator.go",
		Original:    "if c.cfg.Quorum == Strict && c.cfg.HintedHandoff {",
		Replacement: "if false && c.cfg.Quorum == Strict && c.cfg.HintedHandoff {",
		Bug:         "a strict-quorum coordinator keeps no hint for home replicas that never acknowledged",
	},

	// Read repair.
	{
		Name: "async-repair-skipped", Mechanism: "read repair (async)", File: "kv/coordinator.go",
		Original:    "if c.cfg.ReadRepair == RepairAsync && o.replies > 0 {",
		Replacement: "if false && c.cfg.ReadRepair == RepairAsync && o.replies > 0 {",
		Bug:         "asynchronous read repair never writes anything back",
	},
	{
		Name: "async-repair-wrong-target", Mechanism: "read repair (async)", File: "kv/coordinator.go",
		Original:    "t.state == tReplied && !covers(c.cfg.Resolve, t.vs, all) {",
		Replacement: "t.state == tReplied && covers(c.cfg.Resolve, t.vs, all) {",
		Bug:         "asynchronous read repair writes to the replicas that were already current, not the stale ones",
	},
	{
		Name: "blocking-repair-no-writeback", Mechanism: "read repair (blocking)", File: "kv/coordinator.go",
		Original:    "if u.state == tReplied && covers(c.cfg.Resolve, u.vs, o.result) {",
		Replacement: "if u.state == tReplied {",
		Bug:         "a blocking read counts every replica that answered as holding the result, so it never writes back",
	},
	{
		Name: "blocking-repair-one-holder", Mechanism: "read repair (blocking)", File: "kv/coordinator.go",
		Original:    "if o.holders >= o.w {",
		Replacement: "if o.holders >= 1 {",
		Bug:         "a blocking read returns once one replica holds the result, not W",
	},

	// Durability.
	{
		Name: "ack-before-sync", Mechanism: "sync before ack", File: "kv/replica.go",
		Original:    "if n.cfg.SyncBeforeAck {",
		Replacement: "if false && n.cfg.SyncBeforeAck {",
		Bug:         "a replica acknowledges a write before syncing it (only the periodic sync makes it durable)",
	},

	// Crashes and incarnations.
	{
		Name: "restart-keeps-incarnation", Mechanism: "crash/incarnation", File: "kv/node.go",
		Original:    "inc++",
		Replacement: "inc = max(inc, 1)",
		Bug:         "a restarted node keeps its previous incarnation and reissues dots and op ids it already used",
	},
	{
		Name: "forget-keeps-incarnation", Mechanism: "crash/incarnation", File: "kv/node.go",
		Original:    "if v.Dot.Node == n.id && epoch(v.Dot.Counter) == n.incarnation {",
		Replacement: "if false && v.Dot.Node == n.id && epoch(v.Dot.Counter) == n.incarnation {",
		Bug:         "deleting its own dots (handed-off or evicted hint, purged tombstone) does not start a new incarnation",
	},

	// Vector clocks (dotted version vectors).
	{
		Name: "vclock-across-incarnations", Mechanism: "vector clocks (compare)", File: "kv/version.go",
		Original:    "func (v VClock) CoversDot(d Dot) bool { return v.get(d.Node, epoch(d.Counter)) >= d.Counter }",
		Replacement: "func (v VClock) CoversDot(d Dot) bool {\n\tfor _, e := range v {\n\t\tif e.Node == d.Node && e.Counter&seqMask >= d.Counter&seqMask {\n\t\t\treturn true\n\t\t}\n\t}\n\treturn false\n}",
		Bug:         "a clock entry is compared with a dot of another incarnation of the same node (sequence numbers only)",
	},
	{
		Name: "vclock-merge-min", Mechanism: "vector clocks (merge)", File: "kv/version.go",
		Original:    "Counter: max(v[i].Counter, o[j].Counter)",
		Replacement: "Counter: min(v[i].Counter, o[j].Counter)",
		Bug:         "merging two clocks keeps the smaller counter of a shared actor",
	},
	{
		Name: "dominance-reversed", Mechanism: "vector clocks (dominance)", File: "kv/version.go",
		Original:    "if i != j && w.Context.CoversDot(v.Dot) && !v.Context.CoversDot(w.Dot) {",
		Replacement: "if i != j && v.Context.CoversDot(w.Dot) && !w.Context.CoversDot(v.Dot) {",
		Bug:         "sibling reconciliation drops the newer version instead of the one it supersedes",
	},
	{
		Name: "coordinator-drops-own-versions", Mechanism: "vector clocks (DVV invariant)", File: "kv/coordinator.go",
		Original:    "o.versions = reconcile(VectorClock, c.host.localVersions(o.key), []Version{v})",
		Replacement: "o.versions = []Version{v}",
		Bug:         "a vector-clock coordinator sends only the new version, not its own earlier versions of the key",
	},

	// Causal contexts.
	{
		Name: "write-ignores-context", Mechanism: "contexts", File: "kv/coordinator.go",
		Original:    "v.Context = ctx",
		Replacement: "v.Context, _ = nil, ctx",
		Bug:         "the coordinator ignores the client's causal context, so every write is concurrent with what it read",
	},
	{
		Name: "read-context-without-dots", Mechanism: "contexts", File: "kv/version.go",
		Original:    "c = c.Merge(v.Clock())",
		Replacement: "c = c.Merge(v.Context)",
		Bug:         "a read's context omits the dots of the versions read, so the next write supersedes only their ancestors",
	},

	{
		Name: "context-of-other-key-accepted", Mechanism: "context checks", File: "kv/version.go",
		Original:    "if got := string(r[:klen]); got != key {",
		Replacement: "if got := string(r[:klen]); false && got != key {",
		Bug:         "a causal context obtained from a Get of another key is accepted",
	},
	{
		Name: "context-checksum-ignored", Mechanism: "context checks", File: "kv/version.go",
		Original:    "if crc32.ChecksumIEEE(body) != sum {",
		Replacement: "if false && crc32.ChecksumIEEE(body) != sum {",
		Bug:         "an altered causal context is not detected (checksum not verified)",
	},

	// Last-write-wins.
	{
		Name: "lww-no-tiebreak", Mechanism: "LWW tie-break", File: "kv/version.go",
		Original:    "return cmpDot(a.Dot, b.Dot)",
		Replacement: "return 0",
		Bug:         "equal LWW timestamps are not broken by dot, so each replica keeps whichever version it saw first",
	},

	// Tombstones.
	{
		Name: "tombstone-purged-early", Mechanism: "tombstones (purge)", File: "kv/tombstones.go",
		Original:    "func (t *tombstones) dueAt(e tombEntry) int64 { return e.at + t.grace }",
		Replacement: "func (t *tombstones) dueAt(e tombEntry) int64 { return e.at + t.grace/8 }",
		Bug:         "tombstones are purged after an eighth of the grace period",
	},
	{
		Name: "tombstone-stale-schedule", Mechanism: "tombstones (purge)", File: "kv/tombstones.go",
		Original:    "at, ok := t.at[e.key]\n\treturn ok && at == e.at",
		Replacement: "_, ok := t.at[e.key]\n\treturn ok",
		Bug:         "a key deleted again is purged on its older tombstone's schedule",
	},

	// Anti-entropy.
	{
		Name: "merkle-skips-last-child", Mechanism: "anti-entropy (Merkle diff)", File: "kv/merkle/session.go",
		Original:    "for c := range f {",
		Replacement: "for c := range f - 1 {",
		Bug:         "the Merkle descent never compares a node's last child, skipping that subtree",
	},
	{
		Name: "merkle-tree-not-updated", Mechanism: "anti-entropy (trees)", File: "kv/replica.go",
		Original:    "n.treeSet(key, merged)",
		Replacement: "_ = merged // the Merkle tree is not updated",
		Bug:         "a write merged into a replica's data does not update its Merkle tree",
	},
	{
		Name: "repair-one-direction", Mechanism: "anti-entropy (repair)", File: "kv/antientropy.go",
		Original:    "if len(back) > 0 {",
		Replacement: "if false && len(back) > 0 {",
		Bug:         "an exchange pushes the initiator's versions but never sends the peer's newer ones back",
	},

	// Gossip membership and failure detection.
	{
		Name: "suspicion-never-refuted", Mechanism: "gossip (refutation)", File: "kv/membership/gossip.go",
		Original:    "case e.Incarnation > s.Incarnation || (e.Incarnation == s.Incarnation && e.Status != Alive && e.Heartbeat >= s.Heartbeat) ||",
		Replacement: "case e.Incarnation > s.Incarnation ||",
		Bug:         "a node told it is suspect or dead at its own incarnation never refutes",
	},
	{
		Name: "verdict-beats-heartbeat", Mechanism: "gossip (precedence)", File: "kv/membership/entry.go",
		Original:    "cmp.Compare(a.Heartbeat, b.Heartbeat),\n\t\tcmp.Compare(a.Status, b.Status),",
		Replacement: "cmp.Compare(a.Status, b.Status),\n\t\tcmp.Compare(a.Heartbeat, b.Heartbeat),",
		Bug:         "SWIM precedence: a suspect/dead verdict beats any later heartbeat of the same incarnation",
	},
	{
		Name: "suspicion-sticky", Mechanism: "failure detection (local)", File: "kv/suspicion.go",
		Original:    "p.suspected = false",
		Replacement: "_ = p.suspected // suspicion is never cleared",
		Bug:         "a locally suspected peer stays suspected after it answers again",
	},

	// Range handoff.
	{
		Name: "serve-before-received", Mechanism: "range handoff (serve)", File: "kv/replica.go",
		Original:    "case read && n.transfer.pendingAt(ring.HashKey(key)):",
		Replacement: "case read && false && n.transfer.pendingAt(ring.HashKey(key)):",
		Bug:         "a node answers reads of a range it gained before the range was streamed to it",
	},
	{
		Name: "stream-while-replicating", Mechanism: "range handoff (stream)", File: "kv/transfer.go",
		Original:    "if (!m.Force && replicatesArc(ranges, t.self, a)) || len(t.serving) >= maxServing {",
		Replacement: "if len(t.serving) >= maxServing {",
		Bug:         "a previous replica streams an arc it still takes writes for; later acknowledged writes miss the stream",
	},
	{
		Name: "first-batch-completes-range", Mechanism: "range handoff (receive)", File: "kv/transfer.go",
		Original:    "if !m.Last {",
		Replacement: "if false {",
		Bug:         "a gained range counts as received after its first batch",
	},
	{
		Name: "leave-done-too-early", Mechanism: "range handoff (leave)", File: "kv/transfer.go",
		Original:    "settled = settled && len(t.serving) == 0 && t.allServed()",
		Replacement: "settled = settled && len(t.serving) == 0",
		Bug:         "a leaving node reports LeaveDone before every arc it owed was pulled from it",
	},
	{
		Name: "single-full-stream", Mechanism: "range handoff (quorum)", File: "kv/transfer.go",
		Original:    "func fullSources(sources, old, w int) int { return min(sources, max(1, old-w+1)) }",
		Replacement: "func fullSources(sources, old, w int) int { return 1 }",
		Bug:         "a gained arc counts as received after one previous replica streamed it, which need not hold every acknowledged write",
	},
	{
		Name: "partial-stream-as-full", Mechanism: "range handoff (partial)", File: "kv/transfer.go",
		Original:    "st := &outStream{to: from, id: m.Op, a: a, partial: t.lacksArc(a)}",
		Replacement: "st := &outStream{to: from, id: m.Op, a: a}",
		Bug:         "a source that has not received an arc itself streams it as a full copy",
	},
	{
		Name: "pulls-starve", Mechanism: "range handoff (pull slots)", File: "kv/transfer.go",
		Original:    "slices.SortStableFunc(due, func(a, b *pendingArc) int { return cmp.Compare(a.deadline, b.deadline) })",
		Replacement: "_ = cmp.Compare[int64] // the pull slots go to the arcs first in the list",
		Bug:         "arcs whose pulls keep timing out take every pull slot; the others never start",
	},
	{
		Name: "restart-forgets-pending", Mechanism: "range handoff (restart)", File: "kv/node.go",
		Original:    "cfg.RangeHandoff && (v == 1 || moved) {",
		Replacement: "cfg.RangeHandoff && moved {",
		Bug:         "a node restarted in the middle of a handoff serves the arcs it had not received",
	},
	{
		Name: "restart-ignores-epoch", Mechanism: "range handoff (restart)", File: "kv/handoff.go",
		Original:    "h ^= epoch >> (8 * i) & 0xff",
		Replacement: "h ^= 0 & epoch",
		Bug:         "a node restarted on a ring with the members it left misses the arcs it gained and gave back while down",
	},
	{
		Name: "rejoin-wipes-disk", Mechanism: "range handoff (rejoin)", File: "kv/server.go",
		Original:    "store.setMeta(metaHandoffIncomplete, 1)",
		Replacement: "store.wipe()",
		Bug:         "a node rejoining during its leave throws away the only copy of writes it had not handed off",
	},

	// Forwarding.
	{
		Name: "vclock-write-not-forwarded", Mechanism: "forwarding", File: "kv/coordinator.go",
		Original:    "if c.cfg.Resolve == VectorClock && req.Op != Get {",
		Replacement: "if false && c.cfg.Resolve == VectorClock && req.Op != Get {",
		Bug:         "a node that is not a replica coordinates vector-clock writes itself",
	},
	{
		Name: "duplicate-forward-coordinated", Mechanism: "forwarding", File: "kv/replica.go",
		Original:    "if !n.forwards.remember(from, m.Op, n.now) {",
		Replacement: "if false && !n.forwards.remember(from, m.Op, n.now) {",
		Bug:         "a forwarded request the network duplicated is coordinated twice, under two dots",
	},
}
