#!/bin/bash
# adaptive.sh: a listener above half its backlog is sampled every fast_interval
# between ticks, so a burst that fills its queue and drains before the next
# 1 s tick is still seen full; a cool listener costs no extra dump.
. "$(dirname "$0")/lib.sh"
require_tools jq ip
enter_ns "-n"
setup_work

printf '[daemon]\nfast_interval = 0.05\n' >"$WORK/backlogd.conf"
"$BACKLOGD" -N -d -i 1 -S "$SOCK" -f "$WORK/backlogd.conf" >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 50 "backlogd answers" ctl_ping

# A cool listener: no fast dumps at all.
start_listener cool 127.0.0.1 7001 64 --accept
wait_ticks 2
[ "$(status_json | jq .daemon.fast_dumps)" -eq 0 ] || fail "fast dumps without a hot listener"

# A server that takes its queue in batches every 2.5 s (backlog 16): 9 waiting
# connections make it hot at a tick; a burst of 24 within 200 ms then fills it
# (17) until the next batch. (bench/burst.sh measures how often a 1 s tick
# alone misses such a burst; here the point is that the fast samples see it.)
start_listener batch 127.0.0.1 7002 16 --drain-every-ms 2500
wait_for 30 "daemon sees the batch listener" jq_status '.listeners[] | select(.port == 7002)'
"$TCPLOAD" connect 127.0.0.1 7002 9 --timeout-ms 100 >/dev/null 2>&1
wait_for 30 "the listener turns hot" jq_status '.listeners[] | select(.port == 7002 and .hot)'
"$TCPLOAD" connect 127.0.0.1 7002 24 --interval-ms 8 --timeout-ms 100 >"$WORK/burst.log" 2>&1
wait_ticks 2
status_json >"$WORK/status.json"
jq -c '.daemon | {fast_interval_ms, fast_dumps, fast_full}' "$WORK/status.json"
jq -c '.listeners[] | select(.port == 7002) | {queue, backlog, peak_queue, drops, hot}' "$WORK/status.json"
jq -e '.daemon.fast_dumps > 0' "$WORK/status.json" >/dev/null || fail "the hot listener was not sampled between ticks"
jq -e '.listeners[] | select(.port == 7002) | .peak_queue == 17' "$WORK/status.json" >/dev/null ||
	fail "the burst's full queue (17) was not seen"
stop_daemon
echo "PASS: hot listener sampled every 50 ms; the burst's full queue seen"
