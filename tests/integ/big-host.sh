#!/bin/bash
# big-host.sh: 10,000 listeners, a status reply of some 10 MB: status and
# listeners arrive whole (a reply over 4 MiB once dropped the client, and
# backlogctl then said the daemon was not running), and 16 clients reading
# status back to back do not hold the tick (replies are built once a tick).
. "$(dirname "$0")/lib.sh"
require_tools jq python3
enter_ns "-n"
setup_work

N=10000
# A tick of 10,000 listeners is slower than the usual test tick on a loaded machine.
TICK=1
# One process holds every listener, as a load balancer does; it ends on its own.
python3 - "$N" "$WORK/listeners.ready" <<'PY' >"$WORK/listeners.log" 2>&1 &
import resource, socket, sys, time
n, ready = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < n + 64:
    print("skip: open-file limit %d" % hard)
    sys.exit(77)
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64 if hard == resource.RLIM_INFINITY else hard, hard))
held = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 20000 + i))
    s.listen(16)
    held.append(s)
open(ready, "w").write("ready\n")
time.sleep(90)
PY
HOLDER=$!
PIDS="$PIDS $HOLDER"
i=0
while [ ! -s "$WORK/listeners.ready" ] && [ $i -lt 300 ]; do
	kill -0 "$HOLDER" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ ! -s "$WORK/listeners.ready" ]; then
	grep -q '^skip' "$WORK/listeners.log" && skip "$(cat "$WORK/listeners.log")"
	fail "$N listeners not made in 30 s: $(tail -n 3 "$WORK/listeners.log")"
fi

"$BACKLOGD" -d -i "$TICK" -S "$SOCK" -f /dev/null $(ns_flag) >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 100 "backlogd answers" ctl_ping
wait_for 100 "backlogd sees $N listeners" jq_status ".listeners | length == $N"

note "status and listeners of $N listeners arrive whole"
t0=$(date +%s%N)
"$BACKLOGCTL" -S "$SOCK" --json status >"$WORK/status.json" || fail "status failed with $?"
t1=$(date +%s%N)
jq -e ".listeners | length == $N" "$WORK/status.json" >/dev/null || fail "status lacks listeners"
bytes=$(python3 -c "import json,sys;print(len(json.dumps(json.load(open(sys.argv[1])),separators=(',',':'))))" "$WORK/status.json")
[ "$bytes" -gt $((4 << 20)) ] || fail "status of $N listeners is only $bytes bytes: not a test of big replies"
"$BACKLOGCTL" -S "$SOCK" --json listeners >"$WORK/listeners.json" || fail "listeners failed with $?"
jq -e "length == $N" "$WORK/listeners.json" >/dev/null || fail "listeners: not $N rows"
"$BACKLOGCTL" -S "$SOCK" status >"$WORK/status.txt" || fail "status (table) failed with $?"
echo "status of $N listeners: $bytes bytes, $(( (t1 - t0) / 1000000 )) ms through backlogctl --json"

note "16 clients reading status back to back for 5 s; the tick keeps its pace"
timeout 40 python3 - "$SOCK" "$TICK" <<'PY' || fail "status under load failed"
import json, socket, sys, threading, time

path, tick = sys.argv[1], float(sys.argv[2])

def ask(s, req):
    s.sendall(req)
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise SystemExit("connection closed after %d bytes" % len(buf))
        buf += chunk
    return buf

def daemon_state():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    d = json.loads(ask(s, b'{"command":"status"}\n'))["data"]["daemon"]
    s.close()
    return d["ticks"]

replies, errors, slowest = [0], [], [0.0]
stop = time.monotonic() + 5

def reader():
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(path)
        while time.monotonic() < stop:
            t = time.monotonic()
            r = ask(s, b'{"command":"status"}\n')
            slowest[0] = max(slowest[0], time.monotonic() - t)
            if not r.startswith(b'{"ok":true'):
                errors.append(r[:200])
                return
            replies[0] += 1
    except Exception as e:
        errors.append(repr(e))

ticks0, t0 = daemon_state(), time.monotonic()
threads = [threading.Thread(target=reader) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ticks1, t1 = daemon_state(), time.monotonic()
assert not errors, errors[:3]
expected = (t1 - t0) / tick
print("%d status replies in %.1f s (slowest %.2f s); %d ticks, %.1f expected"
      % (replies[0], t1 - t0, slowest[0], ticks1 - ticks0, expected))
assert replies[0] >= 16, replies[0]
assert ticks1 - ticks0 >= 0.8 * expected - 1, "ticks delayed: %d in %.1f s" % (ticks1 - ticks0, t1 - t0)
PY

note "a failed exchange is not a dead daemon"
# A socket nobody listens on: not running, exit 3.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$WORK/dead.sock"
rc=0; "$BACKLOGCTL" -S "$WORK/dead.sock" status 2>"$WORK/dead.err" || rc=$?
[ "$rc" -eq 3 ] || fail "nobody listening: exit $rc, not 3"
# A server that accepts and closes mid-reply: exit 5, and says the reply was cut short.
timeout 20 python3 - "$WORK/cut.sock" <<'PY' &
import socket, sys
l = socket.socket(socket.AF_UNIX)
l.bind(sys.argv[1])
l.listen(1)
c, _ = l.accept()
req = b""
while not req.endswith(b"\n"):
    req += c.recv(4096)
c.sendall(b'{"ok":true,"data":{"daemon":' + b" " * 100000)
c.close()
PY
CUT=$!
PIDS="$PIDS $CUT"
wait_for 50 "fake daemon listens" test -S "$WORK/cut.sock"
rc=0; "$BACKLOGCTL" -S "$WORK/cut.sock" status 2>"$WORK/cut.err" || rc=$?
[ "$rc" -eq 5 ] || fail "reply cut short: exit $rc, not 5 ($(cat "$WORK/cut.err"))"
grep -q "before the end of its reply" "$WORK/cut.err" || fail "cut reply not said: $(cat "$WORK/cut.err")"

kill -0 "$DAEMON_PID" || fail "daemon died"
stop_daemon
echo "PASS: big host, $N listeners"
