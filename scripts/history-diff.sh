#!/usr/bin/env bash
# history-diff.sh BASE_BIN NEW_BIN [SEEDS]: proves that two faultline builds
# simulate the same runs, for a change that may alter only the bytes of
# messages (their encoding), not behaviour. For every scenario (faultline
# list) and seeds SEEDS (default 1-4) it runs both builds with
# `-out DIR -out-all -json` and compares:
#   - each seed's history.jsonl and schedule.txt (and linearizability.html
#     where written): byte for byte;
#   - the -json lines (one per seed, then the summary) without the fields an
#     encoding or the machine may change: trace_hash (it mixes in every
#     payload), bytes (the transport's byte count), wall_ns and build; the
#     files' paths are made relative to DIR. Everything else (verdicts,
#     explanations, counts, ops, events, messages, sim_ns, ...) must match;
#   - each run's exit status.
# report.html is not compared (it shows the trace hash and the bytes). It
# prints every explanation that mentions bytes (so a reader can see whether
# a verdict's text depends on them), then the differences, and exits 1 if
# there are any. Takes a few minutes per build.
#
# Usage: scripts/history-diff.sh /tmp/fl-base /tmp/fl-new
set -euo pipefail
base=$1
new=$2
seeds=${3:-1-4}
work=$(mktemp -d "${TMPDIR:-/tmp}/history-diff.XXXXXX")
echo "history-diff: work directory $work"

scenarios=$("$base" list | awk '{print $1}')
if [ "$scenarios" != "$("$new" list | awk '{print $1}')" ]; then
	echo "history-diff: the builds list different scenarios" >&2
	diff <(echo "$scenarios") <("$new" list | awk '{print $1}') >&2 || true
	exit 1
fi

for side in base new; do
	bin=${!side}
	mkdir -p "$work/$side/json"
	: > "$work/$side/exit"
	for s in $scenarios; do
		f=$(echo "$s" | tr / _)
		status=0
		"$bin" run -scenario "$s" -seeds "$seeds" -out "$work/$side/out" -out-all -json \
			> "$work/$side/json/$f.raw" 2> "$work/$side/json/$f.stderr" || status=$?
		echo "$s $status" >> "$work/$side/exit"
		jq -c --arg dir "$work/$side/out/" 'del(.trace_hash, .bytes, .wall_ns, .build)
			| if .files then .files |= map(ltrimstr($dir)) else . end' \
			< "$work/$side/json/$f.raw" > "$work/$side/json/$f.json"
	done
	echo "history-diff: $side ($bin) done"
done

echo "history-diff: explanations that mention bytes (new build):"
cat "$work"/new/json/*.raw | jq -r 'select(.explanations) | .scenario as $s | .seed as $n
	| .explanations | to_entries[] | select(.value | test("byte|[0-9] ?[KMG]?B\\b"))
	| "  \($s) seed \($n) \(.key): \(.value)"' | sort -u || true

fail=0
histories=$(find "$work/base/out" -name history.jsonl | wc -l)
schedules=$(find "$work/base/out" -name schedule.txt | wc -l)
lines=$(cat "$work"/base/json/*.json | wc -l)
if ! diff -r -x report.html "$work/base/out" "$work/new/out"; then
	echo "history-diff: histories or schedules differ" >&2
	fail=1
fi
if ! diff -r "$work/base/json" "$work/new/json" -x '*.raw' -x '*.stderr'; then
	echo "history-diff: -json lines differ (beyond trace_hash, bytes, wall_ns, build)" >&2
	fail=1
fi
if ! diff "$work/base/exit" "$work/new/exit"; then
	echo "history-diff: exit statuses differ" >&2
	fail=1
fi
if [ "$histories" -eq 0 ] || [ "$lines" -eq 0 ]; then
	echo "history-diff: nothing was compared" >&2
	fail=1
fi
bytes() { cat "$work/$1"/json/*.raw | jq -s '[.[] | select(.summary | not) | .bytes] | add'; }
echo "history-diff: $(echo "$scenarios" | wc -l) scenarios, seeds $seeds: $histories histories, $schedules schedules, $lines -json lines compared"
echo "history-diff: message bytes over all seeds: base $(bytes base), new $(bytes new)"
if [ "$fail" -eq 0 ]; then
	echo "history-diff: identical"
fi
exit "$fail"
