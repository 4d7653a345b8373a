#!/bin/bash
# listener-gap.sh: a listener restarted with a 2 s gap refuses clients; backlogd must say listener-gap with the gap and the new pid.
# The client connects every 100 ms across the gap and must really get ECONNREFUSED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo
enter_ns "-n"
setup_work

PORT=7103
GAP_SECS=2
# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
start_listener old 127.0.0.1 $PORT 128 --accept
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'

# One connect every 100 ms for 6 s: before, during and after the gap.
"$TCPLOAD" connect 127.0.0.1 $PORT 60 --interval-ms 100 --timeout-ms 500 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
sleep 1
# The restart: the old process goes, its socket with it; the new one binds later.
kill "$old_PID"
wait "$old_PID" 2>/dev/null
sleep $GAP_SECS
start_listener new 127.0.0.1 $PORT 128 --accept
wait "$client"
cat "$WORK/client.log"
grep -Eq 'refused=[1-9]' "$WORK/client.log" || fail "no client got ECONNREFUSED during the gap"
grep -Eq '^connected=[1-9]' "$WORK/client.log" || fail "no client connected: the listener was never there"

filter='.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$PORT'")'
wait_finding "listener-gap finding" "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | .scope == "listener" and .pid == '"$new_PID" "$WORK/status.json" >/dev/null ||
	fail "listener-gap should name the new pid $new_PID: $(jq -c "$filter" "$WORK/status.json")"
# The gap length, in the evidence: about GAP_SECS, give or take the tick and the process start.
jq -e "$filter"' | .evidence | .gap_ms >= 1000 * ('$GAP_SECS' - 1) and .gap_ms <= 1000 * ('$GAP_SECS' + 2) and
	.old_pid == '"$old_PID"' and .new_pid == '"$new_PID"' and .out_rsts > 0' \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold a gap of about ${GAP_SECS}000 ms, pids $old_PID -> $new_PID, resets: $(jq -c "$filter | .evidence" "$WORK/status.json")"
jq -e "$filter"' | (.message | test("refused|ECONNREFUSED")) and (.remedy | test("socket activation|SO_REUSEPORT"))' \
	"$WORK/status.json" >/dev/null ||
	fail "listener-gap text wrong: $(jq -c "$filter"' | {message, remedy, knob}' "$WORK/status.json")"
# The old owner was not stuck: no accept-queue cause on this address.
jq -e '[.findings[] | select(.listener == "127.0.0.1:'$PORT'" and .cause != "listener-gap")] | length == 0' \
	"$WORK/status.json" >/dev/null || fail "another cause too: $(jq -c '[.findings[] | {cause, listener}]' "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
stop_daemon
echo "PASS: listener-gap on 127.0.0.1:$PORT, new pid $new_PID"
