#!/bin/bash
# stall.sh: a real server that stops accepting for 3 s under load (as a Node.js
# event loop blocked 3 s, or a GC pause, would) is slow-accept, with the
# stall's length, and one finding for its listener: never backlog-small beside
# it, whatever it was opened as. Its process stays running (state S), so the
# verdict rests on the queue alone: full at every sample and never draining.
. "$(dirname "$0")/lib.sh"
require_tools jq ip python3
enter_ns "-n -m"
setup_work

# With a real journald (private to this namespace) the records are checked too.
JOURNAL=""
private_journald && JOURNAL=1

PORT=8090
L="127.0.0.1:$PORT"

# Accepts and closes at once; SIGUSR1 blocks the accept loop for 3 s.
cat >"$WORK/server.py" <<'EOF'
import signal, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
signal.signal(signal.SIGUSR1, lambda *_: time.sleep(3))
open(sys.argv[2], "w").write("ready\n")
end = time.time() + 120
while time.time() < end:
    c, _ = s.accept()
    c.close()
EOF
start_daemon
python3 "$WORK/server.py" "$PORT" "$WORK/srv.ready" >"$WORK/srv.log" 2>&1 &
SRV_PID=$!
PIDS="$PIDS $SRV_PID"
wait_for 50 "server ready" test -s "$WORK/srv.ready"
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "'"$L"'" and .backlog == 8)'

# 100 connects a second for 6 s; the server stalls from 1.5 s to 4.5 s.
"$TCPLOAD" connect 127.0.0.1 "$PORT" 600 --interval-ms 10 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
LOAD_PID=$!
PIDS="$PIDS $LOAD_PID"
sleep 1.5
jq_status '[.findings[] | select(.listener == "'"$L"'")] | length == 0' ||
	fail "a finding before the stall: $(status_json | jq -c '.findings')"
kill -USR1 "$SRV_PID"
wait "$LOAD_PID"
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the stall never overflowed the queue"

# The stall, named as one, with how long the queue stayed full.
slow='.findings[] | select(.listener == "'"$L"'" and .cause == "slow-accept" and .state == "active"
	and .pid == '"$SRV_PID"' and .evidence.stall_ms >= 1500
	and (.message | test("stalled: the queue (has )?stayed full for [0-9.]+ s")))'
wait_for 50 "slow-accept with the stall's length" jq_status "$slow"
wait_ticks 4
status_json >"$WORK/status.json"
jq -e '[.findings[] | select(.listener == "'"$L"'")] | length == 1' "$WORK/status.json" >/dev/null ||
	fail "more than one finding for $L: $(jq -c '.findings' "$WORK/status.json")"
jq -e "$slow"' | (.remedy | test("raising the backlog only delays the drops"))
	and (.revised_from == null or .revised_from == "backlog-small")' "$WORK/status.json" >/dev/null ||
	fail "the finding is not the stall's: $(jq -c '.findings' "$WORK/status.json")"
stall_ms=$(jq -r "$slow | .evidence.stall_ms" "$WORK/status.json")
[ "$stall_ms" -le 3600 ] || fail "a 3 s stall told as $stall_ms ms"

# backlogctl findings says what the finding was before, if it was revised.
"$BACKLOGCTL" -S "$SOCK" findings >"$WORK/findings.txt" || fail "backlogctl findings failed"
cat "$WORK/findings.txt"
if jq -e "$slow | .revised_from == \"backlog-small\"" "$WORK/status.json" >/dev/null; then
	grep -q "revised from backlog-small" "$WORK/findings.txt" || fail "backlogctl findings hides the revision"
fi

# The alerts: one opening for the listener; a revision is a record of its own, never a second opening.
grep "on $L" "$WORK/backlogd.log"
opened=$(grep -E "^<[0-9]>backlogd: [a-z-]+ on $L" "$WORK/backlogd.log" | grep -vc "(revised from")
[ "$opened" -eq 1 ] || fail "expected one opening alert for $L, got $opened"
if grep -E "^<[0-9]>backlogd: backlog-small on $L" "$WORK/backlogd.log" >/dev/null; then
	grep -qE "^<3>backlogd: slow-accept on $L.* \(revised from backlog-small\): " "$WORK/backlogd.log" ||
		fail "opened as backlog-small and never revised"
fi
if [ -n "$JOURNAL" ]; then
	journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_LISTENER="$L" >"$WORK/records.json"
	jq -c '{BACKLOGD_STATE, BACKLOGD_CAUSE, BACKLOGD_REVISED_FROM, BACKLOGD_STALL_MS}' "$WORK/records.json"
	[ "$(jq -s '[.[] | select(.BACKLOGD_STATE == "open")] | length' "$WORK/records.json")" -eq 1 ] ||
		fail "expected one opening record for $L"
	jq -se '[.[] | select(.BACKLOGD_STATE == "revised")] |
		all(.BACKLOGD_CAUSE == "slow-accept" and .BACKLOGD_REVISED_FROM == "backlog-small"
		    and (.BACKLOGD_STALL_MS | tonumber) >= 1500 and (.MESSAGE | contains("(revised from backlog-small)")))' \
		"$WORK/records.json" >/dev/null || fail "a revision record is wrong"
	jq -se '[.[] | select(.BACKLOGD_STATE == "open" or .BACKLOGD_STATE == "revised")] | last |
		.BACKLOGD_CAUSE == "slow-accept"' "$WORK/records.json" >/dev/null ||
		fail "the journal's last word on $L is not slow-accept"
fi
stop_daemon
echo "PASS: a 3 s stall is slow-accept ($stall_ms ms full), one finding for $L"
