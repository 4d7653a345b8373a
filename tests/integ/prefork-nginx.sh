#!/bin/bash
# prefork-nginx.sh: real nginx (a master and 2 workers) with a small backlog: when its workers are stopped and the queue overflows, the finding names a worker (state T), not the master; after nginx -s reload the listener's processes are the master and the new workers.
# The master opens the listening socket and keeps it, but never accepts: the
# workers do, each with the socket in its epoll set. Both workers are
# stopped (SIGSTOP), so the queue fills whichever one the kernel wakes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
command -v nginx >/dev/null 2>&1 || skip "nginx is not installed (apt-get install nginx-light or nginx)"
require_tools jq ip pgrep
enter_ns "-n"
setup_work

PORT=8090
NGINX="nginx -p $WORK -c $WORK/nginx.conf -e $WORK/nginx-error.log"
mkdir -p "$WORK/tmp"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
user root;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp/body;
	proxy_temp_path $WORK/tmp/proxy;
	fastcgi_temp_path $WORK/tmp/fastcgi;
	uwsgi_temp_path $WORK/tmp/uwsgi;
	scgi_temp_path $WORK/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT backlog=8;
		return 200 "ok\n";
	}
}
CONF
$NGINX -t >"$WORK/nginx-t.log" 2>&1 || skip "nginx cannot run here: $(tail -2 "$WORK/nginx-t.log")"
$NGINX -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
master=$!
PIDS="$PIDS $master"
workers() { pgrep -P "$master" | sort -n | tr '\n' ' '; }
two_workers() { [ "$(workers | wc -w)" -eq 2 ]; }
wait_for 50 "nginx master $master and 2 workers" two_workers
old=$(workers)
note "nginx master $master, workers $old"
# A stopped worker must never outlive the test: continue them before the cleanup kills everything.
trap 'kill -CONT $old 2>/dev/null; cleanup' EXIT

start_daemon
row='.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
wait_for 50 "daemon lists the master and the 2 workers" jq_status "$row"' | .processes | length == 3'
status_json >"$WORK/status.json"
# Every holder's state and parent; the workers poll the socket, the master does not.
jq -e --argjson m "$master" "$row"' | .processes | all(.[]; (.state | type) == "string" and .ppid != null) and
	([.[] | select(.pid == $m)][0] | .polls == false and .acceptor == false) and
	([.[] | select(.pid != $m)] | length == 2 and all(.[]; .ppid == $m and .polls == true))' \
	"$WORK/status.json" >/dev/null ||
	fail "holders of 127.0.0.1:$PORT: $(jq -c "$row | .processes" "$WORK/status.json")"

# Both workers stopped; a bounded burst of clients fills the queue of 8 and overflows it.
kill -STOP $old
"$TCPLOAD" connect 127.0.0.1 $PORT 40 --timeout-ms 1000 >"$WORK/client.log" 2>&1 &
PIDS="$PIDS $!"
filter='.findings[] | select(.listener == "127.0.0.1:'$PORT'" and .state == "active" and .role == "cause")'
wait_finding "a finding on 127.0.0.1:$PORT" "$filter"
wait_ticks 2
status_json >"$WORK/status.json"
jq -c "[$filter | {cause, pid, subject, message}]" "$WORK/status.json"
pid=$(jq -r "[$filter][0].pid" "$WORK/status.json")
case " $old " in
*" $pid "*) ;;
*) fail "the finding names pid $pid, not one of the stopped workers $old (master $master)" ;;
esac
jq -e "[$filter][0]"' | .cause == "slow-accept" and
	(.message | contains("nginx['"$pid"'] (worker of nginx['"$master"']) is stopped (state T)"))' \
	"$WORK/status.json" >/dev/null ||
	fail "the finding should be slow-accept saying worker $pid is stopped: $(jq -c "[$filter][0] | {cause, message}" "$WORK/status.json")"
jq -e "$row"' | [.processes[] | select(.pid == '"$pid"')][0] | .state == "T" and .acceptor == true' \
	"$WORK/status.json" >/dev/null ||
	fail "the listener does not show worker $pid stopped: $(jq -c "$row | .processes" "$WORK/status.json")"
"$BACKLOGCTL" -S "$SOCK" listeners >"$WORK/listeners.txt" || fail "backlogctl listeners failed"
grep -q "nginx\[$pid\] T" "$WORK/listeners.txt" || fail "the table does not show nginx[$pid] T: $(cat "$WORK/listeners.txt")"
kill -CONT $old

# A graceful reload: new workers, the old ones let go of the socket and exit.
$NGINX -s reload >>"$WORK/nginx.log" 2>&1 || fail "nginx -s reload failed: $(tail -3 "$WORK/nginx-error.log")"
renewed() { [ "$(workers | wc -w)" -eq 2 ] && [ -z "$(comm -12 <(echo $old | tr ' ' '\n' | sort) <(workers | tr ' ' '\n' | sort))" ]; }
wait_for 100 "2 new workers replace $old" renewed
new=$(workers)
want=$(printf '%s\n' "$master" $new | sort -n | jq -sc .)
note "after the reload: workers $new"
wait_for 50 "the listener lists $want" jq_status "$row"' | (.processes | map(.pid) | sort) == '"$want"
stop_daemon
echo "PASS: nginx worker $pid named stopped (state T), master $master not; after reload $want"
