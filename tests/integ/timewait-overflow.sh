#!/bin/bash
# timewait-overflow.sh: tcp_max_tw_buckets=16 and short client-closed connections; backlogd must say timewait-overflow.
# TCPTimeWaitOverflow moves (no log line exists for it); the finding is the host's, its remedy tcp_max_tw_buckets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo sysctl nstat ss
enter_ns "-n"
setup_work
sysctl -q -w net.ipv4.tcp_max_tw_buckets=16 || fail "cannot set tcp_max_tw_buckets in the namespace"

PORT=7106
# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
# The server waits for the client's EOF before it closes: the client closes
# first, so TIME_WAIT lands on the client's side, as with a busy HTTP client.
start_listener srv 127.0.0.1 $PORT 128 --accept --wait-eof
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'

for round in 1 2 3; do
	"$TCPLOAD" connect 127.0.0.1 $PORT 100 --timeout-ms 1000 >"$WORK/client.log" 2>&1
	grep -q '^connected=100 ' "$WORK/client.log" || fail "round $round: $(cat "$WORK/client.log")"
done
sleep 0.5
tw=$(ss -Htn state time-wait | wc -l)
tw_client=$(ss -Htn state time-wait "( dport = :$PORT )" | wc -l)
note "TIME_WAIT: $tw, of them client side: $tw_client"
[ "$tw" -le 16 ] || fail "$tw TIME_WAIT sockets, more than tcp_max_tw_buckets"
[ "$tw_client" -ge 1 ] || fail "no TIME_WAIT on the client side"
overflows=$(counter TcpExtTCPTimeWaitOverflow)
[ "$overflows" -gt 0 ] || fail "TCPTimeWaitOverflow did not move"

filter='.findings[] | select(.cause == "timewait-overflow" and .listener == "host")'
wait_finding "timewait-overflow finding" "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "host"' "$WORK/status.json" >/dev/null ||
	fail "timewait-overflow finding wrong: $(jq -c "$filter" "$WORK/status.json")"
# What the peers see: the port pair reused early, with TIME_WAIT skipped.
finding_text_ok "$WORK/status.json" "$filter" 'reuse' net.ipv4.tcp_max_tw_buckets
jq -e "$filter"' | .knob.current == 16 and .knob.suggested > 16' "$WORK/status.json" >/dev/null ||
	fail "knob should be tcp_max_tw_buckets 16 -> more: $(jq -c "$filter | .knob" "$WORK/status.json")"
jq -e "$filter"' | .evidence | .tw_overflow > 0 and .tcp_max_tw_buckets == 16' "$WORK/status.json" >/dev/null ||
	fail "no overflow count in the evidence: $(jq -c "$filter | .evidence" "$WORK/status.json")"
# The short connections were all served, and 16 TIME_WAIT sockets use no
# port range up: timewait-overflow is the only finding.
jq -e '[.findings[] | .cause] == ["timewait-overflow"]' "$WORK/status.json" >/dev/null ||
	fail "timewait-overflow should be the only finding: $(jq -c '[.findings[] | {cause, listener, role}]' "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
stop_daemon
echo "PASS: timewait-overflow ($overflows TIME_WAIT sockets not kept)"
