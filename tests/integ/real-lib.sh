# real-lib.sh: helpers for the real-software tests (tests/integ/real-*.sh),
# sourced after lib.sh and catalogue-lib.sh. Each test runs a Debian-packaged
# server (nginx, uWSGI, Redis, HAProxy, Node.js, Python) and a real client
# (wrk, ab, redis-benchmark, tcpload) in its own namespaces, and checks what
# backlogd says against what the issue "Right on real software" requires:
# the cause, the subject pid, the remedy's knob, one verdict per listener,
# silence on healthy load.
#
# The test is PID 1 of its own PID namespace (real_enter): when it ends, the
# kernel kills every process left in it, stopped ones included, so a server
# that a test SIGSTOPped or a client still running can never outlive it
# (real_enter --no-pidns: the test lists what it starts in $PIDS instead).

# Seconds a real-software test may run before it is failed (the whole CI run
# has a budget; no single test may hang it).
REAL_BUDGET=${REAL_BUDGET:-75}

# The causes that explain an accept-queue overflow: one at a time per listener.
ACCEPT_CAUSES='["backlog-small", "backlog-clamped", "slow-accept"]'

# require_real TOOL...: skip (77) when the software under test is missing.
require_real() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			skip "$t is not installed (scripts/quickstart.sh deps installs the real software)"
	done
}

# real_enter: re-run the test in new network, mount and PID namespaces (see
# above), then the usual scratch directory, lo up, and a watchdog that fails
# the test at REAL_BUDGET seconds.
# real_enter --no-pidns: network and mount namespaces only, for a test whose
# pids must be the kernel's own (the kernel log names global pids); it lists
# every process it starts in $PIDS. real_enter --host-netns: PID and mount
# namespaces only, backlogd in the host's network namespace, as deployed; the
# test then makes the namespaces its servers run in, and touches nothing of
# the host's (it changes no sysctl there, and lo is already up).
real_enter() {
	if [ "${1:-}" = --no-pidns ]; then
		enter_ns "-n -m"
	elif [ "${1:-}" = --host-netns ]; then
		enter_ns "-m -p -f --mount-proc"
		[ "$$" = 1 ] || skip "not PID 1 of a PID namespace of its own (BACKLOGD_IN_NS set outside a test?)"
	else
		enter_ns "-n -m -p -f --mount-proc"
		[ "$$" = 1 ] || skip "not PID 1 of a PID namespace of its own (BACKLOGD_IN_NS set outside a test?)"
	fi
	setup_work
	chmod 755 "$WORK"
	# Servers write pid files and sockets under /run and /var/run: keep them private.
	mount -t tmpfs tmpfs /run 2>/dev/null || true
	(sleep "$REAL_BUDGET"; echo "FAIL: test still running after $REAL_BUDGET s"; kill -TERM $$) &
	WATCHDOG=$!
	trap real_cleanup EXIT
}

# Every process of the test dies with it (PID 1 of the namespace); stopped
# servers are continued first so that the SIGTERM of cleanup reaches them.
real_cleanup() {
	local rc=$?
	kill "$WATCHDOG" 2>/dev/null
	# kill -1 is "every process of this PID namespace" only for its PID 1.
	if [ "$$" = 1 ]; then
		kill -CONT -1 2>/dev/null
	else
		for p in $PIDS; do kill -CONT "$p" 2>/dev/null; done
	fi
	cleanup
	[ "$$" = 1 ] && kill -KILL -1 2>/dev/null
	exit $rc
}

# bad WHAT: one requirement not met. The test goes on, so that one run shows
# every point backlogd got wrong; real_done then fails it.
BAD=0
bad() {
	echo "FAIL: $*"
	BAD=$((BAD + 1))
}

# real_done WHAT: stop backlogd (cleanly, no sanitizer report), then pass or fail.
real_done() {
	stop_daemon
	if [ "$BAD" -gt 0 ]; then
		echo "FAIL: $BAD requirement(s) not met"
		dump_logs
		exit 1
	fi
	echo "PASS: $*"
}

# expect FILE WHAT JQ [jq args]: bad WHAT unless JQ is true on FILE.
expect() {
	local file=$1 what=$2 prog=$3
	shift 3
	jq -e "$@" "$prog" "$file" >/dev/null 2>&1 || bad "$what"
}

# port_listening PORT: a LISTEN socket on PORT in this namespace (or in the
# one $NS_EXEC, "ip netns exec NAME", enters).
NS_EXEC=""
port_listening() { $NS_EXEC ss -Hltn "sport = :$1" | grep -q LISTEN; }

# wait_port PORT WHAT: the server under test is up.
wait_port() { wait_for 100 "$2 listens on port $1" port_listening "$1"; }

# snap FILE: the status document, kept for the failure message.
snap() { status_json >"$1" || fail "backlogctl --json status failed"; }

# lrow ADDR:PORT: jq for the listener row.
lrow() { echo '.listeners[] | select(.listener == "'"$1"'")'; }

# show_findings FILE: the findings of FILE on one line each, for messages.
show_findings() {
	jq -c '[.findings[] | {cause, listener, state, pid, comm, message, remedy, knob}]' "$1"
}

# record_for SECS: poll the status every 0.2 s for SECS seconds, each
# document one line of $WORK/history.jsonl, so that a contradiction that
# lasted one tick is seen (check_one_verdict).
record_for() {
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		status_json 2>/dev/null | jq -c . >>"$WORK/history.jsonl" 2>/dev/null
		sleep 0.2
	done
}

# check_one_verdict ADDR:PORT: in no recorded document did the listener have
# two accept-queue causes active at once (issue point 4: backlog-small says
# "raise the backlog", slow-accept says raising it only delays the drops).
check_one_verdict() {
	local bad
	[ -s "$WORK/history.jsonl" ] || return 0
	bad=$(jq -c --arg l "$1" --argjson acc "$ACCEPT_CAUSES" '
		[.findings[] | select(.listener == $l and .state == "active" and (.cause as $c | $acc | index($c)))]
		| select(length > 1) | map({cause, pid, message})' "$WORK/history.jsonl" | head -n 1)
	[ -z "$bad" ] || bad "two verdicts at once on $1: $bad"
}

# ever_cause FILE ADDR:PORT CAUSE: the finding CAUSE on the listener in any
# recorded document (active or resolved), last one first; empty if never.
ever_cause() {
	jq -c --arg l "$2" --arg c "$3" '.findings[] | select(.listener == $l and .cause == $c)' "$1" 2>/dev/null | tail -n 1
}

# check_remedy_if_small ADDR:PORT KNOB_RE: whenever backlog-small was said on
# the listener, its remedy named the software's own knob (issue point 6).
check_remedy_if_small() {
	local f
	f=$(ever_cause "$WORK/history.jsonl" "$1" backlog-small)
	[ -z "$f" ] && return 0
	echo "$f" | jq -e --arg re "$2" '.remedy | test($re)' >/dev/null ||
		bad "backlog-small on $1 should name /$2/ in its remedy: $(echo "$f" | jq -c '{remedy, knob}')"
}

# wait_accept_finding ADDR:PORT SECS: until an accept-queue finding is active
# on the listener, recording the history meanwhile; fails after SECS.
wait_accept_finding() {
	local end=$(( $(date +%s) + $2 )) doc
	while [ "$(date +%s)" -lt "$end" ]; do
		doc=$(status_json 2>/dev/null | jq -c .)
		echo "$doc" >>"$WORK/history.jsonl"
		echo "$doc" | jq -e --arg l "$1" --argjson acc "$ACCEPT_CAUSES" \
			'[.findings[] | select(.listener == $l and .state == "active" and (.cause as $c | $acc | index($c)))] | length > 0' \
			>/dev/null 2>&1 && return 0
		sleep 0.2
	done
	snap "$WORK/nofinding.json"
	fail "no accept-queue finding on $1 within $2 s: $(show_findings "$WORK/nofinding.json")"
}

# the_accept_finding FILE ADDR:PORT: the one active accept-queue finding
# (should there be two, a failure of its own: the newest).
the_accept_finding() {
	jq -c --arg l "$2" --argjson acc "$ACCEPT_CAUSES" \
		'[.findings[] | select(.listener == $l and .state == "active" and (.cause as $c | $acc | index($c)))] | sort_by(.first_seen) | last' "$1"
}

# children_of PID: the pids whose parent is PID (a pre-fork server's workers), sorted.
children_of() { pgrep -P "$1" | sort -n | tr '\n' ' '; }

# start_nginx PORT WORKERS LISTEN_OPTS [DIR]: nginx in the foreground (daemon
# off, so $NGINX_PID is the master), everything under $WORK/DIR (default
# nginx), answering "ok" on 127.0.0.1:PORT, in the namespace $NS_EXEC enters.
# LISTEN_OPTS goes on the listen line ("backlog=8").
start_nginx() {
	local d="$WORK/${4:-nginx}"
	mkdir -p "$d/tmp"
	cat >"$d/nginx.conf" <<CONF
user root root;
worker_processes $2;
pid $d/nginx.pid;
error_log $d/error.log notice;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	server {
		listen 127.0.0.1:$1 $3;
		location / { return 200 "ok\n"; }
	}
}
CONF
	$NS_EXEC nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' >"$d/stdout.log" 2>&1 &
	NGINX_PID=$!
	PIDS="$PIDS $NGINX_PID"
	wait_port "$1" nginx
	wait_for 50 "nginx forks $2 workers" sh -c "[ \$(pgrep -P $NGINX_PID | wc -l) -ge $2 ]"
}

# check_no_flood ADDR:PORT: ordinary clients overflowing a stalled or small
# queue are overload, never a SYN flood (issue point 1), in no recorded document.
check_no_flood() {
	local f
	f=$(ever_cause "$WORK/history.jsonl" "$1" syn-flood)
	[ -z "$f" ] || bad "ordinary overload on $1 reported as a SYN flood: $(echo "$f" | jq -c '{state, message}')"
}

# ever_finding ADDR:PORT JQ: true when, in some recorded document, a finding
# on the listener satisfies JQ (what a finding says can change tick by tick:
# the tick that saw the cookies or the resets is the one that says so).
ever_finding() {
	jq -e -s --arg l "$1" "[.[].findings[] | select(.listener == \$l) | select($2)] | length > 0" \
		"$WORK/history.jsonl" >/dev/null 2>&1
}

# last_accept_finding ADDR:PORT: the accept-queue finding on the listener in
# the last recorded document (active or resolved), or null.
last_accept_finding() {
	tail -n 1 "$WORK/history.jsonl" | jq -c --arg l "$1" --argjson acc "$ACCEPT_CAUSES" \
		'[.findings[] | select(.listener == $l and (.cause as $c | $acc | index($c)))] | sort_by(.first_seen) | last'
}

# said_stopped_lately ADDR:PORT: in each of the last 8 recorded documents
# (over a second, while the workers are still stopped), the listener's
# accept-queue findings say the stopped state, whichever way the tick's
# sentence is put (a tick with new drops or one without).
said_stopped_lately() {
	tail -n 8 "$WORK/history.jsonl" | jq -c --arg l "$1" --argjson acc "$ACCEPT_CAUSES" \
		'.findings[] | select(.listener == $l and .state == "active" and (.cause as $c | $acc | index($c))) |
		select((.message + " " + (.detail // "") + " " + .remedy) | test("stopped|state T") | not) | {cause, message, remedy}' |
		head -n 1
}
