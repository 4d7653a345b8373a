#!/bin/bash
# real-haproxy.sh: HAProxy (master-worker) whose frontend reaches its `maxconn 20` with idle clients, so it stops accepting while it looks healthy, and a stream of new clients overflows the queue: one verdict on the listener, naming the worker, not the master, with HAProxy's own knob (maxconn) in the remedy.
# Issue 10 points 1, 3, 4 and 6 (docs/SOFTWARE: with no bind backlog the
# frontend's maxconn is the backlog; at maxconn HAProxy stops accepting).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep
require_real haproxy ab
real_enter

PORT=7205
L="127.0.0.1:$PORT"
cat >"$WORK/haproxy.cfg" <<CFG
global
	maxconn 200
	pidfile $WORK/haproxy.pid
defaults
	mode http
	timeout connect 1s
	timeout client 30s
	timeout http-request 30s
	timeout server 5s
frontend fe
	bind $L
	maxconn 20
	http-request return status 200 content-type text/plain string ok
CFG
haproxy -c -q -f "$WORK/haproxy.cfg" || fail "haproxy rejects the configuration"
start_daemon
haproxy -W -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
master=$!
PIDS="$PIDS $master"
wait_port $PORT haproxy
wait_for 50 "the HAProxy worker" sh -c "pgrep -P $master >/dev/null"
worker=$(children_of "$master")
note "HAProxy master $master, worker $worker"
wait_for 50 "daemon sees HAProxy's listener with backlog 20" jq_status "$(lrow "$L") | select(.backlog == 20)"
ab -q -n 500 -c 8 "http://$L/" >"$WORK/ab.log" 2>&1 || fail "ab failed on a healthy HAProxy: $(tail -3 "$WORK/ab.log")"
grep -q 'Failed requests: *0' "$WORK/ab.log" || fail "healthy HAProxy failed requests: $(grep Failed "$WORK/ab.log")"

# 20 idle clients take every slot of maxconn; then the stream of new ones.
"$TCPLOAD" connect 127.0.0.1 $PORT 20 --hold-ms 12000 --timeout-ms 1000 >"$WORK/idle.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.5
"$TCPLOAD" connect 127.0.0.1 $PORT 150 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 15
record_for 3
wait "$client"
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the queue never overflowed"
snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, comm, message, remedy}' "$WORK/f.json")"
expect "$WORK/f.json" "subject should be the HAProxy worker $worker, not master $master: $(jq -c '{pid, comm, cmdline}' "$WORK/f.json")" \
	'.pid == $w' --argjson w "$worker"
expect "$WORK/f.json" "the remedy should name HAProxy's maxconn: $(jq -c '{cause, remedy, knob}' "$WORK/f.json")" \
	'.remedy | contains("maxconn")'
expect "$WORK/status.json" "holders should show each process's state: $(jq -c "$(lrow "$L") | .processes" "$WORK/status.json")" \
	"$(lrow "$L")"' | (.processes | length > 0) and all(.processes[]; .state | IN("S", "R"))'
real_done "HAProxy at maxconn on $L"
