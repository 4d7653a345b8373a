#!/bin/bash
# ephemeral-ports.sh: a client uses up a 64-port range towards one destination; backlogd must say ephemeral-ports on it.
# The client holds its connections until connect() fails with EADDRNOTAVAIL; no kernel counter moves for that,
# so the finding must come from the deep tier's sockets per destination against ip_local_port_range.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo sysctl ss
enter_ns "-n"
setup_work
sysctl -q -w net.ipv4.ip_local_port_range="40000 40063" || fail "cannot set ip_local_port_range in the namespace"
RANGE=64

PORT=5000
# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
# The server keeps every connection open until the client closes (no FIN of its own).
start_listener srv 127.0.0.1 $PORT 128 --accept --wait-eof
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'

"$TCPLOAD" connect 127.0.0.1 $PORT 100 --timeout-ms 1000 --hold-ms 20000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_for 50 "client summary" grep -q '^connected=' "$WORK/client.log"
cat "$WORK/client.log"
grep -q "^connected=$RANGE " "$WORK/client.log" || fail "expected $RANGE connections, one per port of the range"
grep -Eq 'addrnotavail=[1-9]' "$WORK/client.log" || fail "connect() never failed with EADDRNOTAVAIL"
held=$(ss -Htn state established "( dst 127.0.0.1:$PORT )" | wc -l)
[ "$held" -eq $RANGE ] || fail "$held client sockets towards 127.0.0.1:$PORT, expected $RANGE"

filter='.findings[] | select(.cause == "ephemeral-ports" and .listener == "127.0.0.1:'$PORT'")'
wait_finding "ephemeral-ports finding" "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "destination"' "$WORK/status.json" >/dev/null ||
	fail "ephemeral-ports finding wrong: $(jq -c "$filter" "$WORK/status.json")"
# Evidence: the sockets towards the destination, and the size of the range.
jq -e "$filter"' | .evidence | .sockets == '$RANGE' and .established == '$RANGE' and .port_range_size == '$RANGE \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold $RANGE sockets and a range of $RANGE: $(jq -c "$filter | .evidence" "$WORK/status.json")"
finding_text_ok "$WORK/status.json" "$filter" 'EADDRNOTAVAIL' net.ipv4.ip_local_port_range
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
# One destination ran out; the server's own sockets (one remote port each) are no destination to report.
jq -e '[.findings[] | select(.role == "cause") | {cause, listener}] == [{"cause": "ephemeral-ports", "listener": "127.0.0.1:'$PORT'"}]' \
	"$WORK/status.json" >/dev/null ||
	fail "ephemeral-ports on 127.0.0.1:$PORT should be the one primary cause: $(jq -c '[.findings[] | {cause, listener, role, explained_by}]' "$WORK/status.json")"
stop_daemon
# The one-shot diagnose, without the daemon, sees the same while the client still holds the range:
# its two ticks are fewer than the daemon's wait for this signal, so its last tick must run the deep tier.
note "one-shot diagnose"
"$BACKLOGCTL" --json diagnose --interval 0.5 >"$WORK/diag.json" 2>"$WORK/diag.err"
rc=$?
[ $rc -eq 1 ] || fail "diagnose exited $rc, expected 1 (findings): $(cat "$WORK/diag.err")"
jq -e "$filter"' | .evidence.sockets == '$RANGE "$WORK/diag.json" >/dev/null ||
	fail "one-shot diagnose missed ephemeral-ports: $(jq -c '[.findings[] | {cause, listener}]' "$WORK/diag.json")"
echo "PASS: ephemeral-ports towards 127.0.0.1:$PORT ($RANGE of $RANGE ports)"
