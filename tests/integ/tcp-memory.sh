#!/bin/bash
# tcp-memory.sh: TCP memory under pressure (fixture) and a server that never reads; backlogd must name the real holders.
# FIXTURE-DRIVEN LIMITS: net.ipv4.tcp_mem and the "mem" of /proc/net/sockstat
# are global to the machine, and a test must not touch them (they do not
# even exist inside a network namespace other than the host's). So backlogd
# reads a proc root (-P) whose net/sockstat and sys/net/ipv4/tcp_mem come
# from tests/fixtures/integ/host-recorded, recorded on this machine, with
# "mem" raised here to just above the recorded pressure threshold; every
# other file is the live one of this namespace. The holders are real: a
# tcpload server that accepts and never reads, and clients that each sent it
# 100000 bytes, sit in the kernel as Recv-Q that backlogd must find with the
# deep tier and attribute to that process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo ss
enter_ns "-n"
setup_work

REC="$FIXTURES_INTEG/host-recorded"
read -r mem_min mem_pressure mem_max <"$REC/sys/net/ipv4/tcp_mem"
mem=$((mem_pressure + 1000))
[ "$mem" -lt "$mem_max" ] || fail "recorded tcp_mem leaves no room between pressure and max"
mkdir -p "$WORK/ovr/net" "$WORK/ovr/sys/net/ipv4"
cp "$REC/sys/net/ipv4/tcp_mem" "$WORK/ovr/sys/net/ipv4/tcp_mem"
sed "s/\( mem \)[0-9]*/\1$mem/" "$REC/net/sockstat" >"$WORK/ovr/net/sockstat"
grep -q "^TCP: .* mem $mem\$" "$WORK/ovr/net/sockstat" || fail "could not edit the recorded sockstat"
proc_root_build "$WORK/proc" "$WORK/ovr"

PORT=7107
# The kernel log is shared by every namespace: a SYN flood line from a test
# running beside this one would be reported here (see syn-flood.sh). This
# cause owes nothing to the kernel log, so backlogd follows a private one.
kmsg_fifo "$WORK/kmsg"
start_daemon -P "$WORK/proc" -K "$KMSG_FIFO"
start_listener srv 127.0.0.1 $PORT 128 --accept --no-read
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:'$PORT'")'
jq -e '.limits.tcp_mem == ['"$mem_min, $mem_pressure, $mem_max"']' <(status_json) >/dev/null ||
	fail "backlogd does not read tcp_mem from the proc root: $(status_json | jq -c '.limits')"

# 1000000 bytes each: more than the never-reading server's receive buffer
# takes, so part sits at the server (Recv-Q, unread: the server's doing) and
# the rest at the clients (Send-Q, often more bytes than the server's). The
# holders listed must still be the server's sockets, with its pid.
"$TCPLOAD" connect 127.0.0.1 $PORT 20 --send-bytes 1000000 --timeout-ms 2000 --hold-ms 20000 \
	>"$WORK/client.log" 2>&1 &
client=$!
PIDS="$PIDS $client"
wait_for 50 "client summary" grep -q '^connected=' "$WORK/client.log"
cat "$WORK/client.log"
grep -q '^connected=20 ' "$WORK/client.log" || fail "clients did not all connect"
unread() { [ "$(ss -Htn "( sport = :$PORT )" | awk '$2 >= 50000' | wc -l)" -eq 20 ]; }
wait_for 30 "20 server sockets with 50000 bytes unread or more" unread
note "server Recv-Q / client Send-Q:"
ss -Htn "( sport = :$PORT )" | awk '{print $2}' | sort -n | tail -1
ss -Htn "( dport = :$PORT )" | awk '{print $3}' | sort -n | tail -1

filter='.findings[] | select(.cause == "tcp-memory" and .listener == "host")'
wait_finding "tcp-memory finding" "$filter"
# The holders come from the deep tier; give it the ticks to see them all.
wait_ticks 2
status_json >"$WORK/status.json"
jq -e "$filter"' | .state == "active" and .scope == "host"' "$WORK/status.json" >/dev/null ||
	fail "tcp-memory finding wrong: $(jq -c "$filter" "$WORK/status.json")"
finding_text_ok "$WORK/status.json" "$filter" 'reset|stall' net.ipv4.tcp_mem
# The evidence holds the (fixture) memory in pages against the pressure threshold.
jq -e "$filter"' | .evidence | .mem_pages == '$mem' and .tcp_mem_pressure == '$mem_pressure' and
	.top_unread_bytes >= 50000' "$WORK/status.json" >/dev/null ||
	fail "evidence should hold mem $mem, pressure $mem_pressure, 50000 unread: $(jq -c "$filter | .evidence" "$WORK/status.json")"
# The detail names the real holders, one socket a line, unread bytes first:
# 20 server sockets hold unread bytes, so every line listed must be one of
# them, owned by the never-reading server; the clients' send queues come after.
jq -r "$filter | .detail" "$WORK/status.json" >"$WORK/detail.txt"
note "detail:"
cat "$WORK/detail.txt"
lines=$(grep -c . "$WORK/detail.txt")
[ "$lines" -ge 1 ] || fail "the detail lists no holder"
good=$(grep -c "^127\.0\.0\.1:$PORT -> 127\.0\.0\.1:[0-9]* ESTABLISHED unread [0-9]* B.*tcpload\[$srv_PID\]" "$WORK/detail.txt")
[ "$good" -eq "$lines" ] ||
	fail "$((lines - good)) of $lines holder lines are not the never-reading tcpload[$srv_PID]'s sockets on 127.0.0.1:$PORT"
grep -q "tcpload\[$client\]" "$WORK/detail.txt" && fail "detail blames the clients ($client), who only wait for the server to read"
# explain host shows the same holders as a step of its own.
"$BACKLOGCTL" -S "$SOCK" --json explain host >"$WORK/explain.json" || fail "explain host failed"
jq -r '.chains[0].steps[] | select(.step == "holders") | .text' "$WORK/explain.json" >"$WORK/holders.txt"
grep -q "^the sockets holding most memory, unread bytes first: 127\.0\.0\.1:$PORT -> .* tcpload\[$srv_PID\]" "$WORK/holders.txt" ||
	fail "explain host has no holders step naming tcpload[$srv_PID]: $(jq -c '.chains[0].steps' "$WORK/explain.json")"
jq -r "$filter | \"finding: \\(.message)\\nremedy: \\(.remedy)\"" "$WORK/status.json"
jq -e '[.findings[] | select(.role == "cause") | .cause] == ["tcp-memory"]' "$WORK/status.json" >/dev/null ||
	fail "tcp-memory should be the one primary cause: $(jq -c '[.findings[] | {cause, listener, role, explained_by}]' "$WORK/status.json")"
stop_daemon
echo "PASS: tcp-memory, holders tcpload[$srv_PID] on 127.0.0.1:$PORT"
