#!/bin/bash
# syn-queue-drop.sh: tcp_syncookies=0 and a full SYN queue drop SYNs; backlogd must say syn-queue-drop on that listener, and not when the drops were accept-queue overflows.
# The listener accepts at once, but with TCP_DEFER_ACCEPT the clients'
# bare ACKs are dropped, so their requests stay in SYN_RECV: backlog + 1 of
# them fill the SYN queue (KERNEL.md, "SYN queue") and every later SYN is
# dropped while the accept queue stays empty. Those clients time out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip sysctl nstat ss
enter_ns "-n"
setup_work
sysctl -q -w net.ipv4.tcp_syncookies=0 || fail "cannot set tcp_syncookies in the namespace"

PORT=7101
BACKLOG=4
start_daemon

# First the look-alike: with cookies off, a listener that accepts in batches
# overflows its accept queue, and the requests whose final ACK met the full
# queue stay in SYN_RECV and fill its SYN queue too (TCPReqQFullDrop moves).
# Those drops are the accept queue's: no syn-queue-drop, no advice to turn
# cookies on, at any tick.
BATCH=7105
start_listener batch 127.0.0.1 $BATCH $BACKLOG --drain-every-ms 300
wait_for 30 "daemon sees the batch listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:'$BATCH'")'
"$TCPLOAD" connect 127.0.0.1 $BATCH 300 --timeout-ms 3000 --interval-ms 2 >"$WORK/batch.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
no_syn_queue_blame() {
	jq -e '[.findings[] | select(.cause == "syn-queue-drop" or (.remedy | test("tcp_syncookies")))] | length == 0' "$1" >/dev/null ||
		fail "accept-queue overflows blamed on the SYN queue: $(jq -c '[.findings[] | {cause, listener, role, message, remedy}]' "$1")"
}
i=0
while kill -0 $client 2>/dev/null && [ $i -lt 60 ]; do
	status_json >"$WORK/batch-status.json" 2>/dev/null && no_syn_queue_blame "$WORK/batch-status.json"
	sleep 0.1
	i=$((i + 1))
done
wait $client
cat "$WORK/batch.log"
overflows=$(counter TcpExtListenOverflows)
note "batch: ListenOverflows $overflows, ListenDrops $(counter TcpExtListenDrops), TCPReqQFullDrop $(counter TcpExtTCPReqQFullDrop)"
[ "$overflows" -gt 0 ] || fail "the batch listener never overflowed"
[ "$(counter TcpExtTCPReqQFullDrop)" -gt 0 ] || note "no SYN-queue drop this run: only the overflows were checked"
wait_finding "the batch listener's accept-queue finding" \
	'.findings[] | select(.listener == "127.0.0.1:'$BATCH'" and .role == "cause")'
wait_ticks 2
status_json >"$WORK/batch-status.json"
no_syn_queue_blame "$WORK/batch-status.json"
kill "$batch_PID" 2>/dev/null
wait "$batch_PID" 2>/dev/null
overflows_before=$(counter TcpExtListenOverflows)
start_listener srv 127.0.0.1 $PORT $BACKLOG --accept --defer-accept 30
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'" and .backlog == '$BACKLOG')'

drops_before=$(counter TcpExtTCPReqQFullDrop)
# The clients never send: their requests must outlive the test's checks.
"$TCPLOAD" connect 127.0.0.1 $PORT 20 --timeout-ms 1500 --hold-ms 15000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_for 50 "client summary" grep -q '^connected=' "$WORK/client.log"
cat "$WORK/client.log"
connected=$(sed -n 's/^connected=\([0-9]*\) .*/\1/p' "$WORK/client.log")
grep -Eq 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the SYN queue never filled"
[ "$connected" -le $((BACKLOG + 1)) ] || fail "$connected handshakes completed; the SYN queue holds only $((BACKLOG + 1))"
synrecv=$(ss -Htn state syn-recv "( sport = :$PORT )" | wc -l)
note "SYN_RECV requests on :$PORT: $synrecv"
[ "$synrecv" -ge 1 ] || fail "no request left in SYN_RECV"
drops=$(( $(counter TcpExtTCPReqQFullDrop) - drops_before ))
[ "$drops" -gt 0 ] || fail "TCPReqQFullDrop did not move"
[ "$(counter TcpExtListenOverflows)" -eq "$overflows_before" ] || fail "the accept queue overflowed: this part is about the SYN queue"

filter='.findings[] | select(.cause == "syn-queue-drop" and .listener == "127.0.0.1:'$PORT'")'
wait_finding "syn-queue-drop finding" "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "listener" and .pid == '"$srv_PID"' and
	.role == "cause"' "$WORK/status.json" >/dev/null ||
	fail "syn-queue-drop finding wrong: $(jq -c "$filter" "$WORK/status.json")"
finding_text_ok "$WORK/status.json" "$filter" 'time' net.ipv4.tcp_syncookies
jq -e "$filter"' | .knob.current == 0 and .knob.suggested == 1' "$WORK/status.json" >/dev/null ||
	fail "knob should be tcp_syncookies 0 -> 1: $(jq -c "$filter | .knob" "$WORK/status.json")"
# The evidence: the drops, and the requests the deep tier found in SYN_RECV,
# one per client whose handshake completed.
jq -e "$filter"' | .evidence | .reqq_full_drop > 0 and .syn_recv == '"$connected"' and .tcp_syncookies == 0' \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold the drops and $connected in SYN_RECV: $(jq -c "$filter | .evidence" "$WORK/status.json")"
# One event, one primary cause. The accept queue never filled, so none of
# its causes may be blamed; and no cookie was sent, so the SYN flood rule may
# not claim these drops either (the kernel's "Possible SYN flooding ...
# Dropping request." line comes with the first full-SYN-queue drop of any
# listener: it names this event, it is not a different one). A finding
# explained by syn-queue-drop would be a side effect, which is allowed.
jq -e '[.findings[] | select(.listener == "127.0.0.1:'$PORT'" and .role == "cause") | .cause] == ["syn-queue-drop"]' \
	"$WORK/status.json" >/dev/null ||
	fail "syn-queue-drop should be the one primary cause on 127.0.0.1:$PORT: $(jq -c '[.findings[] | {cause, listener, role, explained_by, message}]' "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
stop_daemon
echo "PASS: syn-queue-drop on 127.0.0.1:$PORT pid $srv_PID ($drops SYNs dropped, $synrecv in SYN_RECV)"
