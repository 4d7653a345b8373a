#!/bin/bash
# software-restart.sh: a real nginx stopped and started again (a deliberate restart, no crash): backlogd must report the listener-gap with nginx's own advice (nginx -s reload) and not call it a crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip nginx mkfifo
enter_ns "-n"
setup_work

PORT=7362
# No kernel line plays a part here: a private kernel log keeps the other tests' lines out.
kmsg_fifo "$WORK/kmsg"
mkdir -p "$WORK/tmp"
cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp/body;
	proxy_temp_path $WORK/tmp/proxy;
	fastcgi_temp_path $WORK/tmp/fastcgi;
	uwsgi_temp_path $WORK/tmp/uwsgi;
	scgi_temp_path $WORK/tmp/scgi;
	server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
CONF

# start_nginx NAME: the master in the foreground of a background job; sets NAME_PID.
start_nginx() {
	nginx -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" >"$WORK/$1.log" 2>&1 &
	local pid=$!
	PIDS="$PIDS $pid"
	eval "$1_PID=$pid"
	wait_for 50 "nginx $1 listens" sh -c "ss -Htln 'sport = :$PORT' | grep -q LISTEN"
}

start_daemon -K "$KMSG_FIFO"
start_nginx old
row='.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
wait_for 50 "daemon sees nginx[$old_PID]" \
	jq_status "$row"' | .processes | map(.pid) | index('"$old_PID"') != null'

# The restart an operator should not make: stop (QUIT, a graceful stop), then start.
kill -QUIT "$old_PID"
wait "$old_PID" 2>/dev/null
rc=$?
[ "$rc" -eq 0 ] || fail "nginx[$old_PID] exited with $rc on QUIT"
sleep 1
start_nginx new

filter='.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$PORT'")'
# The subject is the process that accepts: the new master, or one of its workers.
wait_finding "the gap closed with the new nginx" "$filter"' | select(.pid == '"$new_PID"' or (.message | contains("worker of nginx['"$new_PID"']")))'
status_json >"$WORK/status.json"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e "$filter"' | (.message | contains("nginx['"$old_PID"']")) and (.message | test("crash") | not)
	and .evidence.died_pid == 0 and .knob.name == "restart method"' "$WORK/status.json" >/dev/null ||
	fail "a deliberate restart is no crash: $(jq -c "$filter | {message, evidence, knob}" "$WORK/status.json")"
jq -e "$filter"' | .remedy | contains("`nginx -s reload`") and contains("keeps the master and its listening sockets")' \
	"$WORK/status.json" >/dev/null || fail "remedy should be nginx's: $(jq -c "$filter | .remedy" "$WORK/status.json")"

# And a reload as advised leaves no gap at all (the socket stays open).
kill -HUP "$new_PID"
wait_ticks 4
jq_status '[.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$PORT'")] | length == 1' ||
	fail "a reload made another gap: $(status_json | jq -c "[$filter]")"
stop_daemon
echo "PASS: nginx restarted ($old_PID -> $new_PID): listener-gap with nginx's advice"
