#!/bin/bash
# ephemeral-ports-bound.sh: many held connections near the port range but none half-way on one destination: after one look the deep tier stops walking them; a client that then uses up the range towards a new destination is still found.
# The port hint's bound is the last run's most sockets on one destination plus Tcp.ActiveOpens since
# (deep_policy.c): held connections open nothing, so nothing more is walked; the 64 connect()s of the
# second client open the bound again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo sysctl nstat
enter_ns "-n"
setup_work
sysctl -q -w net.ipv4.ip_local_port_range="40000 40063" || fail "cannot set ip_local_port_range in the namespace"
RANGE=64

# Four destinations with 10 client sockets each: with their server ends and
# the listeners, 84 sockets in use, over half the 64 ports (the hint's cheap
# totals), but 10 on one destination, under half-way to ephemeral-ports
# (80 % of 64 is 51.2, half-way 25.6). Made before the daemon starts, so that
# its first look sees them all.
for p in 5001 5002 5003 5004; do
	start_listener "srv$p" 127.0.0.1 $p 128 --accept --wait-eof
	"$TCPLOAD" connect 127.0.0.1 $p 10 --timeout-ms 1000 --hold-ms 90000 >"$WORK/held$p.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 50 "held connections to $p" grep -qs '^connected=10 ' "$WORK/held$p.log"
done
opens0=$(nstat -az TcpActiveOpens | awk '/TcpActiveOpens/ { print $2 }')

kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
# The first look: no bound before a run, so the hint runs it (its 10-tick wait).
wait_for 150 "the port hint's first deep run" jq_status '.daemon.deep_runs >= 1'
status_json >"$WORK/first.json"
runs=$(jq -r '.daemon.deep_runs' "$WORK/first.json")
note "deep runs after the first look: $runs"

# 25 ticks (two and a half of the hint's 10-tick waits, which walked each
# time before the bound): no connect(), so no destination can have grown.
wait_ticks 25
status_json >"$WORK/quiet.json"
no_finding "$WORK/quiet.json"
[ "$(jq -r '.daemon.deep_runs' "$WORK/quiet.json")" -eq "$runs" ] ||
	fail "the deep tier walked the held connections again: $(jq -c '.daemon | {ticks, deep_runs, deep_reason}' "$WORK/quiet.json")"
opens1=$(nstat -az TcpActiveOpens | awk '/TcpActiveOpens/ { print $2 }')
[ "$opens1" -eq "$opens0" ] || fail "something connect()ed meanwhile ($opens0, then $opens1): not the quiet host meant"

# A client that uses up the range towards a fifth destination: 64 active
# opens, so the bound reaches half-way, and the hint looks again.
PORT=5005
start_listener srv 127.0.0.1 $PORT 128 --accept --wait-eof
"$TCPLOAD" connect 127.0.0.1 $PORT 100 --timeout-ms 1000 --hold-ms 30000 >"$WORK/client.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 50 "client summary" grep -q '^connected=' "$WORK/client.log"
cat "$WORK/client.log"
grep -q "^connected=$RANGE " "$WORK/client.log" || fail "expected $RANGE connections, one per port of the range"
filter='.findings[] | select(.cause == "ephemeral-ports" and .listener == "127.0.0.1:'$PORT'")'
# Within the hint's 10-tick wait (5 s), with room for a loaded machine.
wait_finding "ephemeral-ports finding" "$filter" 150
jq -e "$filter"' | .evidence.sockets == '$RANGE "$WORK/wait-finding.json" >/dev/null ||
	fail "evidence should hold $RANGE sockets: $(jq -c "$filter | .evidence" "$WORK/wait-finding.json")"
stop_daemon
echo "PASS: $runs deep run(s) over 80 held connections in 25 quiet ticks, then ephemeral-ports towards 127.0.0.1:$PORT"
