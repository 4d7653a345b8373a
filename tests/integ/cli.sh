#!/bin/bash
# cli.sh: backlogctl and backlogd as a user meets them: exit codes, errors,
# options after the command, explain, one-shot diagnose, -n, SIGHUP reload.
. "$(dirname "$0")/lib.sh"
require_tools jq ip
enter_ns "-n"
setup_work

expect_exit() {   # expect_exit CODE CMD...: run CMD, check its exit code.
	local want=$1 rc
	shift
	"$@" >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, want $want: $(cat "$WORK/out")"
}

note "no daemon: exit 3 with a clear message"
expect_exit 3 "$BACKLOGCTL" -S "$WORK/none.sock" status
grep -q "$WORK/none.sock" "$WORK/out" || fail "message does not name the socket: $(cat "$WORK/out")"
grep -qi "running" "$WORK/out" || fail "message does not say the daemon is not running"

note "usage errors: exit 2"
expect_exit 2 "$BACKLOGCTL" -S "$SOCK" frobnicate
expect_exit 2 "$BACKLOGCTL" -S "$SOCK" explain
expect_exit 2 "$BACKLOGCTL" --bogus status
expect_exit 2 "$BACKLOGCTL" diagnose --interval soon
expect_exit 0 "$BACKLOGCTL" --help
grep -q diagnose "$WORK/out" || fail "--help does not list the commands"

note "backlogd -n checks the configuration"
printf '[daemon]\ninterval = 2\n' >"$WORK/good.conf"
printf '[daemon]\ninterval = 2\nbogus = 1\n' >"$WORK/bad.conf"
expect_exit 0 "$BACKLOGD" -n -f "$WORK/good.conf"
expect_exit 1 "$BACKLOGD" -n -f "$WORK/bad.conf"
grep -q "$WORK/bad.conf:3: unknown key 'bogus'" "$WORK/out" || fail "no FILE:LINE in: $(cat "$WORK/out")"
expect_exit 1 "$BACKLOGD" -n -f "$WORK/missing.conf"
expect_exit 2 "$BACKLOGD" -i 0
expect_exit 2 "$BACKLOGD" -S relative.sock

note "one-shot diagnose without a daemon"
start_listener quiet 127.0.0.1 5050 64 --accept
expect_exit 0 "$BACKLOGCTL" diagnose --interval 0.5
start_listener stuck 127.0.0.1 5051 2
( sleep 0.3; "$TCPLOAD" connect 127.0.0.1 5051 15 --timeout-ms 200 >/dev/null 2>&1 ) &
burst=$!
expect_exit 1 "$BACKLOGCTL" --json diagnose --interval 1.5
jq -e '.findings[] | select(.listener == "127.0.0.1:5051" and .pid == '"$stuck_PID"')' "$WORK/out" >/dev/null ||
	fail "diagnose did not name 127.0.0.1:5051: $(cat "$WORK/out")"
wait "$burst"

note "daemon: options after the command, explain"
# No -i: the interval comes from the file, so a reload can change it.
printf '[daemon]\ninterval = 0.5\n' >"$WORK/live.conf"
"$BACKLOGD" $(ns_flag) -d -S "$SOCK" -f "$WORK/live.conf" >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 50 "backlogd answers" ctl_ping
"$TCPLOAD" connect 127.0.0.1 5051 15 --timeout-ms 200 >/dev/null 2>&1
wait_for 40 "finding on 5051" jq_status '.findings[] | select(.listener == "127.0.0.1:5051")'
expect_exit 0 "$BACKLOGCTL" status --json -S "$SOCK"
jq -e '.listeners | length >= 2' "$WORK/out" >/dev/null || fail "options after the command not taken"
expect_exit 0 "$BACKLOGCTL" -S "$SOCK" explain 5051
grep -q "127.0.0.1:5051" "$WORK/out" || fail "explain lacks the listener"
grep -Eq "backlog-small|slow-accept" "$WORK/out" || fail "explain lacks the finding: $(cat "$WORK/out")"
expect_exit 0 "$BACKLOGCTL" -S "$SOCK" --json explain 127.0.0.1:5051
jq -e '.chains[0].steps | length >= 3' "$WORK/out" >/dev/null || fail "explain chain too short"
expect_exit 4 "$BACKLOGCTL" -S "$SOCK" explain 127.0.0.1:9999
grep -q "no listener" "$WORK/out" || fail "explain of nothing: $(cat "$WORK/out")"
expect_exit 0 "$BACKLOGCTL" -S "$SOCK" listeners
grep -q "127.0.0.1:5050" "$WORK/out" || fail "listeners table lacks 5050"
expect_exit 0 "$BACKLOGCTL" -S "$SOCK" findings

note "SIGHUP: a bad file keeps the old configuration, a good one applies"
printf '[daemon]\ninterval = nope\n' >"$WORK/live.conf"
kill -HUP "$DAEMON_PID"
wait_for 30 "reload refusal logged" grep -q "keeping the old configuration" "$WORK/backlogd.log"
ctl_ping || fail "daemon stopped answering after a bad reload"
jq_status '.daemon.tick_interval_ms == 500' || fail "interval changed by a bad file"
printf '[daemon]\ninterval = 0.3\n' >"$WORK/live.conf"
kill -HUP "$DAEMON_PID"
wait_for 30 "new interval" jq_status '.daemon.tick_interval_ms == 300'
stop_daemon
echo "PASS: backlogctl and backlogd command line"
