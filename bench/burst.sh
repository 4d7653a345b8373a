#!/bin/bash
# burst.sh: does a 200 ms burst that fills a queue and drains between two 1 s
# ticks get seen? Runs the real backlogd with adaptive sampling on and off
# against the same load and prints a markdown table. Usage: bench/burst.sh
# [TRIALS] (default 5); needs root; runs in its own network namespace.
set -u
if [ -z "${BURST_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "burst.sh: needs root (a network namespace)" >&2; exit 77; }
	BURST_IN_NS=1 exec unshare -n "$0" "$@"
fi
trials=${1:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
BACKLOGD=$build/backlogd
BACKLOGCTL=$build/backlogctl
TCPLOAD=$build/tests/tools/tcpload
for f in "$BACKLOGD" "$BACKLOGCTL" "$TCPLOAD"; do
	[ -x "$f" ] || { echo "burst.sh: $f is not built (make, make check)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "burst.sh: jq is not installed" >&2; exit 1; }
ip link set lo up
work=$(mktemp -d /tmp/backlogd-burst.XXXXXX)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$work"' EXIT

# one_trial FAST PORT: 1 when the listener's full queue (17) was seen.
one_trial() {
	local fast=$1 port=$2 d l bg peak
	printf '[daemon]\nfast_interval = %s\n' "$fast" >"$work/conf"
	"$BACKLOGD" -N -i 1 -S "$work/s" -f "$work/conf" >/dev/null 2>&1 &
	d=$!
	# A server that takes its queue every 300 ms (backlog 16) under a steady
	# 50 connections/s: its queue climbs to about 15 and empties, so it is hot
	# but never full...
	"$TCPLOAD" listen 127.0.0.1 "$port" 16 --drain-every-ms 300 --lifetime 30 >/dev/null 2>&1 &
	l=$!
	sleep 0.3
	"$TCPLOAD" connect 127.0.0.1 "$port" 600 --interval-ms 20 --timeout-ms 200 >/dev/null 2>&1 &
	bg=$!
	sleep 4
	# ...until a burst of 24 within 200 ms fills it, and the next batch empties it.
	"$TCPLOAD" connect 127.0.0.1 "$port" 24 --interval-ms 8 --timeout-ms 100 >/dev/null 2>&1
	sleep 2.5
	peak=$("$BACKLOGCTL" -S "$work/s" --json listeners 2>/dev/null |
		jq ".[] | select(.port == $port) | .peak_queue")
	kill "$bg" "$l" 2>/dev/null
	kill "$d"
	wait "$d" "$bg" "$l" 2>/dev/null
	[ "${peak:-0}" -ge 17 ] && echo 1 || echo 0
}

on=0
off=0
port=7100
for t in $(seq "$trials"); do
	on=$((on + $(one_trial 0.1 $port)))
	port=$((port + 1))
	off=$((off + $(one_trial 0 $port)))
	port=$((port + 1))
done
echo "| sampling | bursts whose full queue was seen |"
echo "|---|---|"
echo "| 1 s tick + fast samples every 100 ms while hot | $on of $trials |"
echo "| 1 s tick alone | $off of $trials |"
