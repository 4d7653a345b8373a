#!/bin/bash
# reuseport-imbalance.sh: one stuck member of an SO_REUSEPORT group overflows; backlogd must say so with the stuck pid.
# The other member accepts and keeps room, so only a per-socket view with its owner tells them apart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo ss
enter_ns "-n"
setup_work

PORT=7104
BACKLOG=16
# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
start_listener good 127.0.0.1 $PORT $BACKLOG --reuseport --accept
start_listener stuck 127.0.0.1 $PORT $BACKLOG --reuseport
wait_for 30 "daemon sees both members" \
	jq_status '([.listeners[] | select(.listener == "127.0.0.1:'$PORT'")] | length) == 2'

# Paced (one connect every 10 ms): the accepting member keeps up, so only the
# stuck one overflows. The kernel picks the member by a hash of the 4-tuple.
"$TCPLOAD" connect 127.0.0.1 $PORT 100 --interval-ms 10 --timeout-ms 500 >"$WORK/client.log" 2>&1
cat "$WORK/client.log"
grep -Eq 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the stuck member never overflowed"
connected=$(sed -n 's/^connected=\([0-9]*\) .*/\1/p' "$WORK/client.log")
[ "$connected" -gt $((BACKLOG + 1)) ] || fail "only $connected connected: the accepting member took none"
ss -Hltnp "( sport = :$PORT )"

filter='.findings[] | select(.cause == "reuseport-imbalance" and .listener == "127.0.0.1:'$PORT'")'
wait_finding "reuseport-imbalance finding" "$filter"
status_json >"$WORK/status.json"
jq -e '.listeners[] | select(.listener == "127.0.0.1:'$PORT'" and (.processes | map(.pid) | index('"$stuck_PID"') != null)) |
	.queue == '$((BACKLOG + 1))' and .drops > 0' "$WORK/status.json" >/dev/null ||
	fail "stuck member's row: $(jq -c '.listeners' "$WORK/status.json")"
jq -e '.listeners[] | select(.listener == "127.0.0.1:'$PORT'" and (.processes | map(.pid) | index('"$good_PID"') != null)) |
	.queue == 0 and .drops == 0' "$WORK/status.json" >/dev/null ||
	fail "accepting member's row: $(jq -c '.listeners' "$WORK/status.json")"
jq -e "[$filter] | length == 1" "$WORK/status.json" >/dev/null ||
	fail "expected one reuseport-imbalance finding: $(jq -c "[$filter]" "$WORK/status.json")"
jq -e "$filter"' | .scope == "listener" and .pid == '"$stuck_PID"' and .role == "cause" and
	.evidence.stuck_pid == '"$stuck_PID"' and .evidence.members == 2 and
	(.message | test("time"; "i")) and ((.message + .remedy) | contains("'"$stuck_PID"'"))' \
	"$WORK/status.json" >/dev/null ||
	fail "reuseport-imbalance should name the stuck pid $stuck_PID (not $good_PID): $(jq -c "$filter" "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
# The stuck member's overflow is explained by the imbalance; nothing else is a cause.
jq -e '[.findings[] | select(.role == "cause") | .cause] == ["reuseport-imbalance"]' "$WORK/status.json" >/dev/null ||
	fail "reuseport-imbalance should be the one primary cause: $(jq -c '[.findings[] | {cause, listener, pid, role, explained_by}]' "$WORK/status.json")"
stop_daemon
echo "PASS: reuseport-imbalance on 127.0.0.1:$PORT, stuck pid $stuck_PID"
