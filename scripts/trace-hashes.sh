#!/bin/bash
# trace-hashes.sh BIN OUT: every scenario's trace hash for seeds 1-4, one
# line per seed, from faultline binary BIN into OUT. Run it on two builds
# and diff the files: a change that should keep behaviour must print no
# difference (a new scenario only adds lines).
set -euo pipefail
BIN=$1
OUT=$2
: > "$OUT"
for s in $("$BIN" list | awk '{print $1}'); do
	"$BIN" run -scenario "$s" -seeds 1-4 -json 2>/dev/null |
		grep -o '"seed":[0-9]*\|"trace_hash":"[^"]*"' | paste -d' ' - - | sed "s|^|$s |" >> "$OUT" || true
done
wc -l < "$OUT"
