#!/bin/bash
# journal.sh: a real systemd-journald, private to this test, receives exactly
# one record when the backlog-small finding opens (not one per tick) and one
# when it resolves, with MESSAGE_ID and the BACKLOGD_* fields.
. "$(dirname "$0")/lib.sh"
require_tools jq ip journalctl
[ -x "$JOURNALD" ] || skip "systemd-journald is not installed"
enter_ns "-n -m"
setup_work

private_journald || fail "cannot start a private journald (tmpfs over /run and /var/log)"

printf "[daemon]\nquiet_period = 3\n[diagnose]\n# the listener never accepts: keep it backlog-small for the whole test\nslow_accept_ticks = 1000\n" >"$WORK/backlogd.conf"
"$BACKLOGD" $(ns_flag) -i "$TICK" -S "$SOCK" -f "$WORK/backlogd.conf" >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 50 "backlogd answers" ctl_ping

start_listener srv 127.0.0.1 8080 2
wait_for 30 "daemon sees the listener" jq_status '.listeners[] | select(.listener == "127.0.0.1:8080")'

# Drops over many ticks: the finding stays open, it must not be re-sent.
for round in 1 2 3 4 5 6; do
	"$TCPLOAD" connect 127.0.0.1 8080 10 --timeout-ms 200 >/dev/null 2>&1
	sleep "$TICK"
done
wait_for 30 "finding active" jq_status '.findings[] | select(.cause == "backlog-small" and .state == "active")'

records() {
	journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_CAUSE=backlog-small \
		BACKLOGD_STATE="$1" 2>/dev/null
}
wait_for 30 "the opening record" sh -c "journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_STATE=open | grep -q backlog-small"
records open >"$WORK/open.json"
n=$(wc -l <"$WORK/open.json")
[ "$n" -eq 1 ] || fail "expected exactly 1 opening record, got $n: $(cat "$WORK/open.json")"

catalog_id=$(awk '/^-- [0-9a-f]+$/ { id = $2 } /^Subject: .*backlog-small/ { print id; exit }' \
	"$top_srcdir/systemd/backlogd.catalog")
[ -n "$catalog_id" ] || fail "no catalog entry for backlog-small"
jq -e --arg id "$catalog_id" --arg pid "$srv_PID" '
	.MESSAGE_ID == $id and .PRIORITY == "4" and
	.BACKLOGD_LISTENER == "127.0.0.1:8080" and .BACKLOGD_PID == $pid and
	.BACKLOGD_COMM == "tcpload" and .BACKLOGD_BACKLOG == "2" and
	(.BACKLOGD_DROPS | tonumber) > 0 and .BACKLOGD_QUEUE == "3" and
	.BACKLOGD_SOMAXCONN == "4096" and (.BACKLOGD_REMEDY | length) > 0 and
	.BACKLOGD_NETNS_NAME == "host" and (.BACKLOGD_NETNS | tonumber) > 0 and
	(.BACKLOGD_CMDLINE | contains("listen 127.0.0.1 8080")) and .BACKLOGD_USER == "root" and
	(.MESSAGE | contains("127.0.0.1:8080"))' "$WORK/open.json" >/dev/null ||
	fail "opening record lacks fields: $(cat "$WORK/open.json")"
# With the eBPF tier, the record names who was dropped (the only client is 127.0.0.1).
if jq_status '.daemon.bpf == true'; then
	jq -e '.BACKLOGD_CLIENTS | test("^127\\.0\\.0\\.1 \\([0-9]+ drops?\\); [0-9]+ drops? from 1 peer$")' \
		"$WORK/open.json" >/dev/null || fail "opening record should name the client: $(jq -c '{BACKLOGD_CLIENTS}' "$WORK/open.json")"
else
	note "the eBPF tier is off: BACKLOGD_CLIENTS not checked"
fi

# Stop the drops: the listener goes away, and after the quiet period one resolution.
kill "$srv_PID"
wait_for 100 "the resolution record" sh -c "journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_STATE=resolved | grep -q backlog-small"
wait_ticks 4
records resolved >"$WORK/resolved.json"
[ "$(wc -l <"$WORK/resolved.json")" -eq 1 ] || fail "expected 1 resolution record: $(cat "$WORK/resolved.json")"
[ "$(records open | wc -l)" -eq 1 ] || fail "the finding was opened again"
jq -e '.PRIORITY == "6"' "$WORK/resolved.json" >/dev/null || fail "resolution priority is not info"
stop_daemon
echo "PASS: one journal record to open, one to resolve"
