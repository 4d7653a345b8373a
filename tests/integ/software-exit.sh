#!/bin/bash
# software-exit.sh: a Python listener that exits with status 3, then one stopped by SIGTERM, then one that aborts: backlogd follows process exits (the kernel's process connector) and must call the first gap an exit with status 3 and the third a crash by SIGABRT, with crash advice, and the SIGTERM one a restart with restart advice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip python3
enter_ns "-n"
setup_work
PORT=7362

# A listener that exits with status 3 on SIGUSR1 and has no SIGTERM or SIGABRT handler.
cat >"$WORK/listener.py" <<'PY'
import os, signal, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
signal.signal(signal.SIGUSR1, lambda *a: os._exit(3))
signal.signal(signal.SIGTERM, signal.SIG_DFL)
while True:
    signal.pause()
PY

# start_listener NAME: sets NAME_PID once the daemon sees it hold 127.0.0.1:PORT.
start_listener() {
	python3 "$WORK/listener.py" $PORT &
	local pid=$!
	PIDS="$PIDS $pid"
	eval "$1_PID=$pid"
	wait_for 50 "the daemon sees python3[$pid]" \
		jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'") | .processes | map(.pid) | index('"$pid"') != null'
}

# gap_closed_by PID: the listener-gap whose listener came back under PID, into $WORK/status.json.
gap_closed_by() {
	wait_finding "the gap closed with pid $1" "$filter"' | select(.pid == '"$1"')'
	status_json >"$WORK/status.json"
	jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
}

# Processes dumped core into the scratch directory at most; none is wanted.
ulimit -c 0
# Exits are reported in the host's first network namespace only: the test's
# parent (the test driver, before unshare) is there, and /proc/1 may be closed to us.
start_daemon -E "/proc/$PPID/ns/net"
jq_status '.daemon.proc_events == true' ||
	skip "backlogd does not follow process exits here (no process connector)"
filter='.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$PORT'")'

start_listener one
comm=$(cat /proc/$one_PID/comm)
kill -USR1 "$one_PID"
wait "$one_PID" 2>/dev/null
rc=$?
[ "$rc" -eq 3 ] || fail "python3[$one_PID] exited with $rc, not 3"
sleep 1
start_listener two
gap_closed_by "$two_PID"
jq -e "$filter"' | (.message | contains("between '"$comm"'['"$one_PID"'] exiting with status 3 and '"$comm"'['"$two_PID"']"))
	and .evidence.died_pid == '"$one_PID"' and .knob.name == "crash"
	and (.remedy | contains("exited with status 3, so no restart method would have avoided the gap"))
	and (.remedy | contains("SO_REUSEPORT hand-over") | not) and (.remedy | contains("nginx -s reload") | not)' \
	"$WORK/status.json" >/dev/null ||
	fail "an exit with status 3 should read as one: $(jq -c "$filter | {message, remedy, knob}" "$WORK/status.json")"
jq -e '.gaps[] | select(.listener == "127.0.0.1:'$PORT'" and .old_pid == '"$one_PID"') | .died == {kind: "exit", pid: '"$one_PID"', comm: "'"$comm"'", signal: null, status: 3}' \
	"$WORK/status.json" >/dev/null || fail "gap JSON lacks the exit: $(jq -c '.gaps' "$WORK/status.json")"

# SIGTERM with no handler: how systemctl stop ends it. A restart, with restart advice.
kill -TERM "$two_PID"
wait "$two_PID" 2>/dev/null
rc=$?
[ "$rc" -eq $((128 + 15)) ] || fail "python3[$two_PID] ended with $rc, not by SIGTERM"
sleep 1
start_listener three
gap_closed_by "$three_PID"
jq -e "$filter"' | (.message | contains("between '"$comm"'['"$two_PID"'] and '"$comm"'['"$three_PID"']"))
	and (.message | test("crash|killed|exit") | not) and .evidence.died_pid == 0
	and .knob.name == "restart method" and (.remedy | contains("SO_REUSEPORT hand-over"))' \
	"$WORK/status.json" >/dev/null ||
	fail "a SIGTERM stop should read as a restart: $(jq -c "$filter | {message, remedy, knob}" "$WORK/status.json")"

# abort(): SIGABRT, which the kernel does not log. A crash.
kill -ABRT "$three_PID"
wait "$three_PID" 2>/dev/null
rc=$?
[ "$rc" -eq $((128 + 6)) ] || fail "python3[$three_PID] ended with $rc, not by SIGABRT"
sleep 1
start_listener four
gap_closed_by "$four_PID"
jq -e "$filter"' | (.message | contains("between '"$comm"'['"$three_PID"'] crashing (killed by SIGABRT) and '"$comm"'['"$four_PID"']"))
	and .evidence.died_pid == '"$three_PID"' and .knob.name == "crash"
	and (.remedy | contains("coredumpctl info '"$three_PID"'")) and (.remedy | contains("SO_REUSEPORT hand-over") | not)' \
	"$WORK/status.json" >/dev/null ||
	fail "SIGABRT should read as a crash: $(jq -c "$filter | {message, remedy, knob}" "$WORK/status.json")"
stop_daemon
echo "PASS: python3 exited 3 (crash), stopped by SIGTERM (restart), killed by SIGABRT (crash): gaps on 127.0.0.1:$PORT told so"
