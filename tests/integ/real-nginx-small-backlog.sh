#!/bin/bash
# real-nginx-small-backlog.sh: nginx with `listen ... backlog=8` whose workers are all stopped (SIGSTOP) while clients keep connecting: backlogd must give one accept-queue verdict on that listener, slow-accept, naming a stopped worker (state T), not the master.
# Issue 10 points 3, 4, 5, 6 and 8 (the one-shot diagnose agrees): the master holds the socket but never
# accepts; the stopped worker is the one stuck; a stall is not "raise the
# backlog"; whenever backlog-small is said its remedy is nginx's `backlog=`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep
require_real nginx wrk
real_enter

PORT=7201
L="127.0.0.1:$PORT"
start_daemon
start_nginx $PORT 2 "backlog=8"
wait_for 50 "daemon sees nginx's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"
workers=$(children_of "$NGINX_PID")
note "nginx master $NGINX_PID, workers $workers"

# Healthy first: a second of wrk, every request answered.
wrk -t1 -c8 -d1s "http://$L/" >"$WORK/wrk.log" 2>&1 || fail "wrk failed: $(cat "$WORK/wrk.log")"
grep -q 'Requests/sec' "$WORK/wrk.log" || fail "wrk did not run: $(cat "$WORK/wrk.log")"

# Every worker stopped: nobody accepts, the master only holds the socket.
for w in $workers; do kill -STOP "$w"; done
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
check_remedy_if_small "$L" 'backlog='

the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, comm, message, remedy}' "$WORK/f.json")"
W=$(echo $workers | jq -sc .)
expect "$WORK/f.json" "stopped workers are a stall, want slow-accept: $(jq -c '{cause, message, remedy}' "$WORK/f.json")" \
	'.cause == "slow-accept"'
expect "$WORK/f.json" "subject pid should be a worker ($workers), not master $NGINX_PID: $(jq -c '{pid, comm, cmdline}' "$WORK/f.json")" \
	'.pid as $p | $w | index($p) != null' --argjson w "$W"
record_for 1
quiet=$(said_stopped_lately "$L")
[ -z "$quiet" ] || bad "every tick's finding should say the worker is stopped (state T): $quiet"
# Every holder is listed with its state: the master sleeping, the workers T.
expect "$WORK/status.json" "holders should be the master and the workers, the workers with state T: $(jq -c "$(lrow "$L") | .processes" "$WORK/status.json")" \
	"$(lrow "$L")"' | (.processes | map(.pid) | index($m) != null) and
	([.processes[] | select(.pid as $p | $w | index($p) != null)] | length == ($w | length) and all(.state == "T")) and
	([.processes[] | select(.pid == $m) | .state] | .[0] | IN("S", "R"))' --argjson w "$W" --argjson m "$NGINX_PID"

# Point 8: the one-shot diagnose, without the daemon, sees the same: clients
# still coming while it samples, the workers still stopped.
"$TCPLOAD" connect 127.0.0.1 $PORT 60 --interval-ms 25 --timeout-ms 500 >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$BACKLOGCTL" --json diagnose --interval 1 >"$WORK/diagnose.json" 2>"$WORK/diagnose.err"
rc=$?
[ "$rc" -eq 1 ] || bad "backlogctl diagnose should exit 1 (a problem found), exited $rc: $(cat "$WORK/diagnose.err")"
jq -c --arg l "$L" '[.findings[]? | select(.listener == $l)] | map({cause, pid, message})' "$WORK/diagnose.json" >"$WORK/diag-f.json" 2>/dev/null ||
	echo '[]' >"$WORK/diag-f.json"
note "diagnose: $(cat "$WORK/diag-f.json")"
expect "$WORK/diag-f.json" "one-shot diagnose should give the daemon's verdict ($(jq -r .cause "$WORK/f.json")), one accept-queue cause naming a worker: $(cat "$WORK/diag-f.json")" \
	'[.[] | select(.cause | IN("backlog-small", "backlog-clamped", "slow-accept"))] |
	length == 1 and .[0].cause == $c and (.[0].pid as $p | $w | index($p) != null)' --argjson w "$W" --arg c "$(jq -r .cause "$WORK/f.json")"

for w in $workers; do kill -CONT "$w"; done
real_done "slow-accept on $L naming a stopped nginx worker"
