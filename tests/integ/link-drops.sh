#!/bin/bash
# link-drops.sh: real rx drops on a veth in the test's namespace; backlogd must say link-drops on that interface only.
# Link counters come from rtnetlink, not /proc, so they cannot be faked:
# the drops are real. tcpload frames sends Ethernet frames with an EtherType
# that no protocol handles out of one end of a veth pair; the other end
# finds no handler and counts each in rx_dropped (net/core/dev.c
# __netif_receive_skb_core). Both ends live in this namespace only: no frame
# leaves it. These are the "no protocol handler" kind of rx_dropped; the
# backlog (netdev_max_backlog) and ring kinds cannot be made here, as
# netdev_max_backlog is global and a veth has no ring. The counter cannot
# tell the kinds apart, and neither can backlogd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo
enter_ns "-n"
setup_work
ip link add bd0 type veth peer name bd1 2>/dev/null || skip "cannot create a veth pair (no veth module?)"
# No IPv6 chatter (router solicitations, DAD) on the pair: only our frames.
sysctl -q -w net.ipv6.conf.bd0.disable_ipv6=1 net.ipv6.conf.bd1.disable_ipv6=1 2>/dev/null
ip link set bd0 up && ip link set bd1 up || fail "cannot bring the veth pair up"

rx_dropped() { ip -s -j link show "$1" | jq '.[0].stats64.rx.dropped'; }

# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
wait_ticks 2
before=$(rx_dropped bd1)
# One frame every 5 ms for a second: drops over several ticks.
"$TCPLOAD" frames bd0 200 --interval-ms 5 >"$WORK/frames.log" 2>&1 || fail "frames: $(cat "$WORK/frames.log")"
after=$(rx_dropped bd1)
note "bd1 rx_dropped: $before -> $after"
[ $((after - before)) -ge 200 ] || fail "bd1 counted $((after - before)) drops for 200 unclaimed frames"

filter='.findings[] | select(.cause == "link-drops" and .listener == "bd1")'
wait_finding "link-drops finding on bd1" "$filter"
status_json >"$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "interface"' "$WORK/status.json" >/dev/null ||
	fail "link-drops finding wrong: $(jq -c "$filter" "$WORK/status.json")"
jq -e "$filter"' | .evidence | .rx_dropped > 0' \
	"$WORK/status.json" >/dev/null ||
	fail "evidence should hold the rx drops: $(jq -c "$filter | .evidence" "$WORK/status.json")"
jq -e "$filter"' | (.message | test("time"; "i")) and (.remedy | contains("bd1")) and
	(.knob.name | type == "string") and (.knob.name as $k | .remedy | contains($k))' "$WORK/status.json" >/dev/null ||
	fail "link-drops text wrong: $(jq -c "$filter"' | {message, remedy, knob}' "$WORK/status.json")"
# The sender and loopback dropped nothing: one finding, on bd1.
jq -e '[.findings[] | {cause, listener}] == [{"cause": "link-drops", "listener": "bd1"}]' "$WORK/status.json" >/dev/null ||
	fail "link-drops on bd1 should be the only finding: $(jq -c '[.findings[] | {cause, listener}]' "$WORK/status.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
stop_daemon
echo "PASS: link-drops on bd1 ($((after - before)) real rx drops)"
