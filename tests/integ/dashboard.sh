#!/bin/bash
# dashboard.sh: every metric the Grafana dashboard and the alert rules query
# is one a real backlogd exposes. The daemon runs in its own namespace; the
# families of `backlogctl metrics` (its # TYPE lines) are what exists, plus
# `up`, which Prometheus adds per scrape. The dashboard must be JSON whose
# every panel has a data source and a query that Prometheus parses (promtool
# checks them as rules, Grafana's variables given values). The checker must itself reject a
# panel that names a metric no backlogd has.
. "$(dirname "$0")/lib.sh"
require_tools jq ip promtool
PY=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import yaml' >/dev/null 2>&1 && { PY=$p; break; }
done
[ -n "$PY" ] || skip "python3 with the yaml module (Debian python3-yaml) is not installed"
DASHBOARD="$top_srcdir/contrib/grafana/backlogd-dashboard.json"
RULES="$top_srcdir/contrib/prometheus/backlogd-alerts.yml"
CHECK="$top_srcdir/tests/integ/promql_names.py"
enter_ns "-n"
setup_work

jq -e '.panels | length > 0' "$DASHBOARD" >/dev/null || fail "$DASHBOARD is not JSON with panels"
"$PY" "$CHECK" --as-rules "$DASHBOARD" >"$WORK/queries.yml" || fail "cannot read the queries of $DASHBOARD"
promtool check rules "$WORK/queries.yml" >"$WORK/promtool.log" 2>&1 ||
	fail "a query of the dashboard is not PromQL: $(cat "$WORK/promtool.log")"

# A listener, so that the exposition has every kind of series, not just families.
start_daemon
start_listener srv 127.0.0.1 8080 16
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:8080")'
wait_ticks 2
"$BACKLOGCTL" -S "$SOCK" metrics >"$WORK/metrics.txt" || fail "backlogctl metrics failed"
grep -q '^# TYPE backlogd_netstat_tcp_ext_listen_overflows_total counter$' "$WORK/metrics.txt" ||
	fail "the exposition lacks the host counters: $(grep -c '^# TYPE' "$WORK/metrics.txt") families"
stop_daemon

"$PY" "$CHECK" "$WORK/metrics.txt" "$DASHBOARD" "$RULES" >"$WORK/check.log" 2>&1 ||
	fail "queries name metrics backlogd does not expose: $(cat "$WORK/check.log")"
note "$(tail -n 1 "$WORK/check.log")"

# The checker is not blind: a panel and an alert that name a metric that
# does not exist, and a panel without a data source, are each caught by name.
jq '.panels |= map(if .type == "timeseries" and .title == "Tick duration" then
		.targets[0].expr = "rate(backlogd_ticks_skipped_total[5m])" else . end)' \
	"$DASHBOARD" >"$WORK/bad-name.json"
"$PY" "$CHECK" "$WORK/metrics.txt" "$WORK/bad-name.json" "$RULES" >"$WORK/bad.log" 2>&1 &&
	fail "the checker accepted a panel on backlogd_ticks_skipped_total"
grep -q "panel 'Tick duration', query A: backlogd_ticks_skipped_total is not a metric" "$WORK/bad.log" ||
	fail "the checker did not name the missing metric: $(cat "$WORK/bad.log")"

sed 's/expr: backlogd_tick_failing == 1/expr: backlogd_tick_failed == 1/' "$RULES" >"$WORK/bad-rules.yml"
cmp -s "$RULES" "$WORK/bad-rules.yml" && fail "no BacklogdTickFailing expression to spoil in $RULES"
"$PY" "$CHECK" "$WORK/metrics.txt" "$DASHBOARD" "$WORK/bad-rules.yml" >"$WORK/bad.log" 2>&1 &&
	fail "the checker accepted an alert on backlogd_tick_failed"
grep -q "alert BacklogdTickFailing: backlogd_tick_failed is not a metric" "$WORK/bad.log" ||
	fail "the checker did not name the missing metric: $(cat "$WORK/bad.log")"

jq '(.panels[] | select(.title == "Active findings")) |= del(.datasource)' "$DASHBOARD" >"$WORK/no-ds.json"
"$PY" "$CHECK" "$WORK/metrics.txt" "$WORK/no-ds.json" "$RULES" >"$WORK/bad.log" 2>&1 &&
	fail "the checker accepted a panel without a data source"
grep -q "panel 'Active findings': no datasource" "$WORK/bad.log" ||
	fail "the checker did not name the panel without a data source: $(cat "$WORK/bad.log")"

echo "PASS: every query of the dashboard and the alert rules names a metric backlogd exposes"
