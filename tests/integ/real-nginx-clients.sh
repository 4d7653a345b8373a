#!/bin/bash
# real-nginx-clients.sh: nginx (`backlog=4`) whose worker is stopped, curl clients from 127.0.0.11 and 127.0.0.12: the eBPF tier must name both in the finding's clients, count every drop the kernel counted, and open the finding at the first drop, not at the next tick.
# Issue 14: "clients" on accept-queue findings, the drop's exact time as first_seen, a finding opened from the event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep awk
require_real nginx curl
real_enter

PORT=7301
L="127.0.0.1:$PORT"
# A tick every 5 s: a finding sooner than that after the first drop came from the event.
INTERVAL=5
listen_overflows() { awk '/^TcpExt:/ { if (!h) { split($0, n); h = 1 } else { split($0, v); for (i in n) if (n[i] == "ListenOverflows") print v[i] } }' /proc/net/netstat; }
now_ms() { date +%s%3N; }

start_nginx $PORT 1 "backlog=4"
start_daemon -i $INTERVAL
wait_for 50 "daemon sees nginx's listener" jq_status "$(lrow "$L") | select(.backlog == 4)"
snap "$WORK/start.json"
jq -e '.daemon.bpf == true' "$WORK/start.json" >/dev/null ||
	skip "the eBPF tier is off here: $(jq -r '.daemon.bpf_why' "$WORK/start.json")"
# The daemon's first tick is behind us; the next is up to INTERVAL s away.
wait_ticks 1
for w in $(children_of "$NGINX_PID"); do kill -STOP "$w"; done
before=$(listen_overflows)

# curl gives up after 2 s: the SYN and one retransmission, each dropped. The
# first wave from .11 fills the queue (5 = backlog + 1), so .12 only ever drops.
CLIENTS=""
client() {
	curl -s -o /dev/null --interface "$1" --max-time 2 "http://$L/" &
	CLIENTS="$CLIENTS $!"
}
t0=$(now_ms)
for i in $(seq 8); do client 127.0.0.11; done
sleep 0.3
for i in $(seq 8); do client 127.0.0.11; done
for i in $(seq 4); do client 127.0.0.12; done
wait_for 15 "an accept-queue finding within 1.5 s of the first drop (the tick is every $INTERVAL s)" \
	jq_status "[.findings[] | select(.listener == \"$L\" and .clients != null)] | length > 0"
seen=$(now_ms)
snap "$WORK/early.json"
for c in $CLIENTS; do wait "$c"; done
note "finding after $((seen - t0)) ms: $(the_accept_finding "$WORK/early.json" "$L" | jq -c '{cause, first_seen, clients}')"
expect "$WORK/early.json" "the finding should come from an event tick: $(jq -c '.daemon | {ticks, event_ticks}' "$WORK/early.json")" \
	'.daemon.event_ticks >= 1'
# Every client is done; a tick later the book holds every drop.
wait_ticks 1
after=$(listen_overflows)
snap "$WORK/status.json"
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "ListenOverflows $before -> $after; clients: $(jq -c .clients "$WORK/f.json")"
expect "$WORK/f.json" "clients should name 127.0.0.11 first and 127.0.0.12 second: $(jq -c '.clients.top' "$WORK/f.json")" \
	'.clients.top | map(.addr) | .[0] == "127.0.0.11" and .[1] == "127.0.0.12" and length == 2'
expect "$WORK/f.json" "every drop the kernel counted ($((after - before))) should be a client's: $(jq -c '.clients | {total, peers}' "$WORK/f.json")" \
	'.clients.total == $d and .clients.peers == 2 and ([.clients.top[].count] | add) == $d' --argjson d $((after - before))
expect "$WORK/f.json" "127.0.0.12 came only after the queue was full: each of its 4 clients dropped twice (SYN and its retransmission): $(jq -c '.clients.top' "$WORK/f.json")" \
	'.clients.top[] | select(.addr == "127.0.0.12") | .count == 8'
# The first drop's own time is the finding's first_seen, and it is after the clients started.
expect "$WORK/f.json" "first_seen should be the first drop's time ($(jq -c '.clients.first_ms' "$WORK/f.json") ms), after the clients started at $t0 ms: $(jq -c '{first_seen}' "$WORK/f.json")" \
	'.clients.first_ms >= $t0 - 50 and .clients.first_ms <= $t0 + 1000 and .first_seen == (.clients.first_ms / 1000 | floor)' \
	--argjson t0 "$t0"

# What a person reads: explain lists the clients, the journal field is tested in journal.sh.
"$BACKLOGCTL" -S "$SOCK" explain "$L" >"$WORK/explain.txt" 2>&1 || bad "explain failed: $(cat "$WORK/explain.txt")"
grep -q '127.0.0.11' "$WORK/explain.txt" && grep -q '127.0.0.12' "$WORK/explain.txt" ||
	bad "explain should list the clients: $(cat "$WORK/explain.txt")"
real_done "the finding on $L names 127.0.0.11 and 127.0.0.12 and counts every drop, opened at the first"
