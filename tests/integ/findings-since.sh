#!/bin/bash
# findings-since.sh: `backlogctl findings --since DURATION` lists what opened,
# was revised and resolved in that window from the daemon's memory, oldest
# first, with times: a listener with backlog 2 that never accepts, overflowed
# by a bounded loop of connects, opens backlog-small, is revised to
# slow-accept as its queue stays full, and resolves when it goes away. With a
# real journald (private to this test) the journal's records and the log
# must tell the same story. A window after the events lists none; a bad
# duration is a usage error.
. "$(dirname "$0")/lib.sh"
require_tools jq ip python3
enter_ns "-n -m"
setup_work

JOURNAL=""
if private_journald; then
	JOURNAL=1
else
	note "no private journald here: the journal is not compared with the log"
fi

L=127.0.0.1:8080
ctl() { "$BACKLOGCTL" -S "$SOCK" "$@"; }
# The events of listener L's overflow in the last $1, as "event cause revised_from" lines.
# (Its close resets the connections left in its queue: a listener-gap of its own follows.)
story() {
	ctl --json findings --since "$1" | jq -r --arg l "$L" '.events[] |
		select(.listener == $l and .cause != "listener-gap") | "\(.event) \(.cause) \(.revised_from)"'
}
# has_event EVENT: the last minute has an event EVENT of L.
has_event() { story 1m | grep -q "^$1 "; }

printf "[daemon]\nquiet_period = 2\n" >"$WORK/backlogd.conf"
started=$(date +%s)
"$BACKLOGD" -d $(ns_flag) -i "$TICK" -S "$SOCK" -f "$WORK/backlogd.conf" >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 50 "backlogd answers" ctl_ping

# Nothing yet: an empty window that reaches before the daemon started says so.
ctl findings --since 1h >"$WORK/empty.txt" || fail "findings --since 1h failed"
cat "$WORK/empty.txt"
grep -q '^No events\.$' "$WORK/empty.txt" || fail "an empty window should say so"
grep -q "^backlogd's memory only goes back to .* (0 events kept, 0 dropped); it started then$" \
	"$WORK/empty.txt" || fail "the window reaches before the daemon started: it should say how far back it knows"

start_listener srv 127.0.0.1 8080 2
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "'"$L"'")'

# A bounded load: enough rounds for the queue to stay full across ticks.
for round in 1 2 3 4 5 6 7 8; do
	"$TCPLOAD" connect 127.0.0.1 8080 10 --timeout-ms 200 >/dev/null 2>&1
	sleep "$TICK"
	story 1m | grep -q '^revised slow-accept backlog-small$' && break
done
wait_for 50 "the finding opened" has_event opened
revised=""
story 1m | grep -q '^revised slow-accept backlog-small$' && revised=1
[ -n "$revised" ] || note "the finding was not revised here: the revision is not checked"

# The listener goes away: after the quiet period, the finding resolves.
kill "$srv_PID"
wait_for 100 "the finding resolved" has_event resolved
ended=$(date +%s)

story 1m >"$WORK/story.txt"
cat "$WORK/story.txt"
if [ -n "$revised" ]; then
	want=$'opened backlog-small null\nrevised slow-accept backlog-small\nresolved slow-accept null'
else
	want=$'opened backlog-small null\nresolved backlog-small null'
fi
[ "$(cat "$WORK/story.txt")" = "$want" ] || fail "the story of $L in the last minute is wrong: $(cat "$WORK/story.txt")"

# --json: the document and every event's fields, oldest first, with times in the test's span.
ctl --json findings --since 1m >"$WORK/events.json" || fail "findings --since 1m --json failed"
jq -e --argjson s "$started" --argjson e "$ended" --arg l "$L" --arg pid "$srv_PID" '
	.since == 60 and .from == .now - 60 and .capacity == 1024 and .dropped == 0 and .lost == 0 and
	.kept >= (.events | length) and .kept_from >= $s and .kept_from <= $e and
	.bytes > 0 and .bytes <= 1152 * 1024 and
	([.events[] | select(.listener == $l and .cause != "listener-gap")] | length >= 2 and
	 (map(.at) == (map(.at) | sort)) and all(.[];
		.at >= $s and .at <= $e and .first_seen <= .at and .first_seen >= $s and
		(.severity == if .cause == "backlog-small" then "warning" else "err" end) and
		(.subject | contains($l)) and (.subject | contains($pid)) and
		(.message | contains($l)) and (.remedy | test("backlog|accept")) and
		(.clients == null or .clients.peers == 1) and
		.netns.name == "host" and .netns.kind == "host" and (.netns.inode | type) == "number" and
		(.event | IN("opened", "revised", "resolved"))))' "$WORK/events.json" >/dev/null ||
	fail "the events document is wrong: $(cat "$WORK/events.json")"
# The gap that followed is in the log too, with its own words.
jq -e --arg l "$L" '[.events[] | select(.listener == $l and .cause == "listener-gap")] |
	length == 0 or (.[0].event == "opened" and (.[0].message | test("no listener")))' "$WORK/events.json" >/dev/null ||
	fail "the listener-gap event is wrong: $(cat "$WORK/events.json")"
# The words are the ones `findings` shows for the same finding.
jq -r --arg l "$L" '[.events[] | select(.listener == $l and .cause != "listener-gap")] | last | .message' "$WORK/events.json" >"$WORK/ev-msg.txt"
ctl --json findings | jq -r --arg l "$L" '.[] | select(.listener == $l and .cause != "listener-gap") | .message' >"$WORK/f-msg.txt"
cmp -s "$WORK/ev-msg.txt" "$WORK/f-msg.txt" ||
	fail "the event's message differs from the finding's: $(cat "$WORK/ev-msg.txt") / $(cat "$WORK/f-msg.txt")"

# The table: one line per event with its local time, then the words as findings shows them.
ctl findings --since 1m >"$WORK/events.txt" || fail "findings --since 1m failed"
cat "$WORK/events.txt"
grep -q '^Findings opened, revised and resolved in the last 1m 00s (since ' "$WORK/events.txt" ||
	fail "the table lacks its window"
grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2} +(opened|revised from backlog-small|resolved) +(backlog-small|slow-accept) +127\.0\.0\.1:8080 *$' \
	"$WORK/events.txt" >"$WORK/rows.txt"
awk '{ print $2 }' "$WORK/rows.txt" | paste -sd' ' >"$WORK/order.txt"
if [ -n "$revised" ]; then want="opened revised resolved"; else want="opened resolved"; fi
[ "$(cat "$WORK/order.txt")" = "$want" ] || fail "the table's rows are not $want in order: $(cat "$WORK/order.txt")"
grep -q '^    fix: ' "$WORK/events.txt" || fail "the table lacks the fix under the events"
grep -q "^    127.0.0.1:8080 overflowed its accept queue" "$WORK/events.txt" || fail "the table lacks the message"

# --netns: host keeps them, a namespace that does not exist is an error.
[ "$(ctl --json --netns host findings --since 1m | jq --arg l "$L" '[.events[] | select(.listener == $l)] | length')" -ge 2 ] ||
	fail "--netns host dropped the host's events"
ctl --netns nosuch findings --since 1m >/dev/null 2>"$WORK/nosuch.err"
rc=$?
[ "$rc" -eq 4 ] || fail "--netns nosuch: exit $rc, want 4"
grep -q 'no namespace nosuch' "$WORK/nosuch.err" || fail "--netns nosuch: $(cat "$WORK/nosuch.err")"

# A window after the events lists none of them.
sleep 2
[ -z "$(story 1s)" ] || fail "findings --since 1s lists old events: $(story 1s)"
ctl findings --since 1s | grep -E ' (backlog-small|slow-accept) +127\.0\.0\.1:8080' &&
	fail "the table of findings --since 1s lists old events"

# Bad durations are usage errors; --since belongs to findings only.
for bad in 0 -5 5x 1.5m 1m2 "" 3651d 99999999999999999999; do
	ctl findings --since "$bad" >/dev/null 2>"$WORK/bad.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "--since '$bad': exit $rc, want 2"
	grep -q "bad --since '$bad'" "$WORK/bad.err" || fail "--since '$bad': $(cat "$WORK/bad.err")"
done
ctl status --since 1m >/dev/null 2>"$WORK/bad.err"
[ $? -eq 2 ] && grep -q -- '--since only applies to findings' "$WORK/bad.err" ||
	fail "status --since: $(cat "$WORK/bad.err")"
# The daemon itself refuses a bad window with a clear error, whatever a client sends.
for t in 0 -1 abc 1e3; do
	printf '{"command":"events","target":"%s"}\n' "$t" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.makefile().readline(), end="")' "$SOCK" >"$WORK/raw.json" || fail "cannot send a raw request"
	jq -e '.ok == false and (.error | test("whole number of seconds"))' "$WORK/raw.json" >/dev/null ||
		fail "events target '$t': $(cat "$WORK/raw.json")"
done

# The journal tells the same story, record for record.
if [ -n "$JOURNAL" ]; then
	journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_LISTENER="$L" |
		jq -r 'select(.BACKLOGD_CAUSE != "listener-gap") |
			"\(.BACKLOGD_STATE | sub("^open$"; "opened")) \(.BACKLOGD_CAUSE)"' >"$WORK/journal.txt"
	awk '{ print $1, $2 }' "$WORK/story.txt" >"$WORK/story2.txt"
	cmp -s "$WORK/journal.txt" "$WORK/story2.txt" ||
		fail "the journal and the log disagree: journal $(paste -sd'|' "$WORK/journal.txt"), log $(paste -sd'|' "$WORK/story2.txt")"
fi
stop_daemon
echo "PASS: findings --since tells $(paste -sd',' "$WORK/order.txt") for $L, in order, as the journal does"
