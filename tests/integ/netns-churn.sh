#!/bin/bash
# netns-churn.sh: 100 namespaces created and deleted while backlogd rescans every tick: no error, no fd, thread or memory leak, and only the daemon's own namespace left at the end.
. "$(dirname "$0")/lib.sh"
require_tools jq ip
# A PID namespace (and its /proc): backlogd must see only this test's
# namespaces, so that "only host is left" is something it can be held to.
enter_ns "-n -m -p -f --mount-proc"
setup_work
# start_daemon passes -N unless told: this test is about following namespaces.
SCAN_NAMESPACES=1

private_run_netns

CYCLES=100
TIME_LIMIT=150		# seconds for all the cycles; about 0.3 s each is expected
TICK=0.1
printf "[daemon]\nnamespace_scan = 1\n" >"$WORK/backlogd.conf"
start_daemon -f "$WORK/backlogd.conf"

fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status"; }
threads() { awk '$1 == "Threads:" { print $2 }' "/proc/$DAEMON_PID/status"; }

# cycle N: namespace cN with a listener for a moment, then gone. Every fifth
# namespace is deleted while its listener still runs: it lives on, found
# through the process rather than /run/netns, and goes only when the process
# does. Every tenth cycle waits until the daemon lists it, so the cycles are
# known to be seen, not only survived.
cycle() {
	local n=c$1 pid
	ip netns add "$n" || fail "ip netns add $n failed"
	ip netns exec "$n" ip link set lo up || fail "cannot bring lo up in $n"
	rm -f "$WORK/l.ready"
	ip netns exec "$n" "$TCPLOAD" listen 127.0.0.1 8000 16 --ready "$WORK/l.ready" --lifetime 20 \
		>"$WORK/l.log" 2>&1 &
	pid=$!
	wait_for 50 "listener in $n" test -s "$WORK/l.ready"
	if [ $(($1 % 10)) -eq 0 ]; then
		wait_for 30 "daemon lists $n and its listener" jq_status '
			(.namespaces | map(.name) | index("'"$n"'") != null) and
			([.listeners[] | select(.netns.name == "'"$n"'" and .listener == "127.0.0.1:8000")] | length == 1)'
	else
		sleep 0.2
	fi
	if [ $(($1 % 5)) -eq 0 ]; then
		ip netns del "$n" || fail "ip netns del $n failed"
		sleep 0.2
		kill "$pid"
		wait "$pid"
	else
		kill "$pid"
		wait "$pid"
		ip netns del "$n" || fail "ip netns del $n failed"
	fi
}

# Warm up: the first namespaces make the worker's first allocations (its
# malloc arena, buffers); the baseline is taken after them.
for i in 1 2 3; do cycle "$i"; done
wait_for 30 "only host is left after the warm-up" jq_status '.namespaces | length == 1'
wait_ticks 5
base_fds=$(fds)
base_rss=$(rss_kb)
base_threads=$(threads)
base_lines=$(wc -l <"$WORK/backlogd.log")
note "baseline: $base_fds fds, VmRSS $base_rss kB, $base_threads threads"

start=$SECONDS
for i in $(seq 4 $((CYCLES + 3))); do
	cycle "$i"
	[ $((SECONDS - start)) -le $TIME_LIMIT ] || fail "cycle $i: over $TIME_LIMIT s"
done
note "$CYCLES cycles in $((SECONDS - start)) s"

# Every namespace is gone: within a few scans (one per tick) only host is left.
wait_for 30 "only host is left" jq_status '.namespaces | length == 1'
wait_ticks 5
status_json >"$WORK/status.json" || fail "backlogd stopped answering"
jq -e '.namespaces | length == 1 and .[0].name == "host" and .[0].kind == "host"' "$WORK/status.json" >/dev/null ||
	fail "namespaces left: $(jq -c '.namespaces' "$WORK/status.json")"
jq -e '[.listeners[] | select(.netns.name != "host")] | length == 0' "$WORK/status.json" >/dev/null ||
	fail "listeners of deleted namespaces: $(jq -c '[.listeners[] | {listener, netns}]' "$WORK/status.json")"

now_fds=$(fds)
now_rss=$(rss_kb)
now_threads=$(threads)
note "after: $now_fds fds (baseline $base_fds), VmRSS $now_rss kB (baseline $base_rss kB), $now_threads threads (baseline $base_threads)"
# +-2: a control connection may be open at the moment of counting.
[ $((now_fds - base_fds)) -le 2 ] && [ $((base_fds - now_fds)) -le 2 ] ||
	fail "fd count $now_fds, baseline $base_fds: $(ls -l "/proc/$DAEMON_PID/fd" | tail -n +2 | awk '{ print $NF }' | sort | uniq -c | sort -rn | head)"
[ "$now_threads" -eq "$base_threads" ] || fail "threads $now_threads, baseline $base_threads"
# Under ASan freed memory sits in its quarantine (up to 256 MiB), so RSS
# says nothing there; LeakSanitizer at stop_daemon checks for leaks instead.
if grep -q __asan_init "$BACKLOGD"; then
	note "sanitizer build: VmRSS not bounded, LeakSanitizer checks at exit"
else
	[ $((now_rss - base_rss)) -le 2048 ] || fail "VmRSS grew by $((now_rss - base_rss)) kB over $CYCLES namespaces"
fi

# Namespaces that vanish between a scan and its use are normal: no warning.
# Alerts ("<N>backlogd: [cN] listener-gap ...": a killed listener is a real
# gap) are findings, not complaints of the daemon's, and are left out.
tail -n +"$((base_lines + 1))" "$WORK/backlogd.log" | grep -v '^<[0-7]>' >"$WORK/cycles.log"
if grep -iE 'cannot|fail|error|warn|invalid|leak' "$WORK/cycles.log" >"$WORK/bad.log"; then
	fail "warnings during the cycles: $(head -5 "$WORK/bad.log")"
fi
ctl_ping || fail "backlogd stopped answering"
stop_daemon
echo "PASS: $CYCLES namespaces came and went; fds $base_fds -> $now_fds, VmRSS $base_rss -> $now_rss kB"
