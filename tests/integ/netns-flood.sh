#!/bin/bash
# netns-flood.sh: an unprivileged user makes 300 network namespaces while backlogd runs under a 256 open-file limit: it answers throughout, watches no more than it may (a named namespace first, under the open-file limit and under max_namespaces after a reload), and afterwards holds no descriptor of a dead namespace and is back to its size.
. "$(dirname "$0")/lib.sh"
require_tools jq ip setpriv unshare
# A PID namespace (and its /proc): backlogd sees only this test's namespaces.
enter_ns "-n -m -p -f --mount-proc"
setup_work
SCAN_NAMESPACES=1

FLOOD=300		# namespaces made by the unprivileged user
LIFE=80			# seconds each lives at most (they are killed once looked at)
FD_LIMIT=256		# backlogd's open-file limit
TICK=0.5
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

clone=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null) && [ "$clone" = 0 ] &&
	skip "kernel.unprivileged_userns_clone = 0: unprivileged users cannot make user namespaces here"
[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null)" = 0 ] &&
	skip "user.max_user_namespaces = 0: nobody can make user namespaces here"
$AS_NOBODY unshare -Urn true 2>/dev/null ||
	skip "an unprivileged user cannot run unshare -Urn here (AppArmor, seccomp or a container forbids it)"

private_run_netns

printf "[daemon]\nnamespace_scan = 1\nmax_namespaces = 200\n" >"$WORK/backlogd.conf"
# The limit is the daemon's (backlogctl and jq live with it too, well within it).
ulimit -n "$FD_LIMIT" || skip "cannot set the open-file limit to $FD_LIMIT"
start_daemon -f "$WORK/backlogd.conf"

fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status"; }
wait_ticks 3
base_fds=$(fds)
base_rss=$(rss_kb)
note "baseline: $base_fds fds, VmRSS $base_rss kB"

# poll: one answer (or the test fails), never more watched than the cap.
polls=0 max_watched=0 max_fds=0 seen_red=0 seen_capped=0
poll() {
	local watched cap capped n
	status_json >"$WORK/status.json" 2>"$WORK/ctl.err" ||
		fail "no answer $((SECONDS - start)) s into the flood: $(cat "$WORK/ctl.err")"
	read -r watched cap capped <<<"$(jq -r '.daemon | "\(.namespaces_count) \(.namespaces_cap) \(.namespaces_capped)"' "$WORK/status.json")"
	[ "$watched" -le "$cap" ] || fail "watching $watched namespaces, over the cap of $cap"
	[ "$watched" -gt "$max_watched" ] && max_watched=$watched
	[ "$capped" != null ] && seen_capped=1
	jq -e '.namespaces | map(.name) | index("red") != null' "$WORK/status.json" >/dev/null && seen_red=1
	n=$(fds)
	[ "$n" -gt "$max_fds" ] && max_fds=$n
	polls=$((polls + 1))
}

# The flood, made in the background while the test asks for status every 0.5 s.
flood() {
	local i
	for i in $(seq "$FLOOD"); do
		# Each lives until killed below, LIFE seconds at most.
		$AS_NOBODY unshare -Urn sleep "$LIFE" &
		echo $! >>"$WORK/flood.pids"
	done
	touch "$WORK/flood.made"
	wait
}
start=$SECONDS
flood &
FLOOD_PID=$!
PIDS="$PIDS $FLOOD_PID"
while [ ! -e "$WORK/flood.made" ]; do
	[ $((SECONDS - start)) -le $((LIFE / 2)) ] || fail "making $FLOOD namespaces took over $((LIFE / 2)) s"
	poll
	sleep 0.5
done
flood_pids=$(cat "$WORK/flood.pids")
note "$FLOOD namespaces made by uid 65534 in $((SECONDS - start)) s"
# A named namespace made in the middle of the flood comes before the anonymous ones.
ip netns add red || fail "ip netns add red failed"
for i in $(seq 16); do
	poll
	sleep 0.5
done
note "$polls answers; at most $max_watched namespaces watched and $max_fds fds"
jq -c '.daemon | {namespaces_count, namespaces_found, namespaces_skipped, namespaces_cap, namespaces_capped, scan_error}' "$WORK/status.json"
[ "$polls" -ge 16 ] || fail "only $polls answers"
[ "$seen_capped" = 1 ] || fail "status never said the namespaces were capped"
[ "$seen_red" = 1 ] || fail "the named namespace red was never watched during the flood"
# What is kept for the control socket and the tick stays free.
[ "$max_fds" -le $((FD_LIMIT - 32)) ] || fail "backlogd held $max_fds descriptors, limit $FD_LIMIT"
[ "$(grep -cE 'watching [0-9]+ of [0-9]+ network namespaces' "$WORK/backlogd.log")" = 1 ] ||
	fail "the cap was not logged exactly once: $(grep -E 'watching [0-9]+ of [0-9]+ network namespaces' "$WORK/backlogd.log" | head -3)"

# The configured cap, lowered on reload: no more than 8 watched, the named one among them.
printf "[daemon]\nnamespace_scan = 1\nmax_namespaces = 8\n" >"$WORK/backlogd.conf"
kill -HUP "$DAEMON_PID"
wait_for 100 "at most 8 namespaces watched, red among them, capped by max_namespaces" jq_status '
	(.namespaces | length <= 8 and (map(.name) | index("red") != null)) and
	.daemon.namespaces_cap == 8 and .daemon.namespaces_capped == "max_namespaces"'

# The sleepers go (unshare execs sleep: the pid is the sleeper's), and with them their namespaces.
for p in $flood_pids; do
	kill "$p" 2>/dev/null
done
wait "$FLOOD_PID" 2>/dev/null
ip netns del red || fail "ip netns del red failed"
i=0
until jq_status '(.namespaces | length == 1) and .daemon.namespaces_capped == null'; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "not only host after 10 s: $(status_json | jq -c '.daemon | {namespaces_count, namespaces_found, namespaces_capped, scan_error}'); $(grep -v 'client .* closed' "$WORK/backlogd.log" | tail -5)"
	sleep 0.1
done
wait_ticks 2

# No descriptor of a namespace that no process holds: each net:[N] is a live one.
live=$(stat -L -c %i /proc/[0-9]*/ns/net 2>/dev/null | sort -u)
for l in $(ls -l "/proc/$DAEMON_PID/fd" | awk '$NF ~ /^net:/ { print $NF }'); do
	ino=${l#net:[}
	ino=${ino%]}
	echo "$live" | grep -qx "$ino" || fail "backlogd holds dead namespace $l"
done
now_fds=$(fds)
note "after: $now_fds fds (baseline $base_fds)"
# +-2: a control connection may be open at the moment of counting.
[ $((now_fds - base_fds)) -le 2 ] ||
	fail "fd count $now_fds, baseline $base_fds: $(ls -l "/proc/$DAEMON_PID/fd" | tail -n +2 | awk '{ print $NF }' | sort | uniq -c | sort -rn | head)"
now_rss=$(rss_kb)
note "VmRSS $now_rss kB (baseline $base_rss kB)"
# Under ASan freed memory sits in its quarantine: LeakSanitizer checks at stop_daemon instead.
# malloc keeps some of what the monitors freed: a few MB, not the watched namespaces' worth.
if ! grep -q __asan_init "$BACKLOGD"; then
	[ $((now_rss - base_rss)) -le 8192 ] || fail "VmRSS grew by $((now_rss - base_rss)) kB"
fi
grep -q 'watching every network namespace again' "$WORK/backlogd.log" || fail "the end of the cap was not logged"
ctl_ping || fail "backlogd stopped answering"
stop_daemon
echo "PASS: $FLOOD namespaces under a $FD_LIMIT-fd limit: $polls answers, at most $max_watched watched, fds $base_fds -> $now_fds"
