#!/bin/bash
# real-netns-host-limits.sh: backlogd in the host's network namespace, a Node.js server in namespace "app": the host-wide limits tcp_mem and tcp_max_orphans apply inside app too, and explain must give their values there, never "?".
# Issue 10 point 9: those sysctls exist only in the initial network
# namespace (a namespace's /proc/sys has no tcp_mem), yet they bind every
# namespace's sockets: read them from the host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss
require_real node
real_enter --host-netns
# start_daemon passes -N unless told: this test follows the namespaces.
SCAN_NAMESPACES=1
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns || fail "cannot mount a tmpfs over /run/netns"
ip netns add app || fail "ip netns add app failed"
ip netns exec app ip link set lo up || fail "cannot bring lo up in app"
[ -r /proc/sys/net/ipv4/tcp_mem ] || skip "this test's network namespace is not the host's"
ip netns exec app test -e /proc/sys/net/ipv4/tcp_mem && note "app has its own tcp_mem file here"

PORT=7214
cat >"$WORK/server.js" <<JS
require('http').createServer((req, res) => res.end('ok\n')).listen({ host: '127.0.0.1', port: $PORT });
JS
start_daemon
ip netns exec app node "$WORK/server.js" >"$WORK/node.log" 2>&1 &
PIDS="$PIDS $!"
NS_EXEC="ip netns exec app" wait_port $PORT node
wait_for 100 "daemon sees node's listener in app" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'" and .netns.name == "app")'
"$BACKLOGCTL" -S "$SOCK" explain app/host >"$WORK/explain.txt" 2>&1 ||
	"$BACKLOGCTL" -S "$SOCK" --netns app explain host >"$WORK/explain.txt" 2>&1 ||
	fail "backlogctl explain host for app failed: $(cat "$WORK/explain.txt")"
cat "$WORK/explain.txt"
grep -q 'tcp_max_orphans' "$WORK/explain.txt" || fail "explain host for app names no tcp_max_orphans"
grep -Eq 'tcp_max_orphans \?|pressure at \?|hard limit \?' "$WORK/explain.txt" &&
	bad "explain host in app shows ? for a host-wide limit: $(grep -m1 sockets "$WORK/explain.txt")"
real_done "host-wide limits known in namespace app"
