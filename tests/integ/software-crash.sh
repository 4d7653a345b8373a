#!/bin/bash
# software-crash.sh: a real redis-server that segfaults and is started again: backlogd must say the listener-gap came from redis-server[PID] crashing (the kernel's own "segfault at" line) and advise no "nginx -s reload"; one killed from user space (kill -9: no kernel line, only its exit event) says it was killed by SIGKILL, with crash advice and no restart advice.
# The crash is a real fault (DEBUG SEGFAULT with Redis's crash handler off,
# so the kernel prints its line), read from the real /dev/kmsg.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip redis-server redis-cli
enter_ns "-n"
setup_work

[ "$(cat /proc/sys/debug/exception-trace 2>/dev/null)" = 1 ] ||
	skip "debug.exception-trace is not 1: the kernel does not log segfaults here"
[ -r /dev/kmsg ] || skip "/dev/kmsg cannot be read"
PORT=7361

# start_redis NAME: redis-server on 127.0.0.1:PORT, with a fault left to the kernel; sets NAME_PID.
start_redis() {
	redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
		--crash-log-enabled no --enable-debug-command local >"$WORK/$1.log" 2>&1 &
	local pid=$!
	PIDS="$PIDS $pid"
	eval "$1_PID=$pid"
	wait_for 50 "redis $1 answers" sh -c "redis-cli -p $PORT ping 2>/dev/null | grep -q PONG"
}

# Exits are reported in the host's first network namespace only: the test's
# parent (the test driver, before unshare) is there, and /proc/1 may be closed to us.
start_daemon -E "/proc/$PPID/ns/net"
start_redis old
row='.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
wait_for 50 "daemon sees redis-server[$old_PID]" \
	jq_status "$row"' | .processes | map(.pid) | index('"$old_PID"') != null'

seq0=$(kmsg_last_seq)
redis-cli -p $PORT DEBUG SEGFAULT >/dev/null 2>&1
wait "$old_PID" 2>/dev/null
rc=$?
[ "$rc" -eq $((128 + 11)) ] || fail "redis-server[$old_PID] exited with $rc, not by SIGSEGV"
line=$(kmsg_since "${seq0:-0}" | grep -a "redis-server\[$old_PID\]: segfault at" | head -1)
[ -n "$line" ] || skip "the kernel did not log the segfault (rate-limited?)"
note "kernel: $line"
sleep 1
start_redis new

filter='.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$PORT'")'
wait_finding "listener-gap on 127.0.0.1:$PORT" "$filter"
# The gap closes at the tick that sees the new listener: wait for the words of a closed gap.
wait_finding "the gap closed with the new pid" "$filter"' | select(.pid == '"$new_PID"')'
status_json >"$WORK/status.json"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e "$filter"' | .message | contains("redis-server['"$old_PID"'] crashing (SIGSEGV: the kernel logged a segfault)")' \
	"$WORK/status.json" >/dev/null || fail "the gap does not say redis-server[$old_PID] crashed: $(jq -c "$filter | .message" "$WORK/status.json")"
jq -e "$filter"' | .evidence.died_pid == '"$old_PID"' and .knob.name == "crash"' "$WORK/status.json" >/dev/null ||
	fail "evidence/knob: $(jq -c "$filter | {evidence, knob}" "$WORK/status.json")"
jq -e "$filter"' | (.remedy | contains("nginx -s reload") | not) and (.remedy | contains("coredumpctl info '"$old_PID"'"))
	and (.remedy | contains("Sentinel"))' "$WORK/status.json" >/dev/null ||
	fail "remedy should be Redis's after a crash, with no nginx advice: $(jq -c "$filter | .remedy" "$WORK/status.json")"
# The gap itself carries the kernel's word, for scripts.
jq -e '.gaps[] | select(.listener == "127.0.0.1:'$PORT'") | .died == {kind: "segfault", pid: '"$old_PID"', comm: "redis-server", signal: "SIGSEGV"}' \
	"$WORK/status.json" >/dev/null || fail "gap JSON lacks the death: $(jq -c '.gaps' "$WORK/status.json")"

# SIGKILL from user space leaves no kernel line, only the process's exit
# event (the kernel's process connector, host-wide, root only): that gap says
# it was killed, with Redis's crash advice, not a restart method.
jq_status '.daemon.proc_events == true' ||
	skip "backlogd does not follow process exits here (no process connector)"
kill -KILL "$new_PID"
wait "$new_PID" 2>/dev/null
sleep 1
start_redis third
wait_finding "the second gap closed with pid $third_PID" "$filter"' | select(.pid == '"$third_PID"')'
status_json >"$WORK/status.json"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e "$filter"' | (.message | contains("between redis-server['"$new_PID"'] being killed by SIGKILL (by an operator, systemd'"'"'s stop timeout or the OOM killer) and redis-server['"$third_PID"']"))
	and .evidence.died_pid == '"$new_PID"' and .knob.name == "crash"
	and (.remedy | contains("find who sent it")) and (.remedy | contains("Sentinel"))
	and (.remedy | contains("Redis has no restart that keeps its listening socket") | not)
	and (.remedy | contains("nginx -s reload") | not)' "$WORK/status.json" >/dev/null ||
	fail "a SIGKILL from user space should read as redis-server killed: $(jq -c "$filter | {message, remedy, knob}" "$WORK/status.json")"
jq -e '.gaps[] | select(.listener == "127.0.0.1:'$PORT'" and .old_pid == '"$new_PID"') | .died == {kind: "exit", pid: '"$new_PID"', comm: "redis-server", signal: "SIGKILL", status: null}' \
	"$WORK/status.json" >/dev/null || fail "gap JSON lacks the SIGKILL: $(jq -c '.gaps' "$WORK/status.json")"
stop_daemon
echo "PASS: redis-server[$old_PID] crashed (SIGSEGV), redis-server[$new_PID] was killed (SIGKILL); gaps on 127.0.0.1:$PORT told so"
