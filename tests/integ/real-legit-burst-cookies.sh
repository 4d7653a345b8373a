#!/bin/bash
# real-legit-burst-cookies.sh: a burst of 300 legitimate clients on nginx (`backlog=8`, one healthy worker) with tcp_syncookies=1: the kernel sends cookies and the clients send them back and connect. That is not a SYN flood: the cause is the accept-queue one, and the cookies are its evidence.
# Issue 10 point 1: syn-flood is reserved for SYNs that do not complete; a
# burst whose cookies come back is overload of a small backlog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep sysctl nstat
require_real nginx
real_enter
sysctl -q -w net.ipv4.tcp_syncookies=1 || fail "cannot set tcp_syncookies in the namespace"

PORT=7208
L="127.0.0.1:$PORT"
start_daemon
start_nginx $PORT 1 "backlog=8"
worker=$(children_of "$NGINX_PID")
wait_for 50 "daemon sees nginx's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"

# 300 clients at once, each holding its connection 3 s, as a page load of
# many browsers would: every one completes its handshake.
"$TCPLOAD" connect 127.0.0.1 $PORT 300 --timeout-ms 8000 --hold-ms 3000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 10
record_for 4
wait "$client"
cat "$WORK/client.log"
sent=$(counter TcpExtSyncookiesSent)
recv=$(counter TcpExtSyncookiesRecv)
note "SyncookiesSent $sent, SyncookiesRecv $recv, ListenOverflows $(counter TcpExtListenOverflows)"
[ "$sent" -gt 0 ] || fail "the kernel sent no cookies: the burst did not fill the SYN queue"
[ "$recv" -gt 0 ] || fail "no cookie came back"
connected=$(sed -n 's/^connected=\([0-9]*\) .*/\1/p' "$WORK/client.log")
[ "${connected:-0}" -ge 270 ] || fail "only ${connected:-0} of 300 legitimate clients connected"

snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
check_remedy_if_small "$L" 'backlog='
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, message, remedy, evidence}' "$WORK/f.json")"
ever_finding "$L" '(.cause | IN("backlog-small", "backlog-clamped", "slow-accept")) and
	((.message | test("cookie"; "i")) or (.evidence | keys | any(test("cookie"; "i"))))' ||
	bad "the cookies should be evidence of the accept-queue cause (in no recorded tick): $(jq -c '{message, evidence}' "$WORK/f.json")"
expect "$WORK/f.json" "the subject is the worker that accepts ($worker), not master $NGINX_PID: $(jq -c '{pid, cmdline}' "$WORK/f.json")" \
	'.pid == $w' --argjson w "$worker"
real_done "legitimate burst with cookies on $L"
