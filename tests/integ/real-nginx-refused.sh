#!/bin/bash
# real-nginx-refused.sh: nginx stopped and started again 2 s later; curl from 127.0.0.13 during the gap is refused: the eBPF tier must name it, with the count, in the listener-gap finding, and nobody else.
# Issue 14: a listener-gap finding counts and names the clients that were refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep
require_real nginx curl
real_enter

PORT=7302
OTHER=7303
L="127.0.0.1:$PORT"
start_nginx $PORT 1 ""
start_daemon
wait_for 50 "daemon sees nginx's listener" jq_status "$(lrow "$L")"
snap "$WORK/start.json"
jq -e '.daemon.bpf == true' "$WORK/start.json" >/dev/null ||
	skip "the eBPF tier is off here: $(jq -r '.daemon.bpf_why' "$WORK/start.json")"
curl -s --interface 127.0.0.14 --max-time 2 "http://$L/" >/dev/null || fail "nginx does not answer before the restart"

# The restart: the master quits (its listener goes), a new nginx binds 2 s later.
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null
port_listening $PORT && fail "nginx still listens after quitting"
refused=0
for i in 1 2 3; do
	curl -s --interface 127.0.0.13 --max-time 2 "http://$L/" >/dev/null
	[ $? -eq 7 ] && refused=$((refused + 1))
	sleep 0.3
done
[ "$refused" -eq 3 ] || fail "want 3 refused connects from 127.0.0.13 during the gap, got $refused"
# A refusal at another port is not this listener's.
curl -s --interface 127.0.0.15 --max-time 2 "http://127.0.0.1:$OTHER/" >/dev/null
sleep 1
start_nginx $PORT 1 "" nginx2
curl -s --interface 127.0.0.14 --max-time 2 "http://$L/" >/dev/null || fail "nginx does not answer after the restart"

filter='.findings[] | select(.cause == "listener-gap" and .listener == "'"$L"'")'
wait_finding "listener-gap finding with clients" "$filter | select(.clients != null)"
snap "$WORK/status.json"
jq -c "$filter" "$WORK/status.json" >"$WORK/f.json"
note "gap finding: $(jq -c '{message, clients}' "$WORK/f.json")"
expect "$WORK/f.json" "the refused client should be 127.0.0.13, 3 times, and no one else: $(jq -c .clients "$WORK/f.json")" \
	'.clients.top == [.clients.top[0]] and .clients.top[0].addr == "127.0.0.13" and .clients.top[0].count == 3 and
	 .clients.total == 3 and .clients.peers == 1'
"$BACKLOGCTL" -S "$SOCK" explain "$L" >"$WORK/explain.txt" 2>&1 || bad "explain failed: $(cat "$WORK/explain.txt")"
grep -q '127.0.0.13' "$WORK/explain.txt" || bad "explain should list the refused client: $(cat "$WORK/explain.txt")"
real_done "the listener-gap on $L names 127.0.0.13, refused 3 times"
