#!/bin/bash
# real-kmsg-namespaces.sh: nginx on 127.0.0.1:7210 in namespaces red and green; red gets a burst that fills its queues so the kernel logs "Possible SYN flooding on port 127.0.0.1:7210", green serves light wrk load, and blue has no such listener; green and blue see cookies of their own at the same moment. The kernel line carries no namespace: backlogd must not pin it on green's healthy listener, nor make a phantom listener in blue.
# Issue 10 point 2: a kernel line may only support a finding on a listener
# whose own namespace's counters and queue agree; never a finding from a line alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep dd
require_real nginx wrk
real_enter
# start_daemon passes -N unless told: this test is about following namespaces.
SCAN_NAMESPACES=1
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns || fail "cannot mount a tmpfs over /run/netns"
for ns in red green; do
	ip netns add $ns || fail "ip netns add $ns failed"
	ip netns exec $ns ip link set lo up || fail "cannot bring lo up in $ns"
	ip netns exec $ns sysctl -q -w net.ipv4.tcp_syncookies=1
done

PORT=7210
L="127.0.0.1:$PORT"
seq_before=$(kmsg_last_seq)
start_daemon
NS_EXEC="ip netns exec red" start_nginx $PORT 1 "backlog=8" nginx-red
NS_EXEC="ip netns exec green" start_nginx $PORT 1 "backlog=8" nginx-green
row() { echo '.listeners[] | select(.listener == "'"$L"'" and .netns.name == "'"$1"'")'; }
wait_for 100 "daemon sees both listeners" jq_status "[($(row red)), ($(row green))] | length == 2"

# Blue has no listener on $PORT at all.
ip netns add blue && ip netns exec blue ip link set lo up || fail "cannot make namespace blue"
# In green and blue a small listener of their own gets a burst at the same
# moment as red's, so that their own cookie counters move in the very tick
# red's kernel line arrives: the line alone must still not count there.
for ns in green blue; do
	NS_EXEC="ip netns exec $ns"
	rm -f "$WORK/$ns.ready"
	$NS_EXEC "$TCPLOAD" listen 127.0.0.1 7211 4 --accept --ready "$WORK/$ns.ready" --lifetime 60 >"$WORK/$ns-side.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 50 "side listener in $ns" test -s "$WORK/$ns.ready"
done
NS_EXEC=""
# Green's nginx: steady light load that its backlog of 8 takes easily.
ip netns exec green wrk -t1 -c4 -d8s "http://$L/" >"$WORK/wrk.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1
# Red: 300 clients at once on nginx; green and blue: 100 on their side listener.
for ns in green blue; do
	ip netns exec $ns "$TCPLOAD" connect 127.0.0.1 7211 100 --timeout-ms 6000 >"$WORK/$ns-client.log" 2>&1 &
	PIDS="$PIDS $!"
done
ip netns exec red "$TCPLOAD" connect 127.0.0.1 $PORT 300 --timeout-ms 6000 --hold-ms 2000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
if [ -n "$seq_before" ]; then
	logged() { kmsg_since "$seq_before" | grep -q "Possible SYN flooding on port 127.0.0.1:$PORT\\."; }
	wait_for 60 "the kernel's SYN flooding line" logged
	kmsg_since "$seq_before" | grep -m1 "Possible SYN flooding on port 127.0.0.1:$PORT"
else
	note "/dev/kmsg is not readable here: the kernel line is not verified"
fi
wait_for 100 "a finding on red's listener" jq_status '.findings[] | select(.listener == "'"$L"'" and .netns.name == "red")'
record_for 4
wait "$client"
cat "$WORK/client.log"
cat "$WORK/wrk.log" "$WORK/green-client.log" "$WORK/blue-client.log"
snap "$WORK/status.json"
mine='.[].findings[] | select((.listener == "'"$L"'" or (.message | contains("'"$L"'"))) and .netns.name != "red")'
n=$(jq -s "[$mine] | length" "$WORK/history.jsonl")
[ "$n" -eq 0 ] || bad "red's kernel line made a finding outside red (green's healthy listener, or a phantom): $(jq -sc "[$mine | {cause, listener, netns: .netns.name, message}] | unique" "$WORK/history.jsonl")"
# No listener finding without that listener in its own namespace (green's
# and blue's lines for 7211 must not make one in red either). Every listener
# of this test lives to its end, so a finding with no row is a phantom.
phantom='.[] | . as $d | .findings[] | select(.scope == "listener") |
	select(. as $f | [$d.listeners[] | select(.listener == $f.listener and .netns.inode == $f.netns.inode)] | length == 0)'
n=$(jq -s "[$phantom] | length" "$WORK/history.jsonl")
[ "$n" -eq 0 ] || bad "phantom listener findings (no such listener in that namespace): $(jq -sc "[$phantom | {cause, listener, netns: .netns.name}] | unique" "$WORK/history.jsonl")"
expect "$WORK/status.json" "listeners on $L should be red's and green's only: $(jq -c '[.listeners[] | select(.port == '$PORT') | {listener, netns}]' "$WORK/status.json")" \
	'[.listeners[] | select(.port == '$PORT') | .netns.name] | sort == ["green", "red"]'
check_no_flood "$L"
real_done "the SYN flooding line of red's $L stayed in red"
