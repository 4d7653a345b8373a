#!/bin/bash
# bpf-events.sh: the eBPF tier's events against the kernel's own counters,
# in this namespace, IPv4 then IPv6 (tests/tools/bpf-events prints them):
#   syn   clients from two addresses overflow a listener that never accepts:
#         syn_overflow events name both, and every overflow event adds up to
#         the namespace's ListenOverflows (exact: the server never accepts);
#   ack   tcpload defer-storm (TCP_DEFER_ACCEPT): the handshakes' last
#         segments are dropped on the full accept queue: ack_overflow events,
#         again as many overflow events as ListenOverflows;
#   refused  SYNs to a closed port: refused events name the client, as many
#         as the RSTs the namespace sent (OutRsts);
#   cookie  (IPv4) syncookie ACKs that find the accept queue full
#         (tests/tools/cookie-ack): cookie_overflow events, one per ACK, as
#         many overflow events as ListenOverflows;
#   unwatched  overflows in another namespace are not printed, only counted.
# The programs are host-wide; only this namespace is watched.
. "$(dirname "$0")/lib.sh"
require_tools ip nstat
BPFEV="$top_builddir/tests/tools/bpf-events"
if [ ! -x "$BPFEV" ]; then
	missing=$(sed -n 's/^#define BPF_TIER_MISSING "\(.*\)"$/\1/p' "$top_builddir/version.h" 2>/dev/null)
	skip "the eBPF tier is not built (configure: ${missing:-?})"
fi
enter_ns "-n"
setup_work

# counter NAME: this namespace's kernel counter (nstat's name), absolute.
counter() {
	nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }'
}

# events_start SECONDS [BATCH]: bpf-events in the background, once its programs run.
events_start() {
	rm -f "$WORK/ev.ready"
	"$BPFEV" "$1" --ready "$WORK/ev.ready" --batch "${2:-64}" >"$WORK/ev.out" 2>"$WORK/ev.err" &
	EV_PID=$!
	local i=0
	while [ ! -s "$WORK/ev.ready" ]; do
		if ! kill -0 "$EV_PID" 2>/dev/null; then
			wait "$EV_PID"
			rc=$?
			cat "$WORK/ev.err"
			[ $rc = 77 ] && skip "the eBPF tier cannot run here: $(cat "$WORK/ev.err")"
			fail "bpf-events exited with $rc"
		fi
		[ $i -lt 100 ] || fail "bpf-events not ready in 10 s"
		sleep 0.1
		i=$((i + 1))
	done
	note "$(cat "$WORK/ev.ready")"
	grep -q "cgroup_skb" "$WORK/ev.ready" && grep -q "kfree_skb" "$WORK/ev.ready" &&
		grep -q "tcp_send_reset" "$WORK/ev.ready" || fail "not every part runs: $(cat "$WORK/ev.err")"
}

events_wait() {
	wait "$EV_PID" || fail "bpf-events failed: $(cat "$WORK/ev.err")"
	tail -1 "$WORK/ev.out"
	grep -q '^lost=0 .* bad=0 ' "$WORK/ev.out" || fail "events lost or undecodable: $(tail -1 "$WORK/ev.out")"
}

# count KIND PEER LOCAL: events of KIND from PEER (an address as bracket prints
# it) to LOCAL (ADDR:PORT as bpf-events prints it).
count() {
	awk -v k="$1" -v p="$2:" -v l="$3" '$1 == k && index($3, p) == 1 && $4 == l' "$WORK/ev.out" | wc -l
}

# overflows LOCAL: every overflow event at LOCAL, whatever its kind.
overflows() {
	awk -v l="$1" '$1 ~ /_overflow$/ && $4 == l' "$WORK/ev.out" | wc -l
}

# phase_syn SERVER PEER1 PEER2 PORT: SYN-time overflows of a listener that never accepts.
phase_syn() {
	local srv=$1 p1=$2 p2=$3 port=$4 lo0 lo1 local
	start_listener "syn$port" "$srv" "$port" 2
	lo0=$(counter TcpExtListenOverflows)
	"$TCPLOAD" connect "$srv" "$port" 10 --from "$p1" --timeout-ms 1500 >"$WORK/c1.log" &
	local c1=$!
	"$TCPLOAD" connect "$srv" "$port" 10 --from "$p2" --timeout-ms 1500 >"$WORK/c2.log"
	wait $c1
	lo1=$(counter TcpExtListenOverflows)
	eval "kill \$syn${port}_PID"
	PH_SYN_LOCAL=$(bracket "$srv"):$port
	PH_SYN_P1=$(bracket "$p1")
	PH_SYN_P2=$(bracket "$p2")
	PH_SYN_DELTA=$((lo1 - lo0))
}

# phase_ack SERVER PEER PORT: ACK-time overflows through TCP_DEFER_ACCEPT.
phase_ack() {
	local lo0 lo1
	lo0=$(counter TcpExtListenOverflows)
	"$TCPLOAD" defer-storm "$1" "$3" 4 --from "$2" --timeout-ms 1500 >"$WORK/storm.log"
	lo1=$(counter TcpExtListenOverflows)
	PH_ACK_LOCAL=$(bracket "$1"):$3
	PH_ACK_PEER=$(bracket "$2")
	PH_ACK_DELTA=$((lo1 - lo0))
}

# rsts_settle: until the namespace has sent no RST for half a second (at most 5 s):
# connections of an earlier phase still being torn down send their own, which
# phase_refused must not count.
rsts_settle() {
	local a b i=0
	b=$(counter TcpOutRsts)
	while [ $i -lt 10 ]; do
		sleep 0.5
		a=$b
		b=$(counter TcpOutRsts)
		[ "$a" = "$b" ] && return 0
		i=$((i + 1))
	done
}

# phase_refused SERVER PEER PORT: SYNs to a port nobody listens on; it runs first, on a quiet namespace.
phase_refused() {
	local r0 r1
	rsts_settle
	r0=$(counter TcpOutRsts)
	"$TCPLOAD" connect "$1" "$3" 3 --from "$2" --timeout-ms 1000 >"$WORK/refused.log"
	r1=$(counter TcpOutRsts)
	grep -q "refused=3" "$WORK/refused.log" || fail "3 clients should be refused: $(cat "$WORK/refused.log")"
	PH_REF_LOCAL=$(bracket "$1"):$3
	PH_REF_PEER=$(bracket "$2")
	PH_REF_DELTA=$((r1 - r0))
}

# phase_cookie: 5 syncookie ACKs from 127.0.0.14 meet a full accept queue.
phase_cookie() {
	local lo0 lo1
	sysctl -qw net.ipv4.tcp_syncookies=2 || fail "cannot set tcp_syncookies"
	start_listener cookie 127.0.0.1 8084 2
	lo0=$(counter TcpExtListenOverflows)
	"$top_builddir/tests/tools/cookie-ack" 127.0.0.14 127.0.0.1 8084 5 127.0.0.11 3 >"$WORK/cookie.log" ||
		fail "cookie-ack failed: $(cat "$WORK/cookie.log")"
	lo1=$(counter TcpExtListenOverflows)
	kill "$cookie_PID"
	sysctl -qw net.ipv4.tcp_syncookies=1
	grep -q "synacks=5 acks=5 filled=3" "$WORK/cookie.log" || fail "cookie-ack: $(cat "$WORK/cookie.log")"
	PH_COOKIE_DELTA=$((lo1 - lo0))
}

check_cookie() {
	local n sum
	n=$(count cookie_overflow 127.0.0.14 127.0.0.1:8084)
	sum=$(overflows 127.0.0.1:8084)
	echo "cookie: 127.0.0.14 $n, overflow events $sum, ListenOverflows +$PH_COOKIE_DELTA"
	[ "$n" -eq 5 ] || fail "5 cookie_overflow events expected, $n"
	[ "$sum" -eq "$PH_COOKIE_DELTA" ] || fail "$sum overflow events, ListenOverflows +$PH_COOKIE_DELTA"
}

# bracket ADDR: an address as bpf-events prints it: IPv6 in brackets.
bracket() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# check_phases: the events of the three phases against the counters.
check_phases() {
	local n1 n2 sum ack ref
	n1=$(count syn_overflow "$PH_SYN_P1" "$PH_SYN_LOCAL")
	n2=$(count syn_overflow "$PH_SYN_P2" "$PH_SYN_LOCAL")
	sum=$(overflows "$PH_SYN_LOCAL")
	echo "syn: $PH_SYN_P1 $n1, $PH_SYN_P2 $n2, overflow events $sum, ListenOverflows +$PH_SYN_DELTA"
	[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "syn_overflow events should name both clients"
	[ "$PH_SYN_DELTA" -gt 0 ] || fail "the listener did not overflow"
	[ "$sum" -eq "$PH_SYN_DELTA" ] || fail "$sum overflow events, ListenOverflows +$PH_SYN_DELTA"
	awk -v l="$PH_SYN_LOCAL" '$1 == "syn_overflow" && $4 == l && $5 ~ /^cookie=[1-9]/ && $6 == "queue=3/2"' \
		"$WORK/ev.out" | grep -q . ||
		fail "syn_overflow events should carry the listener's cookie and queue 3/2"

	ack=$(count ack_overflow "$PH_ACK_PEER" "$PH_ACK_LOCAL")
	sum=$(overflows "$PH_ACK_LOCAL")
	echo "ack: $PH_ACK_PEER $ack, overflow events $sum, ListenOverflows +$PH_ACK_DELTA"
	[ "$ack" -gt 0 ] || fail "defer-storm gave no ack_overflow event"
	[ "$sum" -eq "$PH_ACK_DELTA" ] || fail "$sum overflow events, ListenOverflows +$PH_ACK_DELTA"

	ref=$(count refused "$PH_REF_PEER" "$PH_REF_LOCAL")
	echo "refused: $PH_REF_PEER $ref, OutRsts +$PH_REF_DELTA"
	[ "$ref" -eq 3 ] || fail "3 refused events expected, $ref"
	[ "$ref" -eq "$PH_REF_DELTA" ] || fail "$ref refused events, OutRsts +$PH_REF_DELTA"
}

note "IPv4, syncookies, and another namespace's overflows (not watched)"
events_start 10
phase_refused 127.0.0.1 127.0.0.13 8083
phase_syn 127.0.0.1 127.0.0.11 127.0.0.12 8080
phase_ack 127.0.0.1 127.0.0.11 8081
phase_cookie
# The other namespace: a listener there overflows; its ListenOverflows are its own.
other=$(unshare -n sh -c '
	ip link set lo up
	"$1" listen 127.0.0.1 8090 1 --lifetime 5 >/dev/null & l=$!
	sleep 0.3
	"$1" connect 127.0.0.1 8090 6 --timeout-ms 300 >/dev/null
	kill $l
	nstat -asz TcpExtListenOverflows | awk "\$1 == \"TcpExtListenOverflows\" { print \$2 }"' sh "$TCPLOAD")
events_wait
check_phases
check_cookie
unwatched=$(sed -n 's/^lost=[0-9]* unwatched=\([0-9]*\) .*/\1/p' "$WORK/ev.out")
echo "other namespace: ListenOverflows $other, unwatched events $unwatched"
[ "${other:-0}" -gt 0 ] || fail "the other namespace's listener did not overflow"
! grep -q ':8090 ' "$WORK/ev.out" || fail "events of another namespace were printed"
[ "$unwatched" -ge "$other" ] || fail "unwatched $unwatched < the other namespace's $other overflows"

# Read 3 at a time: a read that stops with events waiting must lose none.
note "IPv6, read in batches of 3"
for a in 1 11 12 13; do
	ip -6 addr add "fd00::$a/128" dev lo nodad || fail "cannot add fd00::$a"
done
events_start 8 3
phase_refused fd00::1 fd00::13 8083
phase_syn fd00::1 fd00::11 fd00::12 8080
phase_ack fd00::1 fd00::11 8081
events_wait
check_phases
grep -q '^syn_overflow inet6 ' "$WORK/ev.out" || fail "no inet6 event"
echo "PASS"
