#!/bin/bash
# proc-root-hostile.sh: under -P, net/netstat is a FIFO and net/snmp a 64 MiB
# file. backlogd must keep ticking (a blocking open of the FIFO would wedge
# it past SIGTERM), keep its memory small, say once in its log that each
# file cannot be read, name both in status.daemon.unreadable and in
# `backlogctl status`, say once when they are back, and exit on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogue-lib.sh"
require_tools jq ip mkfifo truncate
enter_ns "-n"
setup_work

mkdir -p "$WORK/ovr/net"
cp /proc/net/netstat /proc/net/snmp "$WORK/ovr/net/"
proc_root_build "$WORK/proc" "$WORK/ovr"
rm -f "$WORK/proc/net/netstat" "$WORK/proc/net/snmp"
mkfifo "$WORK/proc/net/netstat" || fail "cannot make a FIFO"
truncate -s 64M "$WORK/proc/net/snmp" || fail "cannot make a 64 MiB file"

start_daemon -P "$WORK/proc"
wait_ticks 4
jq_status '.daemon.unreadable == ["net/netstat", "net/snmp"]' ||
	fail "status does not name the unreadable files: $(status_json | jq -c '.daemon.unreadable')"
"$BACKLOGCTL" -S "$SOCK" status >"$WORK/status.txt" || fail "backlogctl status failed"
grep -q '^cannot read: net/netstat, net/snmp' "$WORK/status.txt" ||
	fail "backlogctl status does not say what it cannot read: $(head -5 "$WORK/status.txt")"
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
[ "$rss" -lt 65536 ] || fail "backlogd holds $rss KiB: it read the 64 MiB file"
n=$(grep -c 'cannot read .*/net/netstat' "$WORK/backlogd.log")
[ "$n" -eq 1 ] || fail "expected one log line for net/netstat over 4+ ticks, got $n"
n=$(grep -c 'cannot read .*/net/snmp: File too large' "$WORK/backlogd.log")
[ "$n" -eq 1 ] || fail "expected one log line for net/snmp, got $n"

# Back to real files: said once, and status is clean again.
rm -f "$WORK/proc/net/netstat" "$WORK/proc/net/snmp"
cp /proc/net/netstat /proc/net/snmp "$WORK/proc/net/"
wait_ticks 3
jq_status '.daemon.unreadable == []' || fail "status still names: $(status_json | jq -c '.daemon.unreadable')"
n=$(grep -c 'net/netstat can be read again' "$WORK/backlogd.log")
[ "$n" -eq 1 ] || fail "expected one 'read again' line for net/netstat, got $n"

# A FIFO again, and SIGTERM: the daemon must end within 2 s.
rm -f "$WORK/proc/net/netstat"
mkfifo "$WORK/proc/net/netstat"
wait_ticks 2
kill -TERM "$DAEMON_PID"
for i in $(seq 20); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "backlogd still running 2 s after SIGTERM"
wait "$DAEMON_PID" || fail "backlogd exited with $? on SIGTERM"
echo "PASS: a FIFO and a huge file under -P are refused at once, said once, and shown in status"
