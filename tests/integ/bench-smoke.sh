#!/bin/bash
# bench-smoke.sh: the bench harness at a tiny scale (50 listeners, 0 and 500
# connections, 20 ticks): every metric of the report must come out. The numbers
# themselves are not checked: speed is for bench/RESULTS.md, not for a test.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root: the bench makes a network namespace per scenario"
command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
unshare -n true 2>/dev/null || skip "unshare -n is not permitted here"
for p in bench/tickbench bench/scenario bench/detect bench/churn backlogd backlogctl; do
	[ -x "$top_builddir/$p" ] || fail "$p is not built (make check builds it)"
done

WORK=$(mktemp -d /tmp/backlogd-bench-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
out="$WORK/results.md"
# The committed report must stay as it is: the smoke writes only to its own file.
before=$(cksum 2>/dev/null <"$top_srcdir/bench/RESULTS.md" || echo none)

"$top_srcdir/bench/run.sh" --smoke --out "$out" --build "$top_builddir" --no-build \
	>"$WORK/run.log" 2>&1 || { cat "$WORK/run.log"; fail "bench/run.sh --smoke failed"; }
cat "$WORK/run.log"
[ -s "$out" ] || fail "no report written"
after=$(cksum 2>/dev/null <"$top_srcdir/bench/RESULTS.md" || echo none)
[ "$before" = "$after" ] || fail "the smoke run changed bench/RESULTS.md"

# Every section, and a row for each scenario in every table.
for h in "## Machine" "## Scenarios" "## Cheap-tier tick against the floor" \
	"## Against \`ss -ltnm && nstat -az\`" "## Deep tier, when triggered" \
	"## The daemon: memory, detection, allocations" "## The whole daemon on a quiet host" "## Gap detection" "## What a scrape costs" \
	"## Listener events from the destroy group: what they would cost" \
	"## The eBPF tier: what it costs the host's connections" \
	"## History for top and explain: what it keeps" "## Targets" "## Adaptive sampling"; do
	grep -qF "$h" "$out" || fail "section missing: $h"
done
for s in "50 L / 0 C" "50 L / 500 C"; do
	n=$(grep -c "^| $s |" "$out")
	[ "$n" -eq 9 ] || fail "scenario $s has $n table rows, expected 9"
done
# A metric that was not measured shows as MISSING; a target without data says so.
if grep -n 'MISSING\|no data' "$out"; then
	fail "some metrics are missing from the report"
fi
for t in "≤ 1.5 × the floor" "≥ 10 × cheaper" "tick flat" "RSS ≤ 8 MiB" "no allocation" "detection within one tick" \
	"quiet host, 50 listeners: daemon CPU per s ≤ 1/20" "with 500 connections: daemon CPU per s ≤ 1.25 ×" \
	"a listener-gap with its length"; do
	# n/a: allocations are not counted in a sanitizer build (it brings its own malloc).
	grep -F "$t" "$out" | grep -qE '\| (met|\*\*missed\*\*|n/a) \|$' || fail "target without a verdict: $t"
done
grep -qE '^\| kernel \| [0-9]' "$out" || fail "the machine is not described"
# The gap trial found its finding, with a length, in every scenario.
for s in "50 L / 0 C" "50 L / 500 C"; do
	grep -F "## Gap detection" -A 40 "$out" | grep -qE "^\| $s \| 1 \| 1 \| [01] \| .* \| [0-9]+ \| [0-9]+ \|$" ||
		fail "no listener-gap finding for the restarted listener at $s"
done
# The destroy-group cost: both sides measured, and their ratio.
grep -qE '^\| whole machine CPU \| [0-9]+ \| [0-9]+ \| [-+][0-9.]+ \| [0-9.]+ × \|$' "$out" ||
	fail "the destroy-group churn was not measured"
# The history bench made every listener hot, and kept as many as the bound allows.
grep -qE '^\| listeners with a history \| 0 \| 50 \|$' "$out" ||
	fail "the history bench did not keep the 50 hot listeners: $(grep -F 'listeners with a history' "$out")"
echo "PASS: the bench harness produced every metric"
