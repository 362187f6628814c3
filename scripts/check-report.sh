#!/usr/bin/env bash
# check-report.sh: render a real failing seed's report.html in headless
# chromium, with every host name unresolvable, and fail if the page logs a
# JavaScript error or requests any URL (from chromium's net log), if the
# rendered DOM lacks
# the timeline, latency chart or verdicts, or if the screenshot is blank.
#
# Usage: scripts/check-report.sh [SCREENSHOT.png]   (default: $TMPDIR/faultline-report.png)
# Skips (exit 0, with a message) when no chromium is installed; CI need not
# run it. Look at the screenshot afterwards: the script checks the page
# loads, a person checks it reads well.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	echo "check-report: skipped: no chromium found (install it, e.g. apt-get install -y chromium)"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shot=${1:-${TMPDIR:-/tmp}/faultline-report.png}

# A seed that is not linearizable (W=R=1 through partitions and crashes),
# so the page has witnesses, fault windows and porcupine's page beside it.
set +e
go run ./cmd/faultline run -w 1 -r 1 -read-repair off -nemesis partition,crash -seed 3 -out "$work/out" >"$work/run.txt" 2>&1
code=$?
set -e
if [ "$code" -ne 1 ]; then
	echo "check-report: expected exit 1 (not linearizable) from the run, got $code:" >&2
	cat "$work/run.txt" >&2
	exit 1
fi
page="$work/out/ad-hoc/seed-3/report.html"
for f in report.html history.jsonl schedule.txt linearizability.html; do
	[ -s "$work/out/ad-hoc/seed-3/$f" ] || { echo "check-report: $f missing or empty" >&2; exit 1; }
done

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0
	--window-size=1400,1000)

"$browser" "${flags[@]}" --user-data-dir="$work/profile1" --log-net-log="$work/net.json" \
	--dump-dom "file://$page" >"$work/dom.html" 2>"$work/dom.log" || true
"$browser" "${flags[@]}" --user-data-dir="$work/profile2" --screenshot="$shot" "file://$page" >/dev/null 2>"$work/shot.log" || true

fail=0
if grep -E "Uncaught|Failed to load resource|ERR_NAME_NOT_RESOLVED" "$work/dom.log" "$work/shot.log" >&2; then
	echo "check-report: the page logged an error or tried to load a resource" >&2
	fail=1
fi
# Every URL the browser asked for, minus chromium's own background requests
# (account, time and search services it contacts on start).
if [ -s "$work/net.json" ]; then
	grep -o '"url":"[^"]*"' "$work/net.json" | sed -e 's/^"url":"//' -e 's/"$//' | sort -u |
		grep -v -E '^https?://(accounts|clients[0-9]*|www)\.google\.com/' | grep -v '^file://' >"$work/urls.txt" || true
	if [ -s "$work/urls.txt" ]; then
		echo "check-report: the page requested:" >&2
		cat "$work/urls.txt" >&2
		fail=1
	fi
else
	echo "check-report: chromium wrote no net log; network access not checked" >&2
fi
for want in 'id="timeline"' 'id="latency"' 'class="verdicts"' 'class="wbox"' '<option value="k0">'; do
	if ! grep -q "$want" "$work/dom.html"; then
		echo "check-report: the rendered page lacks $want" >&2
		fail=1
	fi
done
if [ ! -s "$shot" ]; then
	echo "check-report: no screenshot was written" >&2
	exit 1
fi
size=$(wc -c <"$shot")
if [ "$size" -lt 50000 ]; then
	echo "check-report: the screenshot is only $size bytes: the page looks blank" >&2
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "check-report: ok: $page rendered in $browser without errors or network access; screenshot $shot ($size bytes)"
