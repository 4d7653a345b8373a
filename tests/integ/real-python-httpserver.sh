#!/bin/bash
# real-python-httpserver.sh: Python's http.server (socketserver, `request_queue_size = 4`), healthy and fast, hit by a burst of 80 clients at once: backlog-small on that listener naming python, with Python's own knob request_queue_size in the remedy, and nothing else.
# Issue 10 point 6 (the fix in the software's own words), point 4 (one
# verdict) and point 1 (a burst of clients that complete their handshakes is
# no SYN flood).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is not installed"
require_real ab
real_enter

PORT=7207
L="127.0.0.1:$PORT"
cat >"$WORK/server.py" <<PYS
import http.server

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass

class Server(http.server.HTTPServer):
    request_queue_size = 4

Server(("127.0.0.1", $PORT), Handler).serve_forever()
PYS
start_daemon
"$PY" "$WORK/server.py" >"$WORK/py.log" 2>&1 &
py=$!
PIDS="$PIDS $py"
wait_port $PORT python
wait_for 50 "daemon sees python's listener with backlog 4" jq_status "$(lrow "$L") | select(.backlog == 4)"
ab -q -n 200 -c 1 "http://$L/" >"$WORK/ab.log" 2>&1 || fail "ab failed on a healthy server: $(tail -3 "$WORK/ab.log")"
wait_ticks 2
snap "$WORK/healthy.json"
no_finding "$WORK/healthy.json"

# 80 connects at once, each sending one line (http.server answers it with a
# 400 at once; a client that sent nothing would block this single-threaded
# server in its read, a stall of its own): the queue of 4 overflows in microseconds, the server
# drains it as fast as ever, and the dropped SYNs come back 1 s later.
"$TCPLOAD" connect 127.0.0.1 $PORT 80 --send --timeout-ms 5000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 10
record_for 3
wait "$client"
cat "$WORK/client.log"
grep -q '^connected=80 ' "$WORK/client.log" || note "not every client connected within 5 s"
snap "$WORK/status.json"
check_one_verdict "$L"
check_no_flood "$L"
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, comm, message, remedy, knob}' "$WORK/f.json")"
expect "$WORK/f.json" "a burst on a fast server with request_queue_size 4 is backlog-small naming python $py: $(jq -c '{cause, pid, comm}' "$WORK/f.json")" \
	'.cause == "backlog-small" and .pid == $p' --argjson p "$py"
expect "$WORK/f.json" "the remedy should name Python's request_queue_size: $(jq -c '{remedy, knob}' "$WORK/f.json")" \
	'.remedy | contains("request_queue_size")'
real_done "burst on python http.server $L"
