#!/bin/bash
# prefork.sh: one listening socket held by four processes (a pre-fork server): backlogd must list all four owners, each with its comm and command line, and drop one that exits.
. "$(dirname "$0")/lib.sh"
require_tools jq ip pgrep
enter_ns "-n"
setup_work

start_daemon
# The parent forks 3 children after listen(); "ready" comes once they all exist.
start_listener srv 127.0.0.1 8080 16 --fork 3
kids=$(pgrep -P "$srv_PID" | sort -n | tr '\n' ' ')
set -- $kids
[ $# -eq 3 ] || fail "tcpload --fork 3 has $# children: $kids"
# Only a child that really holds the listening socket is an owner.
ino=$(awk 'NR > 1 && $2 == "0100007F:1F90" && $4 == "0A" { print $10 }' /proc/net/tcp)
[ -n "$ino" ] || fail "no 127.0.0.1:8080 listener in /proc/net/tcp"
for p in "$srv_PID" $kids; do
	ls -l "/proc/$p/fd" 2>/dev/null | grep -q "socket:\[$ino\]" || fail "pid $p does not hold socket $ino"
done
want=$(printf '%s\n' "$srv_PID" $kids | sort -n | jq -sc .)
note "listener inode $ino held by $want"

row='.listeners[] | select(.listener == "127.0.0.1:8080")'
wait_for 50 "daemon lists 4 processes for 127.0.0.1:8080" \
	jq_status "$row"' | .processes | length == 4'
status_json >"$WORK/status.json"
jq -e --argjson want "$want" "$row"' | (.processes | map(.pid) | sort) == $want and
	all(.processes[]; .comm == "tcpload" and (.cmdline | type) == "string" and
		(.cmdline | contains("listen 127.0.0.1 8080 16 --fork 3")))' "$WORK/status.json" >/dev/null ||
	fail "processes of 127.0.0.1:8080 should be $want, comm tcpload, cmdline with the listen arguments: $(jq -c "$row"' | .processes' "$WORK/status.json")"
# Each holder's parent and state; the one that accepts is a child, never the parent that only holds the socket.
jq -e --argjson p "$srv_PID" "$row"' | (.processes | all(.[]; (.state | type) == "string" and .ppid != null)) and
	([.processes[] | select(.acceptor)] | length == 1 and .[0].pid != $p and .[0].ppid == $p)' \
	"$WORK/status.json" >/dev/null ||
	fail "holders' states, parents or acceptor wrong: $(jq -c "$row"' | .processes | map({pid, ppid, state, polls, acceptor})' "$WORK/status.json")"
# The owner's user: this test runs as root.
jq -e "$row"' | [.. | objects | .user? | select(. != null)] | length > 0 and all(. == "root")' \
	"$WORK/status.json" >/dev/null ||
	fail "owner user is not root: $(jq -c "$row" "$WORK/status.json")"

# A worker that exits (a pre-fork server recycles them) must leave the list:
# a pid that no longer exists would send an operator to the wrong process.
gone=$1
kill "$gone"
# The parent reaps only at its end: the child stays a zombie, with no fds.
wait_for 30 "child $gone lets go of the socket" \
	sh -c "! ls -l /proc/$gone/fd 2>/dev/null | grep -q 'socket:\[$ino\]'"
want3=$(printf '%s\n' "$srv_PID" $kids | grep -vx "$gone" | sort -n | jq -sc .)
found=""
for i in $(seq 50); do
	if jq_status "$row"' | (.processes | map(.pid) | sort) == '"$want3"; then found=1; break; fi
	sleep 0.1
done
[ -n "$found" ] || fail "child $gone exited but 127.0.0.1:8080 still lists: $(status_json | jq -c "$row"' | [.processes[].pid]') (want $want3)"

stop_daemon
echo "PASS: 127.0.0.1:8080 owned by $want, then $want3"
