#!/usr/bin/env bash
# check-report.sh: render a real failing seed's report.html in headless
# chromium, with every host name unresolvable, and fail if
#   - the page logs a JavaScript error or fails to load a resource;
#   - the page itself requests any URL. A request counts as the page's when
#     chromium's net log files it under the page's network isolation key
#     (file://); chromium's own background requests (time, accounts,
#     component updates: keyed to other sites or to none) are not the
#     page's. The page also lists, from inside, every resource it loaded
#     (Resource Timing, which sees file:// loads the net log does not);
#     that list must be empty;
#   - the DOM the page's script built lacks the timeline (reads and writes
#     as distinct classes, one badge per witness, none overlapping), the
#     latency quantiles, the throughput plot or the verdicts;
#   - zooming by the address (report.html#w=1), by a drag across the
#     timeline or by a click on a witness number does not zoom;
#   - a screenshot is blank.
# With `faultline check -report`, the same for an external history's page.
#
# Usage: scripts/check-report.sh [OUTDIR]   (screenshots go to OUTDIR,
# default $TMPDIR/faultline-report: report.png, report-zoom.png, check.png)
# Skips (exit 0, with a message) when no chromium is installed, unless
# FAULTLINE_REQUIRE_CHROMIUM=1 (CI sets it: then a missing chromium fails).
# Takes about 15 seconds. Look at the screenshots afterwards: the script
# checks the page works, a person checks it reads well.
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
	if [ "${FAULTLINE_REQUIRE_CHROMIUM:-0}" = 1 ]; then
		echo "check-report: no chromium found and FAULTLINE_REQUIRE_CHROMIUM=1 (apt-get install -y chromium)" >&2
		exit 1
	fi
	echo "check-report: skipped: no chromium found (install it, e.g. apt-get install -y chromium)"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shots=${1:-${TMPDIR:-/tmp}/faultline-report}
mkdir -p "$shots"

# A seed that is not linearizable (W=R=1 through partitions and crashes),
# so the page has witnesses, fault windows and porcupine's page beside it.
go build -o "$work/faultline" ./cmd/faultline
set +e
"$work/faultline" run -w 1 -r 1 -read-repair off -nemesis partition,crash -seed 3 -out "$work/out" >"$work/run.txt" 2>&1
code=$?
set -e
if [ "$code" -ne 1 ]; then
	echo "check-report: expected exit 1 (not linearizable) from the run, got $code:" >&2
	cat "$work/run.txt" >&2
	exit 1
fi
# Ad-hoc runs write under ad-hoc/cfg-<configuration hash>/seed-3.
seed=$(dirname "$(find "$work/out" -path '*/seed-3/report.html' | head -1)")
for f in report.html history.jsonl schedule.txt linearizability.html; do
	[ -s "$seed/$f" ] || { echo "check-report: $f missing or empty" >&2; exit 1; }
done

flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0
	--hide-scrollbars --virtual-time-budget=3000)
run=0
# browse NAME URL ARGS...: one fresh chromium on URL with a new empty
# profile; its log goes to $work/NAME.log.
browse() {
	local name=$1 url=$2
	shift 2
	run=$((run + 1))
	timeout 60 "$browser" "${flags[@]}" --user-data-dir="$work/profile$run" "$@" "$url" 2>"$work/$name.log" || true
}

# The probe: a copy of the page that, once loaded, writes every resource
# it fetched (Resource Timing) into the DOM for --dump-dom to show.
probe='<script>addEventListener("load",function(){setTimeout(function(){document.body.setAttribute("data-resources",performance.getEntriesByType("resource").map(function(e){return e.name;}).join(" "));},500);});</script>'

# inject PAGE SCRIPT OUT: PAGE with SCRIPT added before </body>.
shopt -u patsub_replacement 2>/dev/null || true
inject() {
	local content
	content=$(<"$1")
	printf '%s\n' "${content/<\/body>/$2</body>}" >"$3"
}

fail=0
# check PAGE NAME WANT...: load PAGE, check its requests, errors and the
# strings WANT in its rendered DOM.
check() {
	local page=$1 name=$2
	shift 2
	inject "$page" "$probe" "$work/$name.probe.html"
	browse "$name" "file://$work/$name.probe.html" --log-net-log="$work/$name.net.json" --dump-dom >"$work/$name.dom.html"
	if grep -E "Uncaught|Failed to load resource|Not allowed to load|ERR_" "$work/$name.log" >&2; then
		echo "check-report: $name: the page logged an error or tried to load a resource" >&2
		fail=1
	fi
	if [ ! -s "$work/$name.net.json" ]; then
		echo "check-report: $name: chromium wrote no net log; cannot check the page's requests" >&2
		fail=1
	else
		grep '"network_isolation_key":"file://' "$work/$name.net.json" |
			grep -o '"url":"[^"]*"' | sort -u >"$work/$name.urls.txt" || true
		if [ -s "$work/$name.urls.txt" ]; then
			echo "check-report: $name: the page requested:" >&2
			cat "$work/$name.urls.txt" >&2
			fail=1
		fi
	fi
	if ! grep -q 'data-resources=""' "$work/$name.dom.html"; then
		echo "check-report: $name: the page loaded resources (or its probe did not run):" >&2
		grep -o 'data-resources="[^"]*"' "$work/$name.dom.html" >&2 || true
		fail=1
	fi
	for want in "$@"; do
		if ! grep -qE "$want" "$work/$name.dom.html"; then
			echo "check-report: $name: the rendered page lacks $want" >&2
			fail=1
		fi
	done
	if grep -q 'data-badge-overlaps="[1-9]' "$work/$name.dom.html"; then
		echo "check-report: $name: witness badges overlap" >&2
		fail=1
	fi
}

# shot URL PNG: screenshot URL into PNG and fail if it looks blank.
shot() {
	browse "$(basename "$2" .png)" "$1" --window-size=1400,2200 --screenshot="$2" >/dev/null
	if [ ! -s "$2" ]; then
		echo "check-report: no screenshot $2 was written" >&2
		fail=1
		return
	fi
	local size
	size=$(wc -c <"$2")
	if [ "$size" -lt 50000 ]; then
		echo "check-report: the screenshot $2 is only $size bytes: the page looks blank" >&2
		fail=1
	fi
}

# The seed's witnesses: one badge each on the zoomable timeline.
witnesses=$(grep -o '<g class="wb" data-w="[0-9]*"' "$seed/report.html" | sort -u | wc -l)
[ "$witnesses" -gt 0 ] || { echo "check-report: the page marks no witness" >&2; exit 1; }
check "$seed/report.html" report \
	'id="timeline"[^>]*data-badges="'"$witnesses"'" data-badge-overlaps="0"' \
	'class="op r ok"' 'class="op w ok"' 'class="op w fail"' '<g class="win">' \
	'id="latency"' '<path class="q q0"' '<path class="q q3"' \
	'id="throughput"' '<path class="rate"' 'class="verdicts"' '<option value="0">' \
	'showing 0 – '
# Zoomed on witness 1 by its address: a narrower span, the witness
# highlighted.
inject "$seed/report.html" "$probe" "$work/zoom.probe.html"
browse zoom "file://$work/zoom.probe.html#w=1" --dump-dom >"$work/zoom.dom.html"
for want in 'class="wbox hl"' 'double-click a chart for the whole run'; do
	grep -q "$want" "$work/zoom.dom.html" || { echo "check-report: zoomed on witness 1, the page lacks $want" >&2; fail=1; }
done
# A drag across the middle tenth of the timeline zooms there; then a click
# on witness 2's number in the witness table zooms on witness 2.
drag='<script>addEventListener("load",function(){var s=document.getElementById("timeline"),r=s.getBoundingClientRect();
function ev(t,f){(t==="mousedown"?s:window).dispatchEvent(new MouseEvent(t,{bubbles:true,button:0,clientX:r.left+r.width*f,clientY:r.top+r.height/2}));}
ev("mousedown",0.45);ev("mousemove",0.5);ev("mouseup",0.55);
document.body.setAttribute("data-after-drag",document.getElementById("zrange").textContent);
document.querySelector("a.wmark[data-w=\"2\"]").click();
document.body.setAttribute("data-after-click",document.querySelector("#timeline .wbox.hl")?"witness 2 highlighted":"no highlight");});</script>'
inject "$seed/report.html" "$drag" "$work/drag.html"
browse drag "file://$work/drag.html" --dump-dom >"$work/drag.dom.html"
after=$(grep -o 'data-after-drag="[^"]*"' "$work/drag.dom.html" || true)
case "$after" in
'data-after-drag="showing 0 – '* | '')
	echo "check-report: a drag across the timeline did not zoom: ${after:-no result}" >&2
	fail=1
	;;
esac
grep -q 'data-after-click="witness 2 highlighted"' "$work/drag.dom.html" ||
	{ echo "check-report: clicking witness 2 in the table did not zoom on it" >&2; fail=1; }
shot "file://$seed/report.html" "$shots/report.png"
shot "file://$seed/report.html#w=1" "$shots/report-zoom.png"

# An external history's page, once `faultline check -report` exists.
if "$work/faultline" check -h 2>&1 | grep -q -- '-report'; then
	set +e
	"$work/faultline" check -model kv -report "$work/check.html" "$seed/history.jsonl" >"$work/check.txt" 2>&1
	set -e
	if [ ! -s "$work/check.html" ]; then
		echo "check-report: faultline check -report wrote no page:" >&2
		cat "$work/check.txt" >&2
		fail=1
	else
		check "$work/check.html" check 'id="timeline"[^>]*data-badges="[1-9]' 'class="op r ok"' '<path class="q q0"' 'class="verdicts"'
		shot "file://$work/check.html" "$shots/check.png"
	fi
else
	echo "check-report: faultline check has no -report flag yet; external-history page not checked"
fi

[ "$fail" -eq 0 ] || exit 1
echo "check-report: ok: report.html ($witnesses witnesses) rendered in $browser without errors or requests of its own; after a drag: ${after#data-after-drag=}; screenshots in $shots"
