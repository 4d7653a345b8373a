#!/bin/bash
# conntrack-full.sh: a full conntrack table (fixture) while no listen counter moves; backlogd must say conntrack-full.
# FIXTURE-DRIVEN: nf_conntrack_max is global to the machine and a test must
# not change it, nor fill a real conntrack table on a shared host. So
# backlogd reads a proc root (-P) whose sys/net/netfilter/nf_conntrack_max,
# nf_conntrack_count and net/stat/nf_conntrack come from
# tests/fixtures/integ/host-recorded, recorded on this machine: the count is
# raised here to 99% of the recorded max, and the test rewrites the "drop"
# column of the stat file between ticks, as the kernel's counter would
# rise. Every other file is the live one of this namespace, where a healthy
# listener serves real connections, so no listen counter moves. The kernel
# log is a FIFO (-K) carrying the record the kernel writes
# (net/netfilter/nf_conntrack_core.c: net_warn_ratelimited, level 4, with
# the module's pr_fmt prefix, hence the name twice).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo nstat
enter_ns "-n"
setup_work

REC="$FIXTURES_INTEG/host-recorded"
max=$(cat "$REC/sys/net/netfilter/nf_conntrack_max")
count=$((max * 99 / 100))
mkdir -p "$WORK/ovr/net/stat" "$WORK/ovr/sys/net/netfilter"
cp "$REC/sys/net/netfilter/nf_conntrack_max" "$WORK/ovr/sys/net/netfilter/"
echo "$count" >"$WORK/ovr/sys/net/netfilter/nf_conntrack_count"
cp "$REC/net/stat/nf_conntrack" "$WORK/ovr/net/stat/"
proc_root_build "$WORK/proc" "$WORK/ovr"
STAT="$WORK/proc/net/stat/nf_conntrack"

# set_drops N: the recorded stat file with the first CPU's drop column at N (hex, as the kernel prints).
set_drops() {
	awk -v n="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "drop") col = i; print; next }
		NR == 2 && col { $col = sprintf("%08x", n) } { print }' "$REC/net/stat/nf_conntrack" | replace_file "$STAT"
}
kmsg_fifo "$WORK/kmsg"

PORT=7108
start_daemon -P "$WORK/proc" -K "$KMSG_FIFO"
start_listener srv 127.0.0.1 $PORT 128 --accept
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
jq -e '.limits.nf_conntrack_max == '"$max" <(status_json) >/dev/null ||
	fail "backlogd does not read nf_conntrack_max from the proc root: $(status_json | jq -c '.limits')"

filter='.findings[] | select(.cause == "conntrack-full" and .listener == "host")'
found=""
# Bounded: at most 20 ticks of rising drops (the test's real clients meanwhile).
for i in $(seq 20); do
	set_drops $((i * 37))
	# While it drops, the kernel logs the line again and again (rate-limited).
	kmsg_write 4 "nf_conntrack: nf_conntrack: table full, dropping packet"
	"$TCPLOAD" connect 127.0.0.1 $PORT 20 --timeout-ms 1000 >"$WORK/client.log" 2>&1
	grep -q '^connected=20 ' "$WORK/client.log" || fail "real clients failed: $(cat "$WORK/client.log")"
	wait_ticks 1
	# One document for the finding and its evidence: a tick that saw the drops rise
	# (a slow machine may fit a second, quiet tick into one turn of this loop).
	status_json >"$WORK/status.json"
	if [ "$i" -ge 3 ] && jq -e "$filter"' | select(.evidence.drop > 0 and .evidence.kmsg_conntrack_full >= 1)' \
		"$WORK/status.json" >/dev/null; then found=1; break; fi
done
[ -n "$found" ] || fail "no conntrack-full finding with rising drops after 20 ticks: $(jq -c "[$filter]" "$WORK/status.json")"
[ "$(counter TcpExtListenDrops)" -eq 0 ] && [ "$(counter TcpExtListenOverflows)" -eq 0 ] ||
	fail "a listen counter moved: this test needs them still"
jq -e "$filter"' | .state == "active" and .scope == "host"' "$WORK/status.json" >/dev/null ||
	fail "conntrack-full finding wrong: $(jq -c "$filter" "$WORK/status.json")"
finding_text_ok "$WORK/status.json" "$filter" 'time' net.netfilter.nf_conntrack_max
jq -e "$filter"' | .knob.current == '"$max" "$WORK/status.json" >/dev/null ||
	fail "knob current should be $max: $(jq -c "$filter | .knob" "$WORK/status.json")"
# The evidence: the (fixture) table fill, the rising drops, the kernel line,
# and the tell: no listen counter moved, said as zeros.
jq -e "$filter"' | .evidence | .conntrack_count == '$count' and .nf_conntrack_max == '$max' and
	.drop > 0 and .kmsg_conntrack_full >= 1 and .listen_overflows == 0 and .listen_drops == 0' \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold $count of $max, drops, the kernel line, zero listen counters: $(jq -c "$filter | .evidence" "$WORK/status.json")"
# The real listener served every client: conntrack-full is the only finding.
jq -e '[.findings[] | .cause] == ["conntrack-full"]' "$WORK/status.json" >/dev/null ||
	fail "conntrack-full should be the only finding: $(jq -c '[.findings[] | {cause, listener, role}]' "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
stop_daemon
echo "PASS: conntrack-full ($count of $max, drops rising, no listen counter moved)"
