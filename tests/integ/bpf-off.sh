#!/bin/bash
# bpf-off.sh: `[daemon] bpf = no` gives the findings of polling alone: the same cause and remedy as with the eBPF tier, no clients, and status says the tier is off and why. The tier on (the default) adds the clients and nothing else.
# Issue 14: "the tier off gives today's output".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip
enter_ns "-n"
setup_work

L=127.0.0.1:8090
filter='.findings[] | select(.listener == "'$L'" and .state == "active" and (.cause | IN("backlog-small", "backlog-clamped", "slow-accept")))'

# overflow NAME: a listener of backlog 2 that never accepts, 12 clients; keep the finding in $WORK/NAME.json.
overflow() {
	start_listener "$1" 127.0.0.1 8090 2
	wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "'$L'")'
	"$TCPLOAD" connect 127.0.0.1 8090 12 --timeout-ms 300 >"$WORK/$1-client.log" 2>&1
	grep -q 'timeout=[1-9]' "$WORK/$1-client.log" || fail "clients did not time out: $(cat "$WORK/$1-client.log")"
	wait_finding "the accept-queue finding" "$filter"
	# The verdict settles once the queue has been seen full for a while (backlog-small, then slow-accept).
	wait_ticks 4
	status_json >"$WORK/$1-status.json"
	jq -c "$filter" "$WORK/$1-status.json" >"$WORK/$1.json"
	eval "kill \$${1}_PID"
}

printf '[daemon]\nbpf = no\n' >"$WORK/off.conf"
start_daemon -f "$WORK/off.conf"
overflow off
jq -e '.daemon.bpf == false and (.daemon.bpf_why | test("off by configuration")) and .daemon.bpf_events == 0' \
	"$WORK/off-status.json" >/dev/null ||
	fail "status should say the tier is off by configuration: $(jq -c '.daemon | {bpf, bpf_why, bpf_events}' "$WORK/off-status.json")"
jq -e '.clients == null' "$WORK/off.json" >/dev/null || fail "no clients without the tier: $(jq -c .clients "$WORK/off.json")"
"$BACKLOGCTL" -S "$SOCK" status >"$WORK/off-status.txt" 2>&1
grep -q 'eBPF tier off' "$WORK/off-status.txt" || fail "backlogctl status should say the tier is off: $(cat "$WORK/off-status.txt")"
stop_daemon

start_daemon
snap_on=$(status_json)
echo "$snap_on" | jq -e '.daemon.bpf == true' >/dev/null || skip "the eBPF tier is off here: $(echo "$snap_on" | jq -r .daemon.bpf_why)"
overflow on
jq -e '.clients.top[0].addr == "127.0.0.1" and .clients.total > 0' "$WORK/on.json" >/dev/null ||
	fail "the tier on should name the client: $(jq -c .clients "$WORK/on.json")"
# The same verdict either way: the tier adds who, never changes why.
# Each run has its own server and timing: its pid and the seconds are the differences allowed.
same() { jq -r ".$1" "$2" | sed 's/[0-9][0-9.]*/N/g'; }
for k in cause knob remedy; do
	[ "$(same $k "$WORK/off.json")" = "$(same $k "$WORK/on.json")" ] ||
		fail "$k differs with the tier on: off $(jq -c ".$k" "$WORK/off.json"), on $(jq -c ".$k" "$WORK/on.json")"
done
stop_daemon
echo "PASS: the tier off gives polling's finding without clients; on, the same finding with them"
