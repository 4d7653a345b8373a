#!/bin/bash
# systemd-unit.sh: the installed backlogd.service runs under a real systemd
# (PID 1 of a private PID, mount and network namespace), reaches active
# through READY=1, and `backlogctl status` answers through its socket. The
# unit is hardened: it runs as the user backlogd with ambient capabilities
# and `systemd-analyze security` scores it 2.5 or less.
#
# The host's unit directories are hidden behind tmpfs inside the namespace,
# so this systemd starts nothing but what the test gives it: no sysinit
# jobs that would touch the host's /tmp or sysctls.
. "$(dirname "$0")/lib.sh"
require_tools jq nsenter make curl
SYSTEMD=/lib/systemd/systemd
[ -x "$SYSTEMD" ] || skip "systemd is not installed"
[ "$(id -u)" = 0 ] || skip "needs root for a PID namespace"
unshare -fpmn --mount-proc true 2>/dev/null || skip "unshare -fpmn is not permitted here"

WORK=$(mktemp -d /tmp/backlogd-unit.XXXXXX)
SD_PID=""
cleanup_unit() {
	# systemd as PID 1 treats SIGTERM as re-exec: only SIGKILL ends the namespace.
	[ -n "$SD_PID" ] && kill -9 "$SD_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup_unit EXIT

note "make install DESTDIR=$WORK/stage"
make -C "$top_builddir" install DESTDIR="$WORK/stage" >"$WORK/install.log" 2>&1 ||
	{ tail -20 "$WORK/install.log"; fail "make install failed"; }
unit=$(find "$WORK/stage" -name backlogd.service | head -1)
[ -n "$unit" ] || fail "make install did not install backlogd.service"
execstart=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$WORK/stage$execstart" ] || fail "ExecStart=$execstart is not installed under DESTDIR"
grep -q '^Type=notify' "$unit" || fail "unit is not Type=notify"
prefix_dir=$(dirname "$(dirname "$execstart")")    # /usr/local for /usr/local/sbin/backlogd
sysusers=$(find "$WORK/stage" -name backlogd-sysusers.conf -path '*sysusers.d*' | head -1)
[ -n "$sysusers" ] || fail "make install did not install the sysusers snippet"

# The hardening is measured, not assumed: systemd's own score of the
# installed unit, "→ Overall exposure level for backlogd.service: 2.2 OK".
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	systemd-analyze security --offline=true "$unit" >"$WORK/security.txt" 2>&1 || true
	exposure=$(sed -n 's/.*Overall exposure level for backlogd.service: \([0-9.]*\).*/\1/p' "$WORK/security.txt")
	[ -n "$exposure" ] || { cat "$WORK/security.txt"; fail "systemd-analyze security gave no exposure level"; }
	echo "exposure level: $exposure"
	awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' ||
		{ grep '✗' "$WORK/security.txt"; fail "the unit's exposure level is $exposure, above 2.5"; }
else
	note "systemd-analyze has no --offline: exposure score not checked"
fi

cat >"$WORK/boot.sh" <<EOS
set -e
# The unit runs as the user backlogd from the installed sysusers snippet,
# created in a copy of /etc that only this namespace sees (sysusers replaces
# /etc/passwd by rename, so the copy is of the directory).
cp -a /etc "$WORK/etc"
mount --bind "$WORK/etc" /etc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/systemd/system
mount -t tmpfs tmpfs /usr/lib/systemd/system
mount --bind "$WORK/stage$prefix_dir" "$prefix_dir"
systemd-sysusers "$sysusers"
ip link set lo up
mkdir -p /run/systemd/system
cp "$unit" /run/systemd/system/backlogd.service
for u in sysinit.target basic.target shutdown.target network.target multi-user.target \
	 sockets.target paths.target timers.target; do
	printf '[Unit]\nDefaultDependencies=no\n' >/usr/lib/systemd/system/\$u
done
printf '[Unit]\nDefaultDependencies=no\n' >/usr/lib/systemd/system/system.slice
printf '[Unit]\nDefaultDependencies=no\n' >/run/systemd/system/backlogd-test.target
# LeakSanitizer needs ptrace at exit, which the unit's SystemCallFilter denies
# (as it should); in a sanitizer build the leak check runs in the other tests.
mkdir -p /run/systemd/system/backlogd.service.d
printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
	>/run/systemd/system/backlogd.service.d/sanitizer.conf
# A watchdog shorter than the 1 s tick: backlogd must pet it from its loop.
printf '[Service]\nWatchdogSec=1\n' >/run/systemd/system/backlogd.service.d/watchdog.conf
exec $SYSTEMD --system --unit=backlogd-test.target
EOS
unshare -fpmn --mount-proc sh "$WORK/boot.sh" >"$WORK/systemd.log" 2>&1 &
UNSHARE_PID=$!
# The systemd process is unshare's child; find it by its parent.
for i in $(seq 50); do
	SD_PID=$(pgrep -P "$UNSHARE_PID" 2>/dev/null | head -1)
	[ -n "$SD_PID" ] && nsenter -t "$SD_PID" -m -p systemctl is-system-running >/dev/null 2>&1 && break
	s=$(nsenter -t "$SD_PID" -m -p systemctl is-system-running 2>/dev/null)
	case "$s" in running|degraded) break ;; esac
	sleep 0.2
done
[ -n "$SD_PID" ] || { cat "$WORK/systemd.log"; fail "systemd did not start"; }
in_ns() { nsenter -t "$SD_PID" -m -p -n "$@"; }

in_ns systemctl start backlogd.service || {
	in_ns systemctl status backlogd.service --no-pager; fail "systemctl start backlogd failed"; }
state=$(in_ns systemctl show -p ActiveState --value backlogd.service)
[ "$state" = active ] || fail "backlogd.service is $state, not active"
# Type=notify: active means READY=1 arrived; STATUS= carries the summary.
status_text=$(in_ns systemctl show -p StatusText --value backlogd.service)
echo "StatusText: $status_text"
case "$status_text" in *listeners*) ;; *) fail "no STATUS= summary from sd_notify" ;; esac

# A listener in the namespace: the hardened service must still name its owner
# (reading /proc/PID/fd needs the capabilities the unit keeps).
in_ns "$top_builddir/tests/tools/tcpload" listen 127.0.0.1 8181 4 --lifetime 60 \
	--ready "$WORK/ready" >"$WORK/listener.log" 2>&1 &
wait_for 50 "listener ready" test -s "$WORK/ready"
# The pid as the namespace sees it, as the service sees it too.
listener_pid=$(sed -n 's/^ready //p' "$WORK/ready")

status_has_owner() {
	in_ns "$top_builddir/backlogctl" --json status >"$WORK/status.json" 2>/dev/null &&
	jq -e '.listeners[] | select(.listener == "127.0.0.1:8181") |
		.processes[0].comm == "tcpload" and .processes[0].pid == '"$listener_pid"'' \
		"$WORK/status.json" >/dev/null
}
wait_for 50 "the unit names the listener's owner" status_has_owner

# Another network namespace (ip netns, under this namespace's private /run):
# the hardened unit must enter it (setns: CAP_SYS_ADMIN, RestrictNamespaces=net).
# Its name may be the /run/netns one or the process's: the service's own mount
# namespace does not always see a bind mount made after it started.
in_ns ip netns add unitns || fail "ip netns add failed"
in_ns ip netns exec unitns ip link set lo up
in_ns ip netns exec unitns "$top_builddir/tests/tools/tcpload" listen 127.0.0.1 8282 4 --lifetime 60 \
	--ready "$WORK/ready2" >"$WORK/listener2.log" 2>&1 &
wait_for 50 "listener in unitns ready" test -s "$WORK/ready2"
status_sees_netns() {
	in_ns "$top_builddir/backlogctl" --json status >"$WORK/status2.json" 2>/dev/null &&
	jq -e '.listeners[] | select(.listener == "127.0.0.1:8282" and .netns.kind != "host")' \
		"$WORK/status2.json" >/dev/null
}
for i in $(seq 100); do status_sees_netns && break; sleep 0.1; done
status_sees_netns || { jq -c '[.namespaces[] | {name, kind, last_error}]' "$WORK/status2.json";
	fail "the unit does not follow the unitns namespace"; }
jq -e '.daemon.ticks >= 1 and (.limits.somaxconn | type) == "number" and
	.daemon.kernel_log == true and .daemon.rtnetlink == true' "$WORK/status.json" >/dev/null ||
	fail "status from the unit is wrong: $(cat "$WORK/status.json")"
# The unit's sandbox (capabilities, system call filter) lets the eBPF tier load, all of it, when it is built.
jq -e '(.daemon.bpf == true and .daemon.bpf_why == null) or (.daemon.bpf_why | startswith("built without"))' \
	"$WORK/status.json" >/dev/null ||
	fail "the unit keeps the eBPF tier from running: $(jq -c '.daemon | {bpf, bpf_why, bpf_parts}' "$WORK/status.json")"
in_ns "$top_builddir/backlogctl" status || fail "human status through the unit failed"
# Not root: its own user, with the capabilities above as ambient ones (the
# owner of a root process's listener was named, other namespaces entered, the
# kernel log followed). Process exits are not asserted: the kernel's process
# connector answers only in the initial PID namespace, which this is not.
main_pid=$(in_ns systemctl show -p MainPID --value backlogd.service)
[ "$(in_ns ps -o user= -p "$main_pid")" = backlogd ] ||
	fail "backlogd runs as $(in_ns ps -o user= -p "$main_pid"), not as the user backlogd"
[ "$(in_ns stat -c %G /run/backlogd/backlogd.sock)" = backlogd ] ||
	fail "the control socket's group is not backlogd"
mode=$(in_ns stat -c %a /run/backlogd/backlogd.sock)
[ "$mode" = 660 ] || fail "control socket mode is $mode, not 660"

# Three watchdog periods later it is still the same process: WATCHDOG=1 arrives.
main_pid=$(in_ns systemctl show -p MainPID --value backlogd.service)
sleep 3
[ "$(in_ns systemctl show -p MainPID --value backlogd.service)" = "$main_pid" ] ||
	fail "backlogd was restarted: the watchdog was not petted"
[ "$(in_ns systemctl show -p NRestarts --value backlogd.service)" = 0 ] || fail "backlogd restarted"
[ "$(in_ns systemctl show -p WatchdogUSec --value backlogd.service)" = 1s ] ||
	fail "the watchdog drop-in did not apply"

# Reload through the unit (SIGHUP) keeps it running; stop is clean.
in_ns systemctl reload backlogd.service || fail "reload failed"
sleep 0.5
[ "$(in_ns systemctl show -p ActiveState --value backlogd.service)" = active ] || fail "not active after reload"
in_ns systemctl stop backlogd.service || fail "stop failed"
result=$(in_ns systemctl show -p Result --value backlogd.service)
[ "$result" = success ] || { in_ns systemctl status backlogd.service --no-pager -l; fail "stop result is $result"; }

# The metrics endpoint: the unit allows no Internet socket, so -m fails at
# start and says why; the shipped drop-in (installed as an example) opens
# what it needs, and the unit then serves /metrics.
dropin=$(find "$WORK/stage" -name backlogd-metrics.conf | head -1)
[ -n "$dropin" ] || fail "make install did not install backlogd-metrics.conf"
printf '[Service]\nExecStart=\nExecStart=%s -m 127.0.0.1:9110\nStandardError=file:%s\n' \
	"$execstart" "$WORK/unit-stderr.log" >"$WORK/metrics-on.conf"
in_ns sh -c "cp '$WORK/metrics-on.conf' /run/systemd/system/backlogd.service.d/ && systemctl daemon-reload"
in_ns systemctl start backlogd.service 2>/dev/null && fail "-m started under the unit without the drop-in"
in_ns systemctl stop backlogd.service 2>/dev/null
grep -q 'cannot listen on 127.0.0.1:9110 for the metrics: .*restricts address families.*backlogd-metrics.conf' \
	"$WORK/unit-stderr.log" || fail "no error naming the drop-in: $(cat "$WORK/unit-stderr.log")"
in_ns sh -c "cp '$dropin' /run/systemd/system/backlogd.service.d/metrics.conf && systemctl daemon-reload"
in_ns systemctl start backlogd.service || { cat "$WORK/unit-stderr.log"; fail "-m with the drop-in did not start"; }
code=$(in_ns curl -s -o "$WORK/unit-metrics.txt" --max-time 3 -w '%{http_code}' http://127.0.0.1:9110/metrics)
[ "$code" = 200 ] && grep -q '^backlogd_build_info{' "$WORK/unit-metrics.txt" ||
	fail "the unit with the drop-in does not serve /metrics ($code)"
in_ns systemctl stop backlogd.service || fail "stop with the endpoint failed"
[ "$(in_ns systemctl show -p Result --value backlogd.service)" = success ] || fail "stop with the endpoint was not clean"
echo "PASS: backlogd.service active via READY=1 under a real systemd; status answered; /metrics with the drop-in"
