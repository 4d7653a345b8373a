#!/bin/bash
# hostile-names.sh: a listener whose process name carries ESC[2J, BEL, a
# newline, a forged "<0>" priority and a C1 control (CSI, U+009B) overflows.
# The JSON keeps the name exact, but neither backlogd's -d stderr (the alert
# line and the journal's fallback) nor any backlogctl table may pass a raw
# control byte, and no stderr line may start with the forged "<0>".
. "$(dirname "$0")/lib.sh"
require_tools jq ip python3
enter_ns "-n"
setup_work

# Bytes in FILE that act on a terminal: C0 controls but tab and newline, DEL, C1 in UTF-8.
has_controls() { LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; }

start_daemon
# The process names itself (prctl PR_SET_NAME, 15 bytes at most), listens
# with backlog 2 and never accepts.
python3 - "$WORK/srv.ready" >"$WORK/srv.log" 2>&1 <<'PY' &
import ctypes, socket, sys, time
name = b"\x1b[2J\x07\n<0>x\xc2\x9b"
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8080))
s.listen(2)
open(sys.argv[1], "w").write("ok")
time.sleep(60)
PY
srv_PID=$!
PIDS="$PIDS $srv_PID"
wait_for 50 "listener ready" test -s "$WORK/srv.ready"
comm=$(od -An -c "/proc/$srv_PID/comm" | tr -s ' ')
note "comm of $srv_PID:$comm"
LC_ALL=C grep -qaF '<0>x' "/proc/$srv_PID/comm" || skip "prctl did not set the name"

# The JSON document keeps the name exact (jq decodes its escapes).
wait_for 50 "daemon sees the hostile name" jq_status \
	'.listeners[] | select(.listener == "127.0.0.1:8080") | .processes[0].comm == "\u001b[2J\u0007\n<0>x\u009b"'

"$TCPLOAD" connect 127.0.0.1 8080 20 --timeout-ms 300 >"$WORK/client.log" 2>&1
wait_for 60 "a finding on 127.0.0.1:8080" \
	jq_status '.findings[] | select(.listener == "127.0.0.1:8080" and .state == "active")'
wait_ticks 2

# The alert reached stderr, the name in it neutralised.
grep -qa 'on 127.0.0.1:8080' "$WORK/backlogd.log" || fail "no alert line on stderr"
LC_ALL=C grep -qaF '?[2J??<0>x?' "$WORK/backlogd.log" || fail "the name is not shown neutralised on stderr"
has_controls "$WORK/backlogd.log" && fail "raw control bytes on backlogd's stderr: $(od -c "$WORK/backlogd.log" | head -20)"
grep -qa '^<0>' "$WORK/backlogd.log" && fail "a line of stderr starts with the forged <0>"

for cmd in findings status listeners; do
	"$BACKLOGCTL" -S "$SOCK" $cmd >"$WORK/$cmd.txt" 2>&1 || fail "backlogctl $cmd failed"
	cat "$WORK/$cmd.txt"
	has_controls "$WORK/$cmd.txt" && fail "raw control bytes in backlogctl $cmd: $(od -c "$WORK/$cmd.txt" | head -20)"
done
LC_ALL=C grep -qaF '?[2J??<0>x?' "$WORK/findings.txt" "$WORK/status.txt" ||
	fail "backlogctl does not show the name neutralised"
stop_daemon
echo "PASS: a hostile process name reaches stderr and backlogctl neutralised"
