#!/bin/bash
# healthy.sh: a busy listener that accepts everything raises no finding.
. "$(dirname "$0")/lib.sh"
require_tools jq ip
enter_ns "-n"
setup_work

start_daemon
start_listener srv 127.0.0.1 7070 1024 --accept
start_listener srv6 ::1 7070 1024 --accept
wait_for 30 "daemon sees both listeners" \
	jq_status '([.listeners[] | select(.port == 7070)] | length) == 2'

# Bounded: 4 rounds of 200 connects.
for round in 1 2 3 4; do
	"$TCPLOAD" connect 127.0.0.1 7070 200 --timeout-ms 1000 >"$WORK/client4.log" 2>&1
	grep -q 'connected=200 ' "$WORK/client4.log" || fail "v4 round $round: $(cat "$WORK/client4.log")"
	"$TCPLOAD" connect ::1 7070 200 --timeout-ms 1000 >"$WORK/client6.log" 2>&1
	grep -q 'connected=200 ' "$WORK/client6.log" || fail "v6 round $round: $(cat "$WORK/client6.log")"
done
# Let three more ticks look at what the load did.
wait_ticks 3

status_json >"$WORK/status.json"
jq -e '.findings | length == 0' "$WORK/status.json" >/dev/null ||
	fail "healthy load raised: $(jq -c '.findings' "$WORK/status.json")"
jq -e '[.listeners[] | select(.port == 7070) | .drops] | all(. == 0)' "$WORK/status.json" >/dev/null ||
	fail "a healthy listener shows drops"
jq -e '.listeners[] | select(.listener == "[::1]:7070" and .address == "::1" and .family == "ipv6")' \
	"$WORK/status.json" >/dev/null || fail "IPv6 listener not shown as [::1]:7070"
"$BACKLOGCTL" -S "$SOCK" findings | grep -q 'No findings' || fail "human findings not empty"
stop_daemon
echo "PASS: healthy busy listeners, no finding"
