#!/bin/bash
# real-node.sh: a Node.js http server (`server.listen({backlog: 8})`) whose event loop a busy loop blocks for 3 s while clients keep connecting: slow-accept with the stall, never "raise the backlog".
# Issue 10 point 5: a stall is a stall; point 4: one verdict; point 1: the
# ordinary clients are no SYN flood; point 6: should backlog-small ever be
# said, its remedy is Node's server.listen backlog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss
require_real node wrk
real_enter

PORT=7206
L="127.0.0.1:$PORT"
cat >"$WORK/server.js" <<JS
const http = require('http');
const server = http.createServer((req, res) => res.end('ok\n'));
// SIGUSR2 blocks the event loop for 3 s, as a long synchronous job would.
process.on('SIGUSR2', () => { const t = Date.now(); while (Date.now() - t < 3000) {} });
server.listen({ host: '127.0.0.1', port: $PORT, backlog: 8 });
JS
start_daemon
node "$WORK/server.js" >"$WORK/node.log" 2>&1 &
node=$!
PIDS="$PIDS $node"
wait_port $PORT node
wait_for 50 "daemon sees node's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"
wrk -t1 -c4 -d1s "http://$L/" >"$WORK/wrk.log" 2>&1 || fail "wrk failed on a healthy node"

"$TCPLOAD" connect 127.0.0.1 $PORT 100 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
sleep 0.2
kill -USR2 "$node"
wait_accept_finding "$L" 10
record_for 4
wait "$client"
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the queue never overflowed"
kill -0 "$node" || fail "node died"
snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
check_remedy_if_small "$L" 'server\.listen|backlog:'
# The verdict it came to: slow-accept. A first tick may have read the
# overflow as backlog-small, revised in place once the queue did not drain
# (point 4); backlog-small must not be the last word.
last_accept_finding "$L" >"$WORK/last.json"
expect "$WORK/last.json" "a 3 s event-loop stall should end as slow-accept, not \"raise the backlog\": $(jq -c '{cause, message, remedy}' "$WORK/last.json")" \
	'.cause == "slow-accept"'
slow=$(ever_cause "$WORK/history.jsonl" "$L" slow-accept)
if [ -z "$slow" ]; then
	bad "no slow-accept on $L for a 3 s stall: $(show_findings "$WORK/status.json")"
else
	echo "$slow" >"$WORK/f.json"
	note "finding: $(jq -c '{cause, pid, comm, message, remedy, evidence}' "$WORK/f.json")"
	expect "$WORK/f.json" "slow-accept should name node $node: $(jq -c '{pid, comm}' "$WORK/f.json")" \
		'.pid == $n and .comm == "node"' --argjson n "$node"
	# How long it stalled: a number of seconds beside the stall (in the
	# message before what clients saw, which says "stalls" of its own), or a
	# stall in the evidence.
	expect "$WORK/f.json" "slow-accept should say the application stalled and for how long: $(jq -c '{message, evidence}' "$WORK/f.json")" \
		'(.evidence | keys | any(test("stall"))) or
		 (.message | gsub("clients saw.*$"; "") | test("(stall|stopped accept|blocked)[^.;]*[0-9.]+ ?s\\b"; "i"))'
fi
real_done "node event-loop stall on $L"
