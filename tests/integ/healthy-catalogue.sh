#!/bin/bash
# healthy-catalogue.sh: a healthy mixed load, with the deep tier asked on every tick, raises no finding at all over several ticks.
# The load: accepting listeners (IPv4 and IPv6), a healthy SO_REUSEPORT group, short connections,
# a pool of held connections, and TIME_WAIT sockets on both sides, all well under every limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip nstat ss mkfifo
enter_ns "-n"
setup_work

# The deep tier on every tick: its rules (SYN_RECV, destinations, memory
# holders) see all of the load, not only ticks a signal asks for (none here).
printf '[deep]\nevery_ticks = 1\n' >"$WORK/backlogd.conf"
# The real /dev/kmsg is shared with every namespace on the host: a test
# running beside this one may log "Possible SYN flooding" for a port that is
# also ours. That path is tested by syn-flood.sh; here the kernel log is an
# empty FIFO, so any finding comes from this load alone.
kmsg_fifo "$WORK/kmsg"
start_daemon -f "$WORK/backlogd.conf" -K "$KMSG_FIFO"
start_listener web 127.0.0.1 7110 1024 --accept
start_listener web6 ::1 7110 1024 --accept
start_listener api 127.0.0.1 7111 512 --accept --wait-eof
start_listener rp1 127.0.0.1 7112 128 --reuseport --accept
start_listener rp2 127.0.0.1 7112 128 --reuseport --accept
wait_for 30 "daemon sees the five listeners" \
	jq_status '([.listeners[] | select(.port | IN(7110, 7111, 7112))] | length) == 5'

# A pool of 50 connections held open to one destination the whole time.
"$TCPLOAD" connect 127.0.0.1 7111 50 --timeout-ms 1000 --hold-ms 8000 >"$WORK/pool.log" 2>&1 &
PIDS="$PIDS $!"
# Bounded: 4 rounds, each a few hundred short connections.
for round in 1 2 3 4; do
	"$TCPLOAD" connect 127.0.0.1 7110 200 --timeout-ms 1000 --send >"$WORK/c1.log" 2>&1
	grep -q '^connected=200 ' "$WORK/c1.log" || fail "round $round, web: $(cat "$WORK/c1.log")"
	"$TCPLOAD" connect ::1 7110 100 --timeout-ms 1000 >"$WORK/c2.log" 2>&1
	grep -q '^connected=100 ' "$WORK/c2.log" || fail "round $round, web6: $(cat "$WORK/c2.log")"
	# The client closes first here: TIME_WAIT on the client's side.
	"$TCPLOAD" connect 127.0.0.1 7111 100 --timeout-ms 1000 >"$WORK/c3.log" 2>&1
	grep -q '^connected=100 ' "$WORK/c3.log" || fail "round $round, api: $(cat "$WORK/c3.log")"
	"$TCPLOAD" connect 127.0.0.1 7112 100 --timeout-ms 1000 --interval-ms 2 >"$WORK/c4.log" 2>&1
	grep -q '^connected=100 ' "$WORK/c4.log" || fail "round $round, reuseport: $(cat "$WORK/c4.log")"
	wait_ticks 1
done
grep -q '^connected=50 ' "$WORK/pool.log" || fail "pool: $(cat "$WORK/pool.log")"

# The load really left TIME_WAIT behind, and stayed under every limit.
tw=$(ss -Htn state time-wait | wc -l)
note "TIME_WAIT sockets: $tw"
[ "$tw" -gt 0 ] || fail "no TIME_WAIT: the load is not the one this test means"
for c in TcpExtTCPTimeWaitOverflow TcpExtListenDrops TcpExtListenOverflows TcpExtTCPReqQFullDrop \
	TcpExtTCPReqQFullDoCookies TcpExtTCPMemoryPressures TcpExtTCPAbortOnMemory; do
	[ "$(counter $c)" -eq 0 ] || fail "$c moved: the load was not healthy"
done

# Several more ticks over what the load left (TIME_WAIT, the pool). The deep
# tier spends at most 1 % of the time (a slow sanitizer build's walk makes it
# skip ticks): look at ticks until one where it ran, each without a finding.
wait_ticks 4
deep_seen=0
for t in $(seq 1 20); do
	status_json >"$WORK/status.json"
	no_finding "$WORK/status.json"
	if jq -e '.host.deep != null' "$WORK/status.json" >/dev/null; then
		deep_seen=1
		break
	fi
	wait_ticks 1
done
[ "$deep_seen" = 1 ] ||
	fail "the deep tier did not run in 20 ticks, so this proves nothing about its rules: $(jq -c '.host // .daemon' "$WORK/status.json")"
stop_daemon
echo "PASS: healthy mixed load ($tw TIME_WAIT), no finding"
