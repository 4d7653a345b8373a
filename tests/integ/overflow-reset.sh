#!/bin/bash
# overflow-reset.sh: with net.ipv4.tcp_abort_on_overflow=1 in the namespace, an
# accept-queue overflow makes the kernel reset the clients. The clients must
# really get ECONNRESET, and backlogd must report overflow-reset on that
# listener, with the underlying cause and a remedy naming the sysctl.
. "$(dirname "$0")/lib.sh"
require_tools jq ip sysctl
enter_ns "-n"
setup_work
sysctl -q -w net.ipv4.tcp_abort_on_overflow=1 || fail "cannot set tcp_abort_on_overflow in the namespace"

start_daemon
# tcpload's defer-storm listens itself (backlog 4, TCP_DEFER_ACCEPT) and drives
# requests that complete into a full accept queue: see tests/tools/tcpload.c.
"$TCPLOAD" defer-storm 127.0.0.1 6000 4 --timeout-ms 1000 --hold-ms 4000 \
	--ready "$WORK/storm.ready" >"$WORK/storm.log" 2>&1 &
storm=$!
PIDS="$PIDS $storm"
wait_for 50 "storm listener ready" test -s "$WORK/storm.ready"
storm_pid=$(sed -n 's/^ready //p' "$WORK/storm.ready")

filter='.findings[] | select(.cause == "overflow-reset" and .listener == "127.0.0.1:6000")'
wait_for 60 "overflow-reset finding" jq_status "$filter"
status_json >"$WORK/status.json"
wait "$storm"
cat "$WORK/storm.log"
grep -Eq 'reset=[1-9]' "$WORK/storm.log" || fail "clients did not get ECONNRESET: $(cat "$WORK/storm.log")"

jq -e "$filter"' | .pid == '"$storm_pid"' and .severity == "err" and
	(.underlying | IN("backlog-small", "slow-accept")) and
	(.message | contains("ECONNRESET")) and (.message | contains("EmbryonicRsts")) and
	(.evidence | has("overflow_resets") and has("overflow_syn_drops")) and
	(.remedy | contains("net.ipv4.tcp_abort_on_overflow")) and
	.knob.name == "net.ipv4.tcp_abort_on_overflow" and .knob.current == 1 and .knob.suggested == 0' \
	"$WORK/status.json" >/dev/null || fail "overflow-reset finding wrong: $(jq -c '.findings' "$WORK/status.json")"
# Resets and dropped SYNs in proportion, from the counters (unit-tested in test_verdict).
jq -r "$filter | .message" "$WORK/status.json"
jq -e '.limits.tcp_abort_on_overflow == 1' "$WORK/status.json" >/dev/null || fail "limit not shown as 1"
# The same overflow must not also be reported as a timeout-giving cause.
jq -e '[.findings[] | select(.listener == "127.0.0.1:6000" and .cause != "overflow-reset")] | length == 0' \
	"$WORK/status.json" >/dev/null || fail "also reported another cause"
stop_daemon
echo "PASS: overflow-reset, and the clients saw ECONNRESET"
