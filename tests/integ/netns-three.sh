#!/bin/bash
# netns-three.sh: three namespaces made by `ip netns add`, listeners in each, one overflowing under its own lowered somaxconn: backlogd, from its own namespace, must name that namespace, the pid and that namespace's somaxconn. findings --since lists the opening marked [red], and --netns keeps one namespace's events.
. "$(dirname "$0")/lib.sh"
require_tools jq ip sysctl stat
# A PID namespace too (and a /proc for it): backlogd finds namespaces through
# /proc/*/ns/net, and must see only this test's processes, not the whole
# machine's namespaces; its pids are then the ones this script sees.
enter_ns "-n -m -p -f --mount-proc"
setup_work
# start_daemon passes -N unless told: this test is about following namespaces.
SCAN_NAMESPACES=1

private_run_netns
[ "$(sysctl -n net.core.somaxconn)" = 4096 ] || skip "the default somaxconn here is not 4096"

# Red and green exist, still empty, when the daemon starts; blue comes later
# and must be found by the periodic rescan (default every 5 ticks).
add_ns red
add_ns green
# Only red is lowered; the daemon's own namespace keeps the default 4096.
ip netns exec red sysctl -q -w net.core.somaxconn=8 || fail "cannot set somaxconn in red"
start_daemon
add_ns blue
ns_listener red red 127.0.0.1 9090 128 --drain-every-ms 800
ns_listener green green 127.0.0.1 8081 16 --accept
# The same address and port as red's: a finding must not be pinned on the wrong one.
ns_listener blue blue 127.0.0.1 9090 64 --accept
start_listener home 127.0.0.1 7070 32 --accept

ino() { stat -L -c %i "$1"; }
red_ino=$(ino /run/netns/red)
green_ino=$(ino /run/netns/green)
blue_ino=$(ino /run/netns/blue)
host_ino=$(ino /proc/self/ns/net)
note "inodes: host $host_ino red $red_ino green $green_ino blue $blue_ino"

# lst NS ADDR:PORT: a jq filter for that listener row of namespace NS.
lst() { echo '.listeners[] | select(.listener == "'"$2"'" and .netns.name == "'"$1"'")'; }
wait_for 100 "daemon lists red's 127.0.0.1:9090 with its clamped backlog 8" \
	jq_status "$(lst red 127.0.0.1:9090)"' | .backlog == 8'
wait_for 100 "daemon lists the other namespaces' listeners" \
	jq_status '[('"$(lst green 127.0.0.1:8081)"'), ('"$(lst blue 127.0.0.1:9090)"'),
		('"$(lst host 127.0.0.1:7070)"')] | length == 3'

# Overflow red's queue from inside red: its accept queue holds 9 (drained every 0.8 s: a clamped backlog, no stall), the rest time out.
ip netns exec red "$TCPLOAD" connect 127.0.0.1 9090 30 --timeout-ms 300 >"$WORK/client.log" 2>&1
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "clients did not time out: red's queue never overflowed"

filter='.findings[] | select(.cause == "backlog-clamped" and .listener == "127.0.0.1:9090"
	and .netns.name == "red")'
wait_for 60 "backlog-clamped finding in red" jq_status "$filter"
status_json >"$WORK/status.json"

# The finding: red's namespace (name and inode), red's tcpload, red's somaxconn.
jq -e --arg ino "$red_ino" "$filter"' | .pid == '"$red_PID"' and .state == "active" and
	(.netns.inode | tostring) == $ino and
	(.remedy | contains("net.core.somaxconn=8")) and .knob.name == "net.core.somaxconn" and
	.knob.current == 8 and .knob.suggested > 8 and .evidence.somaxconn == 8' "$WORK/status.json" >/dev/null ||
	fail "red's finding is wrong (want pid $red_PID, netns inode $red_ino, somaxconn 8 in the remedy): $(jq -c "$filter" "$WORK/status.json")"
# Red's counters belong to red alone: no other namespace may show a finding.
jq -e '[.findings[] | select(.netns.name != "red")] | length == 0' "$WORK/status.json" >/dev/null ||
	fail "findings outside red: $(jq -c '[.findings[] | select(.netns.name != "red") | {cause, listener, netns}]' "$WORK/status.json")"
jq -e '[.findings[] | select(.cause == "backlog-small")] | length == 0' "$WORK/status.json" >/dev/null ||
	fail "red's clamped listener also reported as backlog-small"

# Each listener row carries its own namespace's identity.
jq -e --arg r "$red_ino" --arg g "$green_ino" --arg b "$blue_ino" --arg h "$host_ino" '
	def row(ns; l): [.listeners[] | select(.netns.name == ns and .listener == l)];
	(row("red"; "127.0.0.1:9090") | length == 1 and (.[0].netns.inode | tostring) == $r and
		.[0].backlog == 8 and .[0].drops > 0 and (.[0].processes | map(.pid) | index('"$red_PID"') != null)) and
	(row("blue"; "127.0.0.1:9090") | length == 1 and (.[0].netns.inode | tostring) == $b and
		.[0].backlog == 64 and .[0].drops == 0 and (.[0].processes | map(.pid) | index('"$blue_PID"') != null)) and
	(row("green"; "127.0.0.1:8081") | length == 1 and (.[0].netns.inode | tostring) == $g and
		(.[0].processes | map(.pid) | index('"$green_PID"') != null)) and
	(row("host"; "127.0.0.1:7070") | length == 1 and (.[0].netns.inode | tostring) == $h and
		(.[0].processes | map(.pid) | index('"$home_PID"') != null)) and
	(.listeners | length == 4)' "$WORK/status.json" >/dev/null ||
	fail "listener rows are wrong: $(jq -c '[.listeners[] | {listener, netns, backlog, drops, pids: [.processes[].pid]}]' "$WORK/status.json")"

# Limits: the top level is the daemon's own namespace; each namespace has its
# own. A namespace's pid is a process in it: each named one holds only its
# tcpload by now (the clients have exited), whenever the tcpload came: give
# the daemon a few rescans (every 5 ticks) to notice, then hold it to it.
for i in $(seq 80); do
	jq_status '[.namespaces[] | select((.name == "red" and .pid == '"$red_PID"') or
		(.name == "green" and .pid == '"$green_PID"') or (.name == "blue" and .pid == '"$blue_PID"'))] |
		length == 3' && break
	sleep 0.1
done
status_json >"$WORK/status.json"
jq -e '.limits.somaxconn == 4096' "$WORK/status.json" >/dev/null ||
	fail "top-level limits.somaxconn is not the daemon's own 4096: $(jq -c '.limits' "$WORK/status.json")"
jq -e --arg r "$red_ino" --arg g "$green_ino" --arg b "$blue_ino" --arg h "$host_ino" '
	def ns(n): [.namespaces[] | select(.name == n)];
	(.namespaces | length == 4) and
	(ns("host") | length == 1 and .[0].kind == "host" and (.[0].inode | tostring) == $h and
		.[0].limits.somaxconn == 4096 and .[0].listeners_count == 1 and .[0].findings_active == 0) and
	(ns("red") | length == 1 and .[0].kind == "named" and (.[0].inode | tostring) == $r and
		.[0].pid == '"$red_PID"' and
		.[0].limits.somaxconn == 8 and .[0].listeners_count == 1 and .[0].findings_active >= 1) and
	(ns("green") | length == 1 and .[0].kind == "named" and (.[0].inode | tostring) == $g and
		.[0].pid == '"$green_PID"' and
		.[0].limits.somaxconn == 4096 and .[0].listeners_count == 1 and .[0].findings_active == 0) and
	(ns("blue") | length == 1 and .[0].kind == "named" and (.[0].inode | tostring) == $b and
		.[0].pid == '"$blue_PID"' and
		.[0].limits.somaxconn == 4096 and .[0].listeners_count == 1 and .[0].findings_active == 0)' \
	"$WORK/status.json" >/dev/null ||
	fail "namespaces[] is wrong (want pids red $red_PID, green $green_PID, blue $blue_PID): $(jq -c '[.namespaces[] | del(.limits)]' "$WORK/status.json"); limits.somaxconn: $(jq -c '[.namespaces[] | {name, somaxconn: .limits.somaxconn}]' "$WORK/status.json")"
host_pid=$(jq -r '.namespaces[] | select(.name == "host") | .pid' "$WORK/status.json")
[ "$(ino "/proc/$host_pid/ns/net" 2>/dev/null)" = "$host_ino" ] ||
	fail "host namespace's pid $host_pid is not a process in it"

# backlogctl listeners --netns: red's row alone, in JSON and in the table.
"$BACKLOGCTL" -S "$SOCK" --json listeners --netns red >"$WORK/red.json" 2>"$WORK/red.err" ||
	fail "backlogctl --json listeners --netns red failed: $(cat "$WORK/red.err")"
jq -e '(if type == "array" then . else .listeners end) |
	length == 1 and .[0].listener == "127.0.0.1:9090" and .[0].netns.name == "red" and .[0].backlog == 8' \
	"$WORK/red.json" >/dev/null || fail "listeners --netns red: $(jq -c . "$WORK/red.json")"
"$BACKLOGCTL" -S "$SOCK" listeners --netns red >"$WORK/red.txt" 2>"$WORK/red.err" ||
	fail "backlogctl listeners --netns red failed: $(cat "$WORK/red.err")"
cat "$WORK/red.txt"
grep -q '127.0.0.1:9090' "$WORK/red.txt" || fail "listeners --netns red lacks red's listener"
if grep -qE '8081|7070' "$WORK/red.txt" || [ "$(grep -c '127.0.0.1:9090' "$WORK/red.txt")" -ne 1 ]; then
	fail "listeners --netns red shows other namespaces' listeners"
fi
# An unknown namespace is an error the user can read, not an empty table.
"$BACKLOGCTL" -S "$SOCK" listeners --netns nosuch >"$WORK/nosuch.txt" 2>"$WORK/nosuch.err"
rc=$?
note "listeners --netns nosuch: exit $rc: $(cat "$WORK/nosuch.err")"
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "listeners --netns nosuch exited $rc"
grep -q 'nosuch' "$WORK/nosuch.err" && grep -qi 'namespace' "$WORK/nosuch.err" ||
	fail "listeners --netns nosuch: the message should name nosuch and say namespace: $(cat "$WORK/nosuch.err")"
[ ! -s "$WORK/nosuch.txt" ] || fail "listeners --netns nosuch printed a table: $(cat "$WORK/nosuch.txt")"

# findings --since: red's opening, marked [red] as the other tables mark it; --netns keeps
# a namespace's events only.
"$BACKLOGCTL" -S "$SOCK" findings --since 5m >"$WORK/since.txt" || fail "findings --since 5m failed"
grep -Eq '^[0-9:]{8} +opened +backlog-clamped +\[red\] 127\.0\.0\.1:9090 *$' "$WORK/since.txt" ||
	fail "findings --since lacks red's opening: $(cat "$WORK/since.txt")"
"$BACKLOGCTL" -S "$SOCK" --json findings --since 5m --netns red >"$WORK/since-red.json" ||
	fail "findings --since --netns red failed"
jq -e --arg r "$red_ino" '(.events | length >= 1) and all(.events[]; .netns.name == "red" and
	.netns.kind == "named" and (.netns.inode | tostring) == $r)' "$WORK/since-red.json" >/dev/null ||
	fail "findings --since --netns red: $(cat "$WORK/since-red.json")"
"$BACKLOGCTL" -S "$SOCK" --json findings --since 5m --netns green | jq -e '.events == []' >/dev/null ||
	fail "findings --since --netns green shows other namespaces' events"

stop_daemon
echo "PASS: backlog-clamped named in red (inode $red_ino, pid $red_PID, net.core.somaxconn=8); host keeps 4096"
