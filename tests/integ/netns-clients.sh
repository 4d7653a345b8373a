#!/bin/bash
# netns-clients.sh: the same 127.0.0.1:9090 overflowing in two namespaces made by `ip netns add`, one of them after backlogd started, from different clients: each finding must name its own namespace's clients and no other's (the eBPF tier's events are host-wide; backlogd books each in its namespace).
# Issue 14: "clients ... in which namespace".
. "$(dirname "$0")/lib.sh"
require_tools jq ip
enter_ns "-n -m -p -f --mount-proc"
setup_work
SCAN_NAMESPACES=1
private_run_netns
# overflow NS FROM: 12 clients from FROM to the namespace's 127.0.0.1:9090 (backlog 2: most are dropped).
overflow() {
	ip netns exec "$1" "$TCPLOAD" connect 127.0.0.1 9090 12 --timeout-ms 300 --from "$2" \
		>"$WORK/$1-client.log" 2>&1
	grep -q 'timeout=[1-9]' "$WORK/$1-client.log" || fail "no client timed out in $1: $(cat "$WORK/$1-client.log")"
}

add_ns red
start_daemon
status_json | jq -e '.daemon.bpf == true' >/dev/null ||
	skip "the eBPF tier is off here: $(status_json | jq -r .daemon.bpf_why)"
# Blue comes after the start: found by the rescan, then watched by the tier too.
add_ns blue
ns_listener red red 127.0.0.1 9090 2
ns_listener blue blue 127.0.0.1 9090 2
lst() { echo '.listeners[] | select(.listener == "127.0.0.1:9090" and .netns.name == "'"$1"'")'; }
wait_for 100 "daemon lists both namespaces' 127.0.0.1:9090" jq_status "[($(lst red)), ($(lst blue))] | length == 2"

overflow red 127.0.0.21
overflow blue 127.0.0.22
# ffilter NS: the accept-queue finding of that namespace's listener, once it names a client.
ffilter() {
	echo '.findings[] | select(.listener == "127.0.0.1:9090" and .netns.name == "'"$1"'" and .clients != null and
		(.cause | IN("backlog-small", "backlog-clamped", "slow-accept")))'
}
wait_for 60 "both findings with clients" jq_status "[($(ffilter red)), ($(ffilter blue))] | length == 2"
status_json >"$WORK/status.json"
for pair in red:127.0.0.21 blue:127.0.0.22; do
	ns=${pair%%:*} from=${pair#*:}
	jq -e --arg a "$from" "$(ffilter "$ns")"' | .clients.top == [.clients.top[0]] and .clients.top[0].addr == $a and
		.clients.peers == 1 and .clients.total > 0' "$WORK/status.json" >/dev/null ||
		fail "$ns's finding should name $from alone: $(jq -c "$(ffilter "$ns") | .clients" "$WORK/status.json")"
done
stop_daemon
echo "PASS: each namespace's finding names its own clients"
