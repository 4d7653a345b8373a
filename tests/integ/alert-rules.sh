#!/bin/bash
# alert-rules.sh: the shipped Prometheus alert rules load (`promtool check
# rules`) and behave (`promtool test rules`: each alert fires where it must,
# with its labels and annotations, and stays silent where it must not); every
# cause of the catalogue (daemon/core/causes.c) is named by some alert, and
# every alert has a unit test in which it fires and one in which it does not.
. "$(dirname "$0")/lib.sh"
require_tools promtool
RULES="$top_srcdir/contrib/prometheus/backlogd-alerts.yml"
TESTS="$top_srcdir/contrib/prometheus/backlogd-alerts.test.yml"
LOG=$(mktemp /tmp/backlogd-alert-rules.XXXXXX)
trap 'rm -f "$LOG"' EXIT

promtool check rules "$RULES" >"$LOG" 2>&1 || fail "promtool check rules: $(cat "$LOG")"
promtool test rules "$TESTS" >"$LOG" 2>&1 || fail "promtool test rules: $(cat "$LOG")"

# The catalogue's codes, from its one table: a cause no alert names would page
# only through the catch-all, under a summary that says nothing of it.
causes=$(sed -n 's/^[[:space:]]*\[CAUSE_[A-Z_]*\] = { "\([a-z-]*\)".*/\1/p' "$top_srcdir/daemon/core/causes.c")
[ "$(echo "$causes" | wc -l)" -ge 10 ] || fail "could not read the cause codes from daemon/core/causes.c"
for c in $causes; do
	grep -q "cause=\"$c\"\|cause=~\"\([a-z-]*|\)*$c[|\"]" "$RULES" || fail "no alert names the cause $c"
done

# Each alert: a test where it fires (exp_alerts with entries) and one where it does not (exp_alerts: []).
alerts=$(sed -n 's/^[[:space:]]*- alert: \([A-Za-z]*\)$/\1/p' "$RULES")
for a in $alerts; do
	grep -A1 "alertname: $a\$" "$TESTS" | grep -q 'exp_alerts:$' || fail "no test where $a fires"
	grep -A1 "alertname: $a\$" "$TESTS" | grep -q 'exp_alerts: \[\]$' || fail "no test where $a stays silent"
done
echo "PASS: $(echo "$alerts" | wc -w) alerts load and pass their unit tests; every cause has an alert"
