#!/bin/bash
# backlog-small.sh: a listener with backlog 2 that accepts its queue in
# batches (every 0.8 s: it drains), 20 connects: backlogd must name that exact
# address:port, its pid, and backlog-small, in `backlogctl status --json`
# within 3 ticks, and keep it so: a draining queue is no stall. (One that
# never accepts is slow-accept: stall.sh.)
. "$(dirname "$0")/lib.sh"
require_tools jq ip
enter_ns "-n"
setup_work

start_daemon
start_listener srv 127.0.0.1 8080 2 --drain-every-ms 800
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:8080" and .backlog == 2)'

ticks_before=$(daemon_ticks)
"$TCPLOAD" connect 127.0.0.1 8080 20 --timeout-ms 300 >"$WORK/client.log" 2>&1
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "clients did not time out: the queue never overflowed"

# Within 3 ticks of the drops.
filter='.findings[] | select(.cause == "backlog-small" and .listener == "127.0.0.1:8080"
	and .state == "active" and .pid == '"$srv_PID"')'
found=""
for i in $(seq 40); do
	if jq_status "$filter"; then found=1; break; fi
	sleep 0.1
done
[ -n "$found" ] || fail "no backlog-small finding for 127.0.0.1:8080 pid $srv_PID"
ticks_after=$(daemon_ticks)
[ $((ticks_after - ticks_before)) -le 4 ] ||
	fail "finding took $((ticks_after - ticks_before)) ticks (allowed: the connect run plus 3)"

status_json >"$WORK/status.json"
# The server may have drained its queue before a sample saw it full: the peak is at most backlog + 1.
jq -e '.listeners[] | select(.listener == "127.0.0.1:8080") |
	.address == "127.0.0.1" and .port == 8080 and .family == "ipv4" and
	.backlog == 2 and .peak_queue <= 3 and .drops > 0 and
	(.processes | map(.pid) | index('"$srv_PID"') != null)' "$WORK/status.json" >/dev/null ||
	fail "listener row is wrong: $(jq -c '.listeners' "$WORK/status.json")"
jq -e "$filter"' | (.message | test("time")) and (.remedy | test("backlog"))
	and .severity == "warning"' "$WORK/status.json" >/dev/null ||
	fail "finding text is wrong: $(jq -c '.findings' "$WORK/status.json")"
jq -e '.limits.somaxconn == 4096 and .limits.tcp_abort_on_overflow == 0' "$WORK/status.json" >/dev/null ||
	fail "limits wrong: $(jq -c '.limits' "$WORK/status.json")"

# The human table names it too.
"$BACKLOGCTL" -S "$SOCK" status >"$WORK/status.txt" || fail "backlogctl status failed"
cat "$WORK/status.txt"
grep -q '127.0.0.1:8080' "$WORK/status.txt" || fail "human status lacks the listener"
grep -q 'backlog-small' "$WORK/status.txt" || fail "human status lacks the finding"
# In the foreground the alert is echoed to stderr with its sd-daemon priority, once.
wait_ticks 4
n=$(grep -c '^<4>backlogd: backlog-small on 127.0.0.1:8080' "$WORK/backlogd.log")
[ "$n" -eq 1 ] || fail "expected one <4> alert line on stderr, got $n"
# The queue drained: still backlog-small, never revised to slow-accept.
jq_status '[.findings[] | select(.listener == "127.0.0.1:8080")] |
	length == 1 and .[0].cause == "backlog-small" and .[0].revised_from == null' ||
	fail "the draining listener's finding changed: $(status_json | jq -c '.findings')"
grep -q "on 127.0.0.1:8080.*(revised from" "$WORK/backlogd.log" && fail "the finding was revised"
stop_daemon
echo "PASS: backlog-small on 127.0.0.1:8080 pid $srv_PID"
