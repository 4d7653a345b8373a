#!/bin/bash
# metrics.sh: a listener with backlog 2 overflows; `backlogctl metrics` must show
# its drops (backlogd_listener_drops_total > 0 for 127.0.0.1:8080), its owner in
# backlogd_listener_info, the finding as backlogd_finding_active, and the
# namespace's ListenOverflows; `promtool check metrics` must accept the text;
# [metrics] textfile must hold the same exposition, replaced whole each tick.
. "$(dirname "$0")/lib.sh"
require_tools jq ip promtool
enter_ns "-n"
setup_work

PROM="$WORK/textfile/backlogd.prom"
mkdir -p "$WORK/textfile"
printf '[metrics]\ntextfile = %s\n' "$PROM" >"$WORK/backlogd.conf"
start_daemon -f "$WORK/backlogd.conf"
start_listener srv 127.0.0.1 8080 2 --drain-every-ms 800
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:8080" and .backlog == 2)'

"$TCPLOAD" connect 127.0.0.1 8080 20 --timeout-ms 300 >"$WORK/client.log" 2>&1
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "clients did not time out: the queue never overflowed"
wait_for 40 "backlog-small on 127.0.0.1:8080" \
	jq_status '.findings[] | select(.cause == "backlog-small" and .listener == "127.0.0.1:8080" and .state == "active")'

metrics() { "$BACKLOGCTL" -S "$SOCK" metrics; }
metrics >"$WORK/metrics.txt" || fail "backlogctl metrics failed"
labels='netns="host",listener="127.0.0.1:8080",port="8080"'
drops=$(sed -n 's/^backlogd_listener_drops_total{'"$labels"',inode="[0-9]*"} \([0-9]*\)$/\1/p' "$WORK/metrics.txt")
[ -n "$drops" ] && [ "$drops" -gt 0 ] ||
	fail "no drops for 127.0.0.1:8080: $(grep '^backlogd_listener_drops_total' "$WORK/metrics.txt")"
grep -q '^backlogd_listener_accept_queue_limit{'"$labels"',inode="[0-9]*"} 2$' "$WORK/metrics.txt" ||
	fail "the limit is not 2: $(grep '^backlogd_listener_accept_queue_limit' "$WORK/metrics.txt")"
grep -q '^backlogd_listener_info{'"$labels"',inode="[0-9]*",comm="tcpload",pid="'"$srv_PID"'",unit="[^"]*",container=""} 1$' \
	"$WORK/metrics.txt" || fail "no info for the listener: $(grep '^backlogd_listener_info' "$WORK/metrics.txt")"
grep -q '^backlogd_finding_active{cause="backlog-small",severity="warning",subject="127.0.0.1:8080",netns="host",role="cause"} 1$' \
	"$WORK/metrics.txt" || fail "no active finding: $(grep '^backlogd_finding_active' "$WORK/metrics.txt")"
grep -q '^backlogd_findings_opened_total{cause="backlog-small"} [1-9]' "$WORK/metrics.txt" ||
	fail "backlog-small not counted as opened"
overflows=$(sed -n 's/^backlogd_netstat_tcp_ext_listen_overflows_total{netns="host"} //p' "$WORK/metrics.txt")
[ -n "$overflows" ] && [ "$overflows" -gt 0 ] || fail "ListenOverflows not exposed or 0"
grep -q '^# TYPE backlogd_listener_drops_total counter$' "$WORK/metrics.txt" || fail "drops_total is not a counter"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.log" 2>&1 ||
	fail "promtool check metrics: $(cat "$WORK/promtool.log")"

# --json gives the same text as one JSON string; --netns does not apply.
"$BACKLOGCTL" -S "$SOCK" --json metrics | jq -e 'type == "string" and test("backlogd_build_info")' >/dev/null ||
	fail "backlogctl --json metrics is not the text as a JSON string"
"$BACKLOGCTL" -S "$SOCK" --netns host metrics >/dev/null 2>&1
[ $? -eq 2 ] || fail "--netns with metrics should be a usage error"

# The textfile: there, whole (no .tmp left), and the same series as the socket's.
wait_ticks 2
[ -s "$PROM" ] || fail "no textfile at $PROM"
[ ! -e "$PROM.tmp" ] || fail "the temporary textfile was left behind"
promtool check metrics <"$PROM" >"$WORK/promtool.log" 2>&1 ||
	fail "promtool check metrics on the textfile: $(cat "$WORK/promtool.log")"
series() { sed -n 's/^\([^#][^ ]*\) .*/\1/p' "$1" | sort; }
metrics >"$WORK/metrics2.txt"
diff <(series "$WORK/metrics2.txt") <(series "$PROM") >"$WORK/series.diff" ||
	fail "the textfile's series differ from backlogctl metrics: $(cat "$WORK/series.diff")"
grep -q '^backlogd_listener_drops_total{'"$labels"',inode="[0-9]*"} [1-9]' "$PROM" || fail "the textfile lacks the drops"

# A directory that goes away: logged once, and the daemon keeps ticking.
rm -rf "$WORK/textfile"
wait_ticks 3
n=$(grep -c "cannot write the metrics to $PROM" "$WORK/backlogd.log")
[ "$n" -eq 1 ] || fail "expected one line about the textfile, got $n"
mkdir -p "$WORK/textfile"
wait_ticks 2
[ -s "$PROM" ] || fail "the textfile did not come back"
grep -q "metrics written to $PROM again" "$WORK/backlogd.log" || fail "no line saying the textfile works again"
stop_daemon
echo "PASS: metrics for 127.0.0.1:8080 ($drops drops), promtool accepts them, textfile $PROM"
