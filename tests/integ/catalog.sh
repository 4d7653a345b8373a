#!/bin/bash
# catalog.sh: the journal catalog installs with `journalctl --update-catalog`, and
# `journalctl -x` then explains a real backlog-small record with its fields filled in.
# The catalog directory and database belong to the host: this test hides both under
# tmpfs in its own mount namespace before it writes anything, so the host never sees it.
. "$(dirname "$0")/lib.sh"
require_tools jq ip journalctl findmnt
JOURNALD=/lib/systemd/systemd-journald
CATALOG_DIR=/usr/lib/systemd/catalog
CATALOG_DB_DIR=/var/lib/systemd/catalog
[ -x "$JOURNALD" ] || skip "systemd-journald is not installed"
# Mounting over a directory needs it to exist; creating it would change the host.
[ -d "$CATALOG_DIR" ] || skip "$CATALOG_DIR does not exist (journalctl reads the catalog from there)"
[ -d "$CATALOG_DB_DIR" ] || skip "$CATALOG_DB_DIR does not exist (journalctl keeps the database there)"
enter_ns "-n -m"
setup_work

# unshare -m makes every mount private already; say so again so that nothing
# mounted below can propagate to the host whatever unshare's defaults are.
mount --make-rprivate / || fail "cannot make the mounts of this namespace private"
for dir in /run /var/log "$CATALOG_DIR" "$CATALOG_DB_DIR"; do
	mount -t tmpfs tmpfs "$dir" || fail "cannot mount a private tmpfs on $dir"
	[ "$(findmnt -n -o FSTYPE --mountpoint "$dir")" = tmpfs ] || fail "$dir is not a private tmpfs"
done
mkdir -p /run/systemd/journal /var/log/journal

# Install the catalog and compile the database, both into the tmpfs mounts.
cp "$top_srcdir/systemd/backlogd.catalog" "$CATALOG_DIR/" || fail "cannot copy the catalog"
journalctl --update-catalog >"$WORK/update-catalog.log" 2>&1 ||
	fail "journalctl --update-catalog failed: $(cat "$WORK/update-catalog.log")"
[ -s "$CATALOG_DB_DIR/database" ] || fail "no catalog database was written"
[ "$(findmnt -n -o FSTYPE -T "$CATALOG_DB_DIR/database")" = tmpfs ] || fail "the database is not on the tmpfs"

catalog_id=$(awk '/^-- [0-9a-f]+$/ { id = $2 } /^Subject: .*backlog-small/ { print id; exit }' \
	"$top_srcdir/systemd/backlogd.catalog")
[ -n "$catalog_id" ] || fail "no catalog entry for backlog-small"
# Every backlogd entry made it into the database (a syntax error drops entries silently).
n_src=$(grep -c '^-- [0-9a-f]\{32\}$' "$top_srcdir/systemd/backlogd.catalog")
# --list-catalog prints "ID DEFINED-BY: SUBJECT", one line per entry.
n_db=$(journalctl --list-catalog 2>/dev/null | grep -c '^[0-9a-f]\{32\} backlogd: ')
[ "$n_db" -eq "$n_src" ] ||
	fail "journalctl lists $n_db backlogd catalog entries, the file has $n_src: $(journalctl --list-catalog 2>&1 | head -20)"
journalctl --list-catalog 2>/dev/null | grep -q "^$catalog_id " || fail "backlog-small ($catalog_id) is not in the catalog"

"$JOURNALD" >"$WORK/journald.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 50 "journald socket" test -S /run/systemd/journal/socket

printf "[daemon]\nquiet_period = 60\n[diagnose]\n# the listener never accepts: keep it backlog-small\nslow_accept_ticks = 1000\n" \
	>"$WORK/backlogd.conf"
"$BACKLOGD" $(ns_flag) -i "$TICK" -S "$SOCK" -f "$WORK/backlogd.conf" >"$WORK/backlogd.log" 2>&1 &
DAEMON_PID=$!
PIDS="$PIDS $DAEMON_PID"
wait_for 50 "backlogd answers" ctl_ping

start_listener srv 127.0.0.1 8080 2
wait_for 30 "daemon sees the listener" \
	jq_status '.listeners[] | select(.listener == "127.0.0.1:8080" and .backlog == 2)'
"$TCPLOAD" connect 127.0.0.1 8080 20 --timeout-ms 300 >"$WORK/client.log" 2>&1
grep -q 'timeout=[1-9]' "$WORK/client.log" || fail "clients did not time out: the queue never overflowed"

wait_for 50 "the backlog-small record" sh -c "journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd \
	BACKLOGD_CAUSE=backlog-small BACKLOGD_STATE=open 2>/dev/null | grep -q ."
journalctl -o json --no-pager SYSLOG_IDENTIFIER=backlogd BACKLOGD_CAUSE=backlog-small BACKLOGD_STATE=open \
	>"$WORK/open.json"
jq -e --arg id "$catalog_id" '.MESSAGE_ID == $id and .BACKLOGD_SCOPE == "listener" and
	.BACKLOGD_LISTENER == "127.0.0.1:8080" and (has("BACKLOGD_EXPLAINED_BY") | not)' \
	"$WORK/open.json" >/dev/null || fail "the record lacks its MESSAGE_ID or scope: $(cat "$WORK/open.json")"

# The explanation, as a person would read it.
journalctl -x --no-pager -t backlogd >"$WORK/explained.txt" 2>&1 || fail "journalctl -x failed"
cat "$WORK/explained.txt"
expect() {
	grep -qF -- "$1" "$WORK/explained.txt" || fail "journalctl -x does not show: $1"
}
expect "Subject: backlog-small: the accept queue of 127.0.0.1:8080 overflowed; its listen() backlog is too small"
expect "Defined-By: backlogd"
expect "The listener 127.0.0.1:8080 tcpload[$srv_PID] dropped connections because its accept queue"
expect "accept()ed) was full: queue 3 with an effective backlog of"
expect "below net.core.somaxconn=4096."
expect "Clients did not get \"connection refused\": their SYN was dropped and"
# A field journalctl could not fill in shows as its bare name: none may be left.
if grep -E '@BACKLOGD_[A-Z_]+@|(=|of |queue )BACKLOGD_[A-Z_]+' "$WORK/explained.txt"; then
	fail "a catalog field was not substituted"
fi
stop_daemon

# Still only the tmpfs copies: the host's catalog directory and database were never written.
[ "$(findmnt -n -o FSTYPE -T "$CATALOG_DB_DIR/database")" = tmpfs ] || fail "the database left the tmpfs"
[ "$(findmnt -n -o FSTYPE -T "$CATALOG_DIR/backlogd.catalog")" = tmpfs ] || fail "the catalog left the tmpfs"
echo "PASS: journalctl -x explains backlog-small on 127.0.0.1:8080 from the installed catalog"
