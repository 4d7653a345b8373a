# lib.sh: shared helpers for the integration tests (sourced, POSIX sh + bash).
# Each test re-executes itself inside its own network namespace (and mount
# namespace where it needs a private /run), so it sees fresh counters and its
# sysctl changes never touch the host.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
BACKLOGD="$top_builddir/backlogd"
BACKLOGCTL="$top_builddir/backlogctl"
TCPLOAD="$top_builddir/tests/tools/tcpload"
TICK=${TICK:-0.5}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; dump_logs; exit 1; }
note() { echo "--- $*"; }

dump_logs() {
	if [ -n "${WORK:-}" ] && [ -f "$WORK/backlogd.log" ]; then
		echo "--- backlogd log (last 40 lines)"
		tail -n 40 "$WORK/backlogd.log"
	fi
}

require_tools() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
	done
}

# Re-run this script inside new namespaces: enter_ns "-n" or enter_ns "-n -m".
# The marker variable keeps the child from recursing.
enter_ns() {
	if [ -n "${BACKLOGD_IN_NS:-}" ]; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || skip "needs root to create a network namespace"
	command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) is not installed"
	unshare $1 true 2>/dev/null || skip "unshare $1 is not permitted here"
	BACKLOGD_IN_NS=1 exec unshare $1 "$0"
}

# private_run_netns: `ip netns add` bind-mounts under /run/netns; in the test's
# own mount namespace, a tmpfs over /run keeps them (and the directory) off the
# real /run, which has no netns directory on most hosts.
private_run_netns() {
	mount -t tmpfs tmpfs /run || fail "cannot mount a private /run"
	mkdir -p /run/netns
	mount -t tmpfs tmpfs /run/netns || fail "cannot mount a tmpfs over /run/netns"
}

# private_journald: a systemd-journald of the test's own, in its mount
# namespace (enter_ns "-n -m"): a tmpfs over /run and /var/log, so the
# journal lives and dies with the test. Return: 1 when there is none to
# start (no journald or journalctl, or the mounts refused).
JOURNALD=/lib/systemd/systemd-journald
private_journald() {
	[ -x "$JOURNALD" ] && command -v journalctl >/dev/null 2>&1 || return 1
	mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/log || return 1
	mkdir -p /run/systemd/journal /var/log/journal
	"$JOURNALD" >"$WORK/journald.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 50 "journald socket" test -S /run/systemd/journal/socket
}

# add_ns NAME: `ip netns add NAME`, its loopback up.
add_ns() {
	ip netns add "$1" || fail "ip netns add $1 failed"
	ip netns exec "$1" ip link set lo up || fail "cannot bring lo up in $1"
}

# ns_listener NAME NS ADDR PORT BACKLOG [options]: a tcpload listener inside
# NS; sets ${NAME}_PID from its "ready PID" (ip netns exec execs, so it is $!
# too, but the ready line is what tcpload vouches for).
ns_listener() {
	local name=$1 ns=$2 pid
	shift 2
	rm -f "$WORK/$name.ready"
	ip netns exec "$ns" "$TCPLOAD" listen "$@" --ready "$WORK/$name.ready" --lifetime 120 \
		>"$WORK/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 50 "listener $name ready in $ns" test -s "$WORK/$name.ready"
	pid=$(awk '$1 == "ready" { print $2 }' "$WORK/$name.ready")
	[ "$pid" = "$!" ] || fail "listener $name: ready says pid $pid, started as $!"
	eval "${name}_PID=$pid"
}

# Per-test scratch directory, removed with every background process on exit.
setup_work() {
	WORK=$(mktemp -d /tmp/backlogd-test.XXXXXX)
	SOCK="$WORK/ctl.sock"
	PIDS=""
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	ip link set lo up || fail "cannot bring lo up in the namespace"
}

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}

# Every test sees every network namespace of the machine through /proc, the
# other tests' included: only a test about namespaces follows them
# (SCAN_NAMESPACES=1, and it also isolates /proc with a PID namespace).
ns_flag() { [ -n "${SCAN_NAMESPACES:-}" ] || echo -N; }

# start_daemon [extra backlogd args]: backlogd in the foreground with a private socket.
start_daemon() {
	"$BACKLOGD" -d -i "$TICK" -S "$SOCK" -f /dev/null $(ns_flag) "$@" >"$WORK/backlogd.log" 2>&1 &
	DAEMON_PID=$!
	PIDS="$PIDS $DAEMON_PID"
	wait_for 50 "backlogd answers" ctl_ping
}

ctl_ping() { "$BACKLOGCTL" -S "$SOCK" --json status >/dev/null 2>&1; }

# wait_for TRIES WHAT CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	local tries=$1 what=$2 i=0
	shift 2
	while [ $i -lt "$tries" ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "timed out waiting for: $what"
}

# start_listener NAME ADDR PORT BACKLOG [tcpload listen options]: sets ${NAME}_PID.
start_listener() {
	local name=$1
	shift
	rm -f "$WORK/$name.ready"
	"$TCPLOAD" listen "$@" --ready "$WORK/$name.ready" --lifetime 120 >"$WORK/$name.log" 2>&1 &
	local pid=$!
	PIDS="$PIDS $pid"
	wait_for 50 "listener $name ready" test -s "$WORK/$name.ready"
	eval "${name}_PID=$pid"
}

# status_json: the daemon's status document.
status_json() { "$BACKLOGCTL" -S "$SOCK" --json status; }

# jq_status FILTER: true when FILTER is true on the current status.
jq_status() { status_json 2>/dev/null | jq -e "$1" >/dev/null 2>&1; }

# The tick count the daemon reports.
daemon_ticks() { status_json | jq -r '.daemon.ticks'; }

# wait_ticks N: return once the daemon has run N more ticks.
wait_ticks() {
	local target=$(( $(daemon_ticks) + $1 )) i=0
	while [ $i -lt 100 ]; do
		[ "$(daemon_ticks)" -ge "$target" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "daemon did not tick $1 times in 10 s"
}

# stop_daemon: SIGTERM must end backlogd cleanly within a second, with no
# sanitizer report in its log (ASan/UBSan/LSan write there at exit).
stop_daemon() {
	local i=0 rc
	kill -TERM "$DAEMON_PID" 2>/dev/null || fail "backlogd died before the end of the test"
	while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 10 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$DAEMON_PID" 2>/dev/null && fail "backlogd still running 1 s after SIGTERM"
	wait "$DAEMON_PID"
	rc=$?
	[ "$rc" -eq 0 ] || fail "backlogd exited with $rc on SIGTERM"
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/backlogd.log"; then
		fail "sanitizer report in the backlogd log"
	fi
}
