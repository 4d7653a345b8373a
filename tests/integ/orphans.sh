#!/bin/bash
# orphans.sh: orphans near tcp_max_orphans (fixture) and the kernel's line; backlogd must say orphans for the host.
# FIXTURE-DRIVEN: the orphan count and tcp_max_orphans are global to the
# machine (the sysctl does not even exist inside a network namespace other
# than the host's), and a test must neither change them nor orphan a
# hundred thousand sockets on a shared host. So backlogd reads a proc root
# (-P) whose net/sockstat and sys/net/ipv4/tcp_max_orphans come from
# tests/fixtures/integ/host-recorded, recorded on this machine, with
# "orphan" raised here to 98% of the recorded limit; every other file is the
# live one of this namespace. The kernel log is a FIFO (-K) into which the
# test writes the record the kernel writes (net/ipv4/tcp.c tcp_check_oom,
# net_info_ratelimited with pr_fmt "TCP: ", so level 6), in /dev/kmsg format.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo
enter_ns "-n"
setup_work

REC="$FIXTURES_INTEG/host-recorded"
max=$(cat "$REC/sys/net/ipv4/tcp_max_orphans")
orphans=$((max * 98 / 100))
mkdir -p "$WORK/ovr/net" "$WORK/ovr/sys/net/ipv4"
cp "$REC/sys/net/ipv4/tcp_max_orphans" "$WORK/ovr/sys/net/ipv4/"
sed "s/\( orphan \)[0-9]*/\1$orphans/" "$REC/net/sockstat" >"$WORK/ovr/net/sockstat"
grep -q "^TCP: .* orphan $orphans " "$WORK/ovr/net/sockstat" || fail "could not edit the recorded sockstat"
proc_root_build "$WORK/proc" "$WORK/ovr"
kmsg_fifo "$WORK/kmsg"

start_daemon -P "$WORK/proc" -K "$KMSG_FIFO"
wait_ticks 2
jq -e '.limits.tcp_max_orphans == '"$max" <(status_json) >/dev/null ||
	fail "backlogd does not read tcp_max_orphans from the proc root: $(status_json | jq -c '.limits')"
kmsg_write 6 "TCP: too many orphaned sockets"

filter='.findings[] | select(.cause == "orphans" and .listener == "host")'
# The kernel's line is evidence of the tick that read it: keep that tick's document.
capture_finding "orphans finding with the kernel line" "$filter"' | select(.evidence.kmsg_orphans >= 1)' "$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "host"' "$WORK/status.json" >/dev/null ||
	fail "orphans finding wrong: $(jq -c "$filter" "$WORK/status.json")"
finding_text_ok "$WORK/status.json" "$filter" 'reset' net.ipv4.tcp_max_orphans
jq -e "$filter"' | .knob.current == '"$max" "$WORK/status.json" >/dev/null ||
	fail "knob current should be $max: $(jq -c "$filter | .knob" "$WORK/status.json")"
# The evidence: the (fixture) count against the limit, and the kernel's line.
jq -e "$filter"' | .evidence | .orphans == '$orphans' and .tcp_max_orphans == '$max' and .kmsg_orphans >= 1' \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold $orphans orphans of $max and the kernel line: $(jq -c "$filter | .evidence" "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e '[.findings[] | .cause] == ["orphans"]' "$WORK/status.json" >/dev/null ||
	fail "orphans should be the only finding: $(jq -c '[.findings[] | {cause, listener, role, explained_by}]' "$WORK/status.json")"
stop_daemon
echo "PASS: orphans ($orphans of $max, and the kernel line)"
