#!/bin/bash
# real-nginx-reload-healthy.sh: heavy wrk load on a healthy nginx and a graceful `nginx -s reload` in the middle: backlogd must say nothing at all, and list the new workers as holders after the reload.
# Issue 10: silence on healthy heavy load and graceful reloads (the socket
# stays open across a reload: no gap, no drop), and point 3: after a reload
# the holder list shows the new workers too, not only the master.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep
require_real nginx wrk
real_enter

PORT=7202
L="127.0.0.1:$PORT"
start_daemon
start_nginx $PORT 2 ""
wait_for 50 "daemon sees nginx's listener" jq_status "$(lrow "$L")"
old=$(children_of "$NGINX_PID")
note "nginx master $NGINX_PID, workers $old"

# 6 s of 2 threads and 64 connections; the reload comes after 2 s.
wrk -t2 -c64 -d6s "http://$L/" >"$WORK/wrk.log" 2>&1 &
load=$!
PIDS="$PIDS $load"
sleep 2
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s reload 2>>"$WORK/nginx/stdout.log" || fail "nginx -s reload failed"
record_for 4
wait "$load"
cat "$WORK/wrk.log"
grep -q 'Requests/sec' "$WORK/wrk.log" || fail "wrk did not run"
reqs=$(awk '/requests in/ { print $1 }' "$WORK/wrk.log")
[ "${reqs:-0}" -gt 1000 ] || fail "only ${reqs:-0} requests: not heavy load"
! grep -Eq 'Socket errors: connect [1-9]' "$WORK/wrk.log" || fail "connects failed across a graceful reload"

# The old workers drain and exit; the new ones hold the socket now.
wait_for 100 "old workers exit" sh -c "for p in $old; do [ -d /proc/\$p ] && [ \"\$(awk '{print \$3}' /proc/\$p/stat)\" != Z ] && exit 1; done; exit 0"
new=$(children_of "$NGINX_PID")
note "after the reload: workers $new"
want=$(printf '%s\n' "$NGINX_PID" $new | sort -n | jq -sc .)
[ "$(echo "$new" | wc -w)" -eq 2 ] || fail "nginx should have 2 new workers, has: $new"
got=""
for i in $(seq 30); do
	if jq_status "$(lrow "$L") | (.processes | map(.pid) | sort) == $want"; then got=1; break; fi
	sleep 0.2
done
snap "$WORK/status.json"
[ -n "$got" ] || bad "after the reload the holders should be $want (master and new workers): $(jq -c "$(lrow "$L") | [.processes[] | {pid, cmdline}]" "$WORK/status.json")"

wait_ticks 2
record_for 1
n=$(jq -s '[.[].findings[]] | length' "$WORK/history.jsonl")
[ "$n" -eq 0 ] || bad "healthy load and a graceful reload must give no finding: $(jq -sc '[.[].findings[] | {cause, listener, state, message}] | unique' "$WORK/history.jsonl")"
real_done "no finding under wrk ($reqs requests) and a reload; holders $want"
