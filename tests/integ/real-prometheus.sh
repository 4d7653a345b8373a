#!/bin/bash
# real-prometheus.sh: a real Prometheus server (Debian's prometheus) scrapes
# backlogd -m every second while a listener with backlog 2 overflows; its
# HTTP API (/api/v1/query) must then hold backlogd_listener_drops_total > 0
# for that listener and backlogd_finding_active for its finding, and the
# scrape target must be up. Prometheus runs in the test's namespaces, on
# loopback, with a scratch configuration and storage, and dies with the test
# (PID 1 of its PID namespace), which real-lib.sh fails after REAL_BUDGET s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
. "$(dirname "$0")/real-lib.sh"
require_tools jq ip curl promtool
require_real prometheus
real_enter

METRICS=127.0.0.1:9110
PROM=127.0.0.1:9090
L=127.0.0.1:8080

start_daemon -m "$METRICS"

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: backlogd
    static_configs:
      - targets: ['$METRICS']
EOF
promtool check config "$WORK/prometheus.yml" >"$WORK/promcheck.log" 2>&1 ||
	fail "promtool check config: $(cat "$WORK/promcheck.log")"
mkdir -p "$WORK/tsdb"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS="$PIDS $!"
# A failure shows Prometheus's side too.
eval "lib_$(declare -f dump_logs)"
dump_logs() {
	lib_dump_logs
	echo "--- prometheus log (last 20 lines)"
	tail -n 20 "$WORK/prometheus.log"
}

# query PROMQL: the API's JSON answer to an instant query.
query() { curl -s --max-time 2 "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
# has_result PROMQL: true once the query returns at least one series.
has_result() { query "$1" | jq -e '.status == "success" and (.data.result | length) > 0' >/dev/null 2>&1; }

wait_for 200 "Prometheus ready" curl -sf --max-time 1 "http://$PROM/-/ready" -o /dev/null
wait_for 100 "Prometheus scrapes backlogd (up == 1)" has_result 'up{job="backlogd"} == 1'

# The overflow: a listener with backlog 2, drained slowly, under 20 clients.
start_listener srv 127.0.0.1 8080 2 --drain-every-ms 800
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "'"$L"'" and .backlog == 2)'
"$TCPLOAD" connect 127.0.0.1 8080 20 --timeout-ms 300 >"$WORK/client.log" 2>&1
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "clients did not time out: the queue never overflowed"
wait_for 100 "backlog-small on $L" \
	jq_status '.findings[] | select(.cause == "backlog-small" and .listener == "'"$L"'" and .state == "active")'

# What Prometheus stored, through its API: the drops and the finding.
drops_q='backlogd_listener_drops_total{job="backlogd",listener="'"$L"'",port="8080",netns="host"} > 0'
finding_q='backlogd_finding_active{job="backlogd",cause="backlog-small",subject="'"$L"'",severity="warning",role="cause"} == 1'
wait_for 100 "Prometheus has drops > 0 for $L" has_result "$drops_q"
wait_for 100 "Prometheus has the backlog-small finding on $L" has_result "$finding_q"
drops=$(query "$drops_q" | jq -r '.data.result[0].value[1]')
has_result 'backlogd_listener_info{listener="'"$L"'",comm="tcpload"} == 1' ||
	fail "the listener's owner is not in Prometheus"
# Every scrape so far succeeded: no sample of up was 0.
has_result 'min_over_time(up{job="backlogd"}[1m]) == 1' || fail "a scrape of backlogd failed"
grep -qi 'error' "$WORK/prometheus.log" && note "Prometheus logged errors: $(grep -i error "$WORK/prometheus.log" | head -3)"

real_done "Prometheus stored $drops drops for $L and the backlog-small finding from backlogd -m $METRICS"
