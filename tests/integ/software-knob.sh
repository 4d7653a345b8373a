#!/bin/bash
# software-knob.sh: a real redis-server with a tiny tcp-backlog, overflowed by a burst of connects: backlogd's remedy must name Redis's own setting, tcp-backlog, with the value to set.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip redis-server redis-cli mkfifo
enter_ns "-n"
setup_work

PORT=7363
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
	--tcp-backlog 2 --maxclients 2000 >"$WORK/redis.log" 2>&1 &
redis_PID=$!
PIDS="$PIDS $redis_PID"
wait_for 50 "redis answers" sh -c "redis-cli -p $PORT ping 2>/dev/null | grep -q PONG"
row='.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
wait_for 50 "daemon sees redis-server[$redis_PID] with backlog 2" \
	jq_status "$row"' | .backlog == 2 and (.processes | map(.pid) | index('"$redis_PID"') != null)'

# Bursts of connects, faster than one event loop turn accepts: the queue of 2 overflows.
filter='.findings[] | select((.cause == "backlog-small" or .cause == "slow-accept") and .listener == "127.0.0.1:'$PORT'")'
for i in $(seq 10); do
	"$TCPLOAD" connect 127.0.0.1 $PORT 400 --timeout-ms 300 --hold-ms 200 >"$WORK/client.log" 2>&1
	jq_status "$filter" && break
done
cat "$WORK/client.log"
wait_finding "an overflow finding on 127.0.0.1:$PORT" "$filter"
status_json >"$WORK/status.json"
jq -r "$filter | \"finding: \\(.cause): \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e "$filter | select(.cause == \"backlog-small\")" "$WORK/status.json" >/dev/null ||
	skip "the burst read as a stall here (slow-accept), whose remedy is no backlog"
jq -e "$filter"' | .remedy | test("set `tcp-backlog [0-9]+` in redis.conf \\(it is 2 now")' "$WORK/status.json" >/dev/null ||
	fail "remedy should name tcp-backlog: $(jq -c "$filter | .remedy" "$WORK/status.json")"
jq -e "$filter"' | .remedy | contains("Java ServerSocket") | not' "$WORK/status.json" >/dev/null ||
	fail "remedy still has the generic defaults: $(jq -c "$filter | .remedy" "$WORK/status.json")"
stop_daemon
echo "PASS: overflow of redis-server[$redis_PID] on 127.0.0.1:$PORT: remedy names tcp-backlog"
