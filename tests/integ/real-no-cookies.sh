#!/bin/bash
# real-no-cookies.sh: net.ipv4.tcp_syncookies=0 in the namespace, redis-server (`tcp-backlog 8`) stopped while clients keep connecting: every drop is an accept-queue overflow (ListenOverflows), none a full SYN queue (TCPReqQFullDrop). backlogd must not blame the SYN queue or advise syncookies.
# Issue 10 point 7: attribute ListenDrops = ListenOverflows + ReqQFullDrop
# from the counters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss sysctl nstat
require_real redis-server
real_enter
sysctl -q -w net.ipv4.tcp_syncookies=0 || fail "cannot set tcp_syncookies in the namespace"

PORT=7212
L="127.0.0.1:$PORT"
# A private kernel log: this test is about the counters, and another test's
# "Possible SYN flooding" line must not reach it.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
redis-server --port $PORT --bind 127.0.0.1 --tcp-backlog 8 --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/redis.log" &
redis=$!
PIDS="$PIDS $redis"
wait_port $PORT redis-server
wait_for 50 "daemon sees redis's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"

kill -STOP "$redis"
"$TCPLOAD" connect 127.0.0.1 $PORT 120 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 15
record_for 3
wait "$client"
cat "$WORK/client.log"
ovf=$(counter TcpExtListenOverflows)
reqq=$(counter TcpExtTCPReqQFullDrop)
note "ListenOverflows $ovf, TCPReqQFullDrop $reqq, ListenDrops $(counter TcpExtListenDrops)"
[ "$ovf" -gt 0 ] || fail "no accept-queue overflow"
[ "$reqq" -eq 0 ] || fail "the SYN queue dropped too ($reqq): this test wants accept-queue overflows only"
snap "$WORK/status.json"
check_one_verdict "$L"
blame=$(jq -sc '[.[].findings[] | select(.cause | IN("syn-queue-drop", "syn-flood"))] | map({cause, listener, message}) | unique' "$WORK/history.jsonl")
[ "$blame" = "[]" ] || bad "the SYN queue blamed for accept-queue overflows (TCPReqQFullDrop 0): $blame"
advice=$(jq -sc '[.[].findings[] | select(.remedy | test("syncookies"))] | map({cause, remedy}) | unique' "$WORK/history.jsonl")
[ "$advice" = "[]" ] || bad "syncookies advised though no SYN was dropped for a full SYN queue: $advice"
kill -CONT "$redis"
real_done "accept-queue overflows with syncookies=0 on $L"
