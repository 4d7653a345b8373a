#!/bin/bash
# backlog-clamped.sh: somaxconn lowered to 8 in the namespace, the listener asks
# for 128: backlogd must report backlog-clamped with a remedy naming
# net.core.somaxconn=8. It drains its queue every 0.8 s: a clamped backlog, not a stall.
. "$(dirname "$0")/lib.sh"
require_tools jq ip sysctl
enter_ns "-n"
setup_work
sysctl -q -w net.core.somaxconn=8 || fail "cannot set somaxconn in the namespace"

start_daemon
start_listener srv 127.0.0.1 9090 128 --drain-every-ms 800
wait_for 30 "daemon sees the clamped listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:9090" and .backlog == 8)'

"$TCPLOAD" connect 127.0.0.1 9090 30 --timeout-ms 300 >"$WORK/client.log" 2>&1
cat "$WORK/client.log"

filter='.findings[] | select(.cause == "backlog-clamped" and .listener == "127.0.0.1:9090" and .pid == '"$srv_PID"')'
wait_for 40 "backlog-clamped finding" jq_status "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | (.remedy | contains("net.core.somaxconn=8")) and .knob.name == "net.core.somaxconn"
	and .knob.current == 8 and .knob.suggested > 8 and .evidence.somaxconn == 8' "$WORK/status.json" >/dev/null ||
	fail "remedy does not name net.core.somaxconn=8: $(jq -c '.findings' "$WORK/status.json")"
jq -e '.limits.somaxconn == 8' "$WORK/status.json" >/dev/null || fail "limits.somaxconn is not 8"
# Not mistaken for a small application backlog.
jq -e '[.findings[] | select(.cause == "backlog-small")] | length == 0' "$WORK/status.json" >/dev/null ||
	fail "also reported backlog-small"
stop_daemon
echo "PASS: backlog-clamped with net.core.somaxconn=8"
