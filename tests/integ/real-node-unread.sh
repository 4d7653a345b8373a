#!/bin/bash
# real-node-unread.sh: a Node.js server that accepts and never reads (socket.pause()) while 20 clients each send it 1 MB: under TCP memory pressure the top holders are the server's receive queues, owned by node, and explain host shows them (the host-wide limits inside a namespace: real-netns-host-limits.sh).
# Issue 10 point 9. Memory pressure is machine-wide and may not be caused by
# a test: as tcp-memory.sh does, the second backlogd reads a proc root whose
# sockstat "mem" and tcp_mem come from tests/fixtures/integ/host-recorded
# (mem just above pressure); the sockets and their queues are real.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss
require_real node
real_enter

PORT=7211
REC="$FIXTURES_INTEG/host-recorded"
read -r mem_min mem_pressure mem_max <"$REC/sys/net/ipv4/tcp_mem"
mem=$((mem_pressure + 1000))
mkdir -p "$WORK/ovr/net" "$WORK/ovr/sys/net/ipv4"
cp "$REC/sys/net/ipv4/tcp_mem" "$WORK/ovr/sys/net/ipv4/tcp_mem"
sed "s/\( mem \)[0-9]*/\1$mem/" "$REC/net/sockstat" >"$WORK/ovr/net/sockstat"
proc_root_build "$WORK/proc" "$WORK/ovr"
kmsg_fifo "$WORK/kmsg"
start_daemon -P "$WORK/proc" -K "$KMSG_FIFO"

cat >"$WORK/server.js" <<JS
// Accepts every connection and never reads it: the bytes stay in the kernel.
require('net').createServer((sock) => sock.pause())
	.listen({ host: '127.0.0.1', port: $PORT, backlog: 128 });
JS
node "$WORK/server.js" >"$WORK/node.log" 2>&1 &
node=$!
PIDS="$PIDS $node"
wait_port $PORT node
"$TCPLOAD" connect 127.0.0.1 $PORT 20 --send-bytes 1000000 --timeout-ms 2000 --hold-ms 20000 \
	>"$WORK/client.log" 2>&1 &
PIDS="$PIDS $!"
full() { [ "$(ss -Htn "( sport = :$PORT )" | awk '$2 >= 65536' | wc -l)" -eq 20 ]; }
wait_for 50 "20 server sockets with unread bytes" full

filter='.findings[] | select(.cause == "tcp-memory")'
wait_for 80 "tcp-memory finding" jq_status "$filter"
wait_ticks 2
snap "$WORK/status.json"
jq -r "[$filter][0] | .detail // \"\"" "$WORK/status.json" >"$WORK/detail.txt"
note "holders:"
cat "$WORK/detail.txt"
first=$(grep -m1 . "$WORK/detail.txt")
echo "$first" | grep -Eq "^127\.0\.0\.1:$PORT -> 127\.0\.0\.1:[0-9]+ ESTABLISHED unread [0-9]+ B.* node\[$node\]" ||
	bad "the top holder should be a receive queue of node[$node]'s sockets on :$PORT, not a client's send queue: $first"
grep -Eq " -> .* (unread|unsent) [0-9]+ B unsent [0-9]+ B$" "$WORK/detail.txt" &&
	bad "holders without a process: $(grep -E ' B$' "$WORK/detail.txt" | head -n 2)"
"$BACKLOGCTL" -S "$SOCK" explain host >"$WORK/explain.txt" 2>&1
grep -q "node\[$node\]" "$WORK/explain.txt" || bad "explain host does not show node[$node] as a holder: $(head -c 600 "$WORK/explain.txt")"
real_done "node's unread receive queues are the top holders"
