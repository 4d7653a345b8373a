#!/bin/bash
# real-redis.sh: redis-server with `tcp-backlog 8` stopped (SIGSTOP) under redis-benchmark and a client stream: one verdict, slow-accept naming redis-server; then a segfault and a restart 2 s later: listener-gap saying it crashed, with no nginx advice.
# Issue 10 points 4, 5 and 6: a stalled single-process server is slow-accept
# (the fix is not "raise the backlog"); if backlog-small is ever said, its
# remedy is Redis's own `tcp-backlog`; a gap after a crash says so and does
# not advise "nginx -s reload" to a Redis user.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip ss pgrep sysctl
require_real redis-server redis-benchmark redis-cli
# The kernel's "segfault at" line names the global pid: no PID namespace.
real_enter --no-pidns

PORT=7203
L="127.0.0.1:$PORT"
# somaxconn above tcp-backlog, so that Redis gets the 8 it asks for.
sysctl -q -w net.core.somaxconn=128 || fail "cannot set somaxconn in the namespace"
# Redis's crash handler off and DEBUG allowed: DEBUG SEGFAULT is then a real
# fault that the kernel logs ("redis-server[PID]: segfault at ...").
redis_args="--port $PORT --bind 127.0.0.1 --tcp-backlog 8 --save '' --appendonly no --dir $WORK --logfile $WORK/redis.log --crash-log-enabled no --enable-debug-command local"
start_daemon

# A supervisor as systemd's Restart=always would be: after redis dies it
# waits 2 s and starts it again, from a new pid.
cat >"$WORK/supervise.sh" <<SUP
redis-server $redis_args
echo "redis exited: \$?" >>"$WORK/supervise.log"
sleep 2
exec redis-server $redis_args
SUP
sh "$WORK/supervise.sh" &
super=$!
PIDS="$PIDS $super"
wait_port $PORT redis-server
redis=$(pgrep -x -P "$super" redis-server)
PIDS="$PIDS $redis"
wait_for 50 "daemon sees redis's listener with backlog 8" jq_status "$(lrow "$L") | select(.backlog == 8)"
redis-cli -p $PORT ping | grep -q PONG || fail "redis does not answer PING"
redis-benchmark -p $PORT -q -n 20000 -c 20 -t ping >"$WORK/bench1.log" 2>&1 || fail "redis-benchmark failed"
note "redis-server $redis healthy: $(tr '\r' '\n' <"$WORK/bench1.log" | grep -m1 'requests per second')"

# Stopped: redis-benchmark's 50 clients and a stream of new connections pile up.
kill -STOP "$redis"
timeout 6 redis-benchmark -p $PORT -q -n 100000 -c 50 -t ping >"$WORK/bench2.log" 2>&1 &
PIDS="$PIDS $!"
"$TCPLOAD" connect 127.0.0.1 $PORT 150 --interval-ms 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_accept_finding "$L" 15
record_for 3
wait "$client"
cat "$WORK/client.log"
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "no client timed out: the queue never overflowed"
snap "$WORK/status.json"
the_accept_finding "$WORK/status.json" "$L" >"$WORK/f.json"
note "finding: $(jq -c '{cause, pid, comm, message, remedy}' "$WORK/f.json")"
expect "$WORK/f.json" "a stopped redis is a stall, want slow-accept naming redis-server $redis: $(jq -c '{cause, pid, comm, message, remedy}' "$WORK/f.json")" \
	'.cause == "slow-accept" and .pid == $r and .comm == "redis-server"' --argjson r "$redis"
expect "$WORK/f.json" "slow-accept should not advise raising the backlog: $(jq -c '{remedy}' "$WORK/f.json")" \
	'.cause != "slow-accept" or (.remedy | test("raise the (application.s )?(listen\\(\\) )?backlog|tcp-backlog [0-9]") | not)'
kill -CONT "$redis"
record_for 2

# The crash: a segfault, no listener for 2 s, then the supervisor's new redis
# (the supervisor's own pid: it execs redis-server).
"$TCPLOAD" connect 127.0.0.1 $PORT 50 --interval-ms 100 --timeout-ms 500 >"$WORK/gapclient.log" 2>&1 &
gapclient=$!
PIDS="$PIDS $gapclient"
sleep 0.5
seq0=$(kmsg_last_seq)
redis-cli -p $PORT DEBUG SEGFAULT >/dev/null 2>&1
wait_for 60 "redis is back" sh -c "pgrep -x redis-server | grep -qvx $redis"
wait_port $PORT "the new redis-server"
new=$super
wait "$gapclient"
cat "$WORK/gapclient.log"
cat "$WORK/supervise.log"
grep -q 'redis exited: 139' "$WORK/supervise.log" || fail "redis-server did not die of SIGSEGV: $(cat "$WORK/supervise.log")"
grep -q 'refused=[1-9]' "$WORK/gapclient.log" || fail "no client was refused during the gap"
logged=""
if [ -n "$seq0" ] && kmsg_since "$seq0" | grep -a -m1 "redis-server\[$redis\]: segfault at"; then
	logged=1
else
	note "the kernel logged no segfault line (debug.exception-trace $(cat /proc/sys/debug/exception-trace 2>/dev/null), or rate-limited): the crash is not checked"
fi
gap='.findings[] | select(.cause == "listener-gap" and .listener == "'"$L"'")'
wait_for 60 "listener-gap finding" jq_status "$gap"
snap "$WORK/status2.json"
jq -c "[$gap][0]" "$WORK/status2.json" >"$WORK/gap.json"
note "gap: $(jq -c '{pid, message, remedy}' "$WORK/gap.json")"
expect "$WORK/gap.json" "listener-gap should name the new redis-server $new: $(jq -c '{pid, comm}' "$WORK/gap.json")" \
	'.pid == $n' --argjson n "$new"
[ -z "$logged" ] || expect "$WORK/gap.json" "the gap followed a crash (SIGSEGV, logged by the kernel): the finding should say so: $(jq -c '{message, detail}' "$WORK/gap.json")" \
	'(.message + " " + (.detail // "")) | test("crash|SIGSEGV|segfault"; "i")'
expect "$WORK/gap.json" "no nginx advice to a Redis user: $(jq -c '{remedy}' "$WORK/gap.json")" \
	'.remedy | contains("nginx") | not'
# One verdict throughout: while stopped, and for the clients' retried SYNs
# after it (the stall's echo), the same listener has one accept-queue cause.
record_for 2
check_one_verdict "$L"
check_no_flood "$L"
check_remedy_if_small "$L" 'tcp-backlog'
real_done "redis stall and crash on $L"
