#!/bin/bash
# real-uwsgi.sh: uWSGI (master + 2 workers, `--listen 8`) with both workers stopped while clients keep connecting: one verdict on the listener, naming a stopped uWSGI worker, not the master; if backlog-small is said, its remedy is uWSGI's `--listen`.
# Issue 10 points 3, 4, 5 and 6. The truth: uWSGI's own log line
# "*** uWSGI listen queue of socket ... full !!! ***".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep
require_real uwsgi
[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || skip "uwsgi-plugin-python3 is not installed"
real_enter

PORT=7204
L="127.0.0.1:$PORT"
cat >"$WORK/app.py" <<'APP'
def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\n']
APP
start_daemon
uwsgi --plugin python3 --master --processes 2 --http-socket "$L" --listen 8 \
	--wsgi-file "$WORK/app.py" --logto "$WORK/uwsgi.log" --die-on-term &
master=$!
PIDS="$PIDS $master"
wait_port $PORT uwsgi
wait_for 50 "uWSGI forks 2 workers" sh -c "[ \$(pgrep -P $master | wc -l) -ge 2 ]"
workers=$(children_of "$master")
note "uWSGI master $master, workers $workers"
wait_for 50 "daemon sees uWSGI's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"
ab -q -n 200 -c 4 "http://$L/" >"$WORK/ab.log" 2>&1 || fail "ab failed on a healthy uWSGI: $(tail -3 "$WORK/ab.log")"

for w in $workers; do kill -STOP "$w"; done
"$TCPLOAD" connect 127.0.0.1 $PORT 150 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 15
record_for 3
wait "$client"
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the queue never overflowed"
grep -m1 'listen queue of socket' "$WORK/uwsgi.log" || note "uWSGI did not log its listen queue full (it checks from the master, now and then)"
snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
check_remedy_if_small "$L" '--listen'
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, comm, message, remedy}' "$WORK/f.json")"
W=$(echo $workers | jq -sc .)
expect "$WORK/f.json" "stopped workers are a stall, want slow-accept: $(jq -c '{cause, message, remedy}' "$WORK/f.json")" \
	'.cause == "slow-accept"'
expect "$WORK/f.json" "subject should be a uWSGI worker ($workers), not master $master: $(jq -c '{pid, comm, cmdline}' "$WORK/f.json")" \
	'.pid as $p | $w | index($p) != null' --argjson w "$W"
record_for 1
quiet=$(said_stopped_lately "$L")
[ -z "$quiet" ] || bad "every tick's finding should say the worker is stopped (state T): $quiet"
expect "$WORK/status.json" "holders should list the workers with state T: $(jq -c "$(lrow "$L") | .processes" "$WORK/status.json")" \
	"$(lrow "$L")"' | [.processes[] | select(.pid as $p | $w | index($p) != null)] | length == ($w | length) and all(.state == "T")' --argjson w "$W"
for w in $workers; do kill -CONT "$w"; done
real_done "uWSGI stall on $L"
