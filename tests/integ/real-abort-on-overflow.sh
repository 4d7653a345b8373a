#!/bin/bash
# real-abort-on-overflow.sh: net.ipv4.tcp_abort_on_overflow=1 in the namespace, redis-server (`tcp-backlog 8`) stopped while clients keep connecting: most clients time out (their SYNs are dropped), few or none get a reset. backlogd must state how many of each the counters show, not "clients got ECONNRESET at once".
# Issue 10 point 7: with abort_on_overflow only the connections whose final
# ACK hit the full queue are reset; a SYN that meets a full queue is dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep sysctl nstat
require_real redis-server
real_enter
sysctl -q -w net.ipv4.tcp_abort_on_overflow=1 || fail "cannot set tcp_abort_on_overflow in the namespace"

PORT=7209
L="127.0.0.1:$PORT"
start_daemon
redis-server --port $PORT --bind 127.0.0.1 --tcp-backlog 8 --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/redis.log" &
redis=$!
PIDS="$PIDS $redis"
wait_port $PORT redis-server
wait_for 50 "daemon sees redis's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"

kill -STOP "$redis"
"$TCPLOAD" connect 127.0.0.1 $PORT 150 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_for 100 "a finding on $L" jq_status '.findings[] | select(.listener == "'"$L"'" and .state == "active")'
record_for 3
wait "$client"
cat "$WORK/client.log"
timeouts=$(sed -n 's/.*timeout=\([0-9]*\).*/\1/p' "$WORK/client.log")
resets=$(sed -n 's/.*reset=\([0-9]*\).*/\1/p' "$WORK/client.log")
note "clients: $timeouts timed out (SYN dropped), $resets reset; ListenOverflows $(counter TcpExtListenOverflows), TCPAbortOnData $(counter TcpExtTCPAbortOnData)"
[ "${timeouts:-0}" -gt "${resets:-0}" ] || fail "expected most clients to time out, not be reset: $(cat "$WORK/client.log")"
snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
jq -c '[.findings[] | select(.listener == "'"$L"'" and .state == "active")] | sort_by(.first_seen) | last' \
	"$WORK/status.json" >"$WORK/f.json"
note "finding: $(jq -c '{cause, underlying, message, evidence}' "$WORK/f.json")"
ever_finding "$L" '.message | test("clients got ECONNRESET at once")' &&
	bad "with abort_on_overflow most clients timed out ($timeouts), not reset ($resets): no finding may say they all got ECONNRESET at once: $(jq -c '.message' "$WORK/f.json")"
# The two numbers, in the message or as evidence (a count, not -1 for
# unknown), in some tick that saw overflows: SYNs dropped, and resets.
counts='def cnt(re): [.evidence | to_entries[] | select(.key | test(re; "i")) | .value | numbers] | max // -1;'
ever_finding "$L" "$counts"'
	((.message | test("[0-9]+ [a-z ()]{0,30}SYNs?"; "i")) or cnt("syn") >= 0) and
	((.message | test("[0-9]+ [a-z ()]{0,30}(resets?|RSTs?)\\b"; "i")) or cnt("rst|reset") >= 0)' ||
	bad "the finding should count dropped SYNs and resets (in no recorded tick): $(jq -c '{message, evidence}' "$WORK/f.json")"
ever_finding "$L" "$counts"' cnt("syn") > cnt("rst|reset")' ||
	note "no tick's evidence shows more dropped SYNs than resets as numbers"
kill -CONT "$redis"
real_done "abort_on_overflow counts on $L"
