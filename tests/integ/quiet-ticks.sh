#!/bin/bash
# quiet-ticks.sh: on a quiet host the ticks skip the LISTEN dump, yet nothing is missed: a listener
# closed and listened again by the same live process (no exit, no client) is a listener-gap with its
# length, a new listener is seen within a tick or two, an overflow is reported within a tick or two
# of the drop, and with listener_refresh = 0 every tick dumps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo python3
enter_ns "-n"
setup_work

GAP_PORT=7120
FULL_PORT=7121
NEW_PORT=7122
GAP_SECS=2

# A server that closes its listener on SIGUSR1 and listens again GAP_SECS later, in the same
# process: nothing exits and no client comes, so only the socket count tells the daemon.
cat >"$WORK/relisten.py" <<'EOF'
import signal, socket, sys, time
port, gap, ready = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
signal.alarm(120)                        # bounded: the test kills it long before
def listen():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s
asked = []
signal.signal(signal.SIGUSR1, lambda *a: asked.append(1))
s = listen()
open(ready, "w").write("listening\n")
while True:
    signal.pause()
    if asked:
        asked.clear()
        s.close()
        time.sleep(gap)
        s = listen()
        open(ready, "a").write("back\n")
EOF

# dumps_over N TAG: TICKS and DUMPS over N more ticks, from status documents kept as TAG0/TAG1.json.
dumps_over() {
	status_json >"$WORK/${2}0.json"
	wait_ticks "$1"
	status_json >"$WORK/${2}1.json"
	TICKS=$(( $(jq '.daemon.ticks' "$WORK/${2}1.json") - $(jq '.daemon.ticks' "$WORK/${2}0.json") ))
	DUMPS=$(( $(jq '.daemon.listener_dumps' "$WORK/${2}1.json") - $(jq '.daemon.listener_dumps' "$WORK/${2}0.json") ))
}

# The kernel log is shared with every namespace: a line from a test beside this one would dump.
kmsg_fifo "$WORK/kmsg"
start_daemon -K "$KMSG_FIFO"
python3 "$WORK/relisten.py" $GAP_PORT $GAP_SECS "$WORK/relisten.ready" >"$WORK/relisten.log" 2>&1 &
relisten=$!
PIDS="$PIDS $relisten"
wait_for 50 "the relistening server" test -s "$WORK/relisten.ready"
start_listener full 127.0.0.1 $FULL_PORT 4
wait_for 30 "daemon sees both listeners" \
	jq_status '([.listeners[] | select(.port == '$GAP_PORT' or .port == '$FULL_PORT')] | length) == 2'
wait_ticks 2

note "quiet ticks dump nothing"
dumps_over 6 s
note "$TICKS ticks, $DUMPS dumps"
[ "$TICKS" -ge 6 ] || fail "the daemon did not tick"
[ "$DUMPS" -eq 0 ] || fail "$DUMPS dumps in $TICKS quiet ticks (last reason: $(jq -c '.daemon.listener_dump_reason' "$WORK/s1.json"))"
jq -e '.daemon.listener_dump_reason == null and (.daemon.listeners_at | type == "number")' "$WORK/s1.json" >/dev/null ||
	fail "status should say no dump this tick, and when the last was: $(jq -c '.daemon' "$WORK/s1.json")"
jq -e '[.listeners[] | select(.port == '$GAP_PORT' or .port == '$FULL_PORT')] | length == 2' "$WORK/s1.json" >/dev/null ||
	fail "a tick without a dump lost listeners: $(jq -c '[.listeners[].listener]' "$WORK/s1.json")"

note "a listener closed and listened again by the same process, with no client"
kill -USR1 $relisten
wait_for 60 "the server listens again" grep -q back "$WORK/relisten.ready"
filter='.findings[] | select(.cause == "listener-gap" and .listener == "127.0.0.1:'$GAP_PORT'")'
capture_finding "listener-gap for the same-process restart" "$filter"' | select(.evidence.gap_ms > 0)' "$WORK/gap.json" 60
jq -e "$filter"' | .evidence.gap_ms >= 1000 * ('$GAP_SECS' - 1) and .evidence.gap_ms <= 1000 * ('$GAP_SECS' + 2)' \
	"$WORK/gap.json" >/dev/null ||
	fail "the gap should be about ${GAP_SECS}000 ms: $(jq -c "$filter | .evidence" "$WORK/gap.json")"

note "a new listener is seen within two ticks"
t0=$(daemon_ticks)
start_listener new 127.0.0.1 $NEW_PORT 16 --accept
wait_for 30 "daemon sees the new listener" jq_status '.listeners[] | select(.port == '$NEW_PORT')'
t1=$(daemon_ticks)
note "seen after $((t1 - t0)) ticks"
[ $((t1 - t0)) -le 3 ] || fail "the new listener took $((t1 - t0)) ticks to be seen"

note "an overflow on the quiet host is reported at once"
wait_ticks 3
t0=$(daemon_ticks)
"$TCPLOAD" connect 127.0.0.1 $FULL_PORT 12 --timeout-ms 300 >"$WORK/clients.log" 2>&1 &
PIDS="$PIDS $!"
capture_finding "a finding for the full listener" \
	'.findings[] | select(.listener == "127.0.0.1:'$FULL_PORT'" and .evidence.drops_total > 0)' "$WORK/full.json" 40
t1=$(jq '.daemon.ticks' "$WORK/full.json")
note "reported after $((t1 - t0)) ticks; drops $(jq -c '[.findings[] | select(.listener == "127.0.0.1:'$FULL_PORT'") | .evidence.drops_total]' "$WORK/full.json")"
[ $((t1 - t0)) -le 3 ] || fail "the overflow took $((t1 - t0)) ticks to be reported"

note "listener_refresh = 0: a dump at every tick"
printf '[daemon]\nlistener_refresh = 0\n' >"$WORK/backlogd.conf"
stop_daemon
start_daemon -K "$KMSG_FIFO" -f "$WORK/backlogd.conf"
wait_ticks 2
dumps_over 4 r
[ "$DUMPS" -eq "$TICKS" ] || fail "listener_refresh = 0: $DUMPS dumps in $TICKS ticks"
jq -e '.daemon.listener_dump_reason == "every tick"' "$WORK/r1.json" >/dev/null ||
	fail "reason: $(jq -c '.daemon.listener_dump_reason' "$WORK/r1.json")"
stop_daemon
echo "PASS: quiet ticks skip the dump and miss nothing"
