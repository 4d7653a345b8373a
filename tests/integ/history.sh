#!/bin/bash
# history.sh: the daemon keeps the recent queue and drops of a listener that
# overflowed, and not of an idle one; the top document and explain serve
# them, and the drops they add up to are the ones the listener counted.
. "$(dirname "$0")/lib.sh"
require_tools jq ip python3
enter_ns "-n"
setup_work

# ask COMMAND [TARGET]: the control protocol's raw reply data, as backlogctl would get it.
ask() {
	python3 - "$SOCK" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
req = {"command": sys.argv[2]}
if len(sys.argv) > 3:
    req["target"] = sys.argv[3]
s.sendall((json.dumps(req) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
reply = json.loads(buf)
if not reply.get("ok"):
    sys.exit("error: %s" % reply.get("error"))
print(json.dumps(reply["data"]))
PY
}

start_daemon
start_listener hot 127.0.0.1 8080 4
start_listener idle 127.0.0.1 8081 4
wait_for 30 "daemon sees both listeners" \
	jq_status '[.listeners[] | select(.listener == "127.0.0.1:8080" or .listener == "127.0.0.1:8081")] | length == 2'
wait_ticks 2
# The one that never accepts overflows; the other is connected to once, and accepts nothing either:
# one connection in a queue of 4 is not hot.
"$TCPLOAD" connect 127.0.0.1 8081 1 --timeout-ms 300 >/dev/null 2>&1
"$TCPLOAD" connect 127.0.0.1 8080 12 --timeout-ms 300 >"$WORK/client.log" 2>&1
wait_ticks 3

ask top >"$WORK/top.json" || fail "top failed: $(cat "$WORK/top.json")"
status_json >"$WORK/status.json"
jq -c '.listeners[] | select(.listener | startswith("127.0.0.1:808"))' "$WORK/top.json"
total=$(jq '.listeners[] | select(.listener == "127.0.0.1:8080") | .drops_total' "$WORK/status.json")
[ "$total" -gt 0 ] || fail "the listener counted no drops: the queue never overflowed"
jq -e --argjson total "$total" '.listeners[] | select(.listener == "127.0.0.1:8080") |
	.backlog == 4 and .history.backlog == 4 and
	(.history.queue | length) >= 5 and (.history.queue | length) <= 60 and
	(.history.queue | max) >= 4 and (.history.queue | first) == 0 and
	(.history.drops | add) == $total and .drops_minute == $total and
	.comm == "tcpload" and .pid > 0' "$WORK/top.json" >/dev/null ||
	fail "the overflowing listener's history is wrong (drops_total $total)"
jq -e '.listeners[] | select(.listener == "127.0.0.1:8081") | has("history") | not' "$WORK/top.json" >/dev/null ||
	fail "an idle listener got a history"
jq -e '.interval_ms == 500 and .history_ticks == 60 and .daemon.history_kept == 1 and
	.daemon.history_bytes > 0 and .limits.somaxconn == 4096 and
	(.host.counters | length) > 0 and
	([.findings[] | select(.listener == "127.0.0.1:8080")] | length) == 1' "$WORK/top.json" >/dev/null ||
	fail "the top document is wrong: $(jq -c 'del(.listeners)' "$WORK/top.json")"

# A point per tick: three ticks later the history is three points longer (up to 60).
len=$(jq '.listeners[] | select(.listener == "127.0.0.1:8080") | .history.queue | length' "$WORK/top.json")
wait_ticks 3
len2=$(ask top | jq '.listeners[] | select(.listener == "127.0.0.1:8080") | .history.queue | length')
[ "$len2" -ge $((len + 3)) ] || [ "$len2" -eq 60 ] || fail "history did not grow a point per tick: $len then $len2"

# explain carries the same history, with the interval it is counted in.
"$BACKLOGCTL" -S "$SOCK" --json explain 127.0.0.1:8080 >"$WORK/explain.json" || fail "explain failed"
jq -e --argjson total "$total" '.chains[0].history | .interval_ms == 500 and .backlog == 4 and
	(.drops | add) == $total and (.queue | max) >= 4' "$WORK/explain.json" >/dev/null ||
	fail "explain lacks the history: $(jq -c '.chains[0].history' "$WORK/explain.json")"
"$BACKLOGCTL" -S "$SOCK" --json explain 127.0.0.1:8081 >"$WORK/explain-idle.json" || fail "explain idle failed"
jq -e '.chains[0] | has("history") | not' "$WORK/explain-idle.json" >/dev/null ||
	fail "the idle listener's explain has a history"
stop_daemon
echo "PASS: history of 127.0.0.1:8080 ($total drops) in top and explain; none for the idle one"
