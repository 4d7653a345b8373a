#!/bin/bash
# top.sh: backlogctl top driven in a real terminal (a private tmux server:
# send-keys types, capture-pane reads the screen) while a listener overflows.
# The overflowing listener rises to the first row with its drops and a
# sparkline; s changes the sort, / narrows, Enter shows the explain with its
# history; q quits with status 0 and the alternate screen off; SIGTERM ends
# it with 143, the terminal restored; a daemon that goes away is an error
# line, not a crash; a pipe gets one frame and no escape byte; a process
# name holding an escape sequence is shown neutralised; NO_COLOR is obeyed.
. "$(dirname "$0")/lib.sh"
require_tools jq tmux python3 ip
enter_ns "-n"
setup_work

COLS=160
ROWS=40
unset TMUX
export LANG=C.UTF-8
unset LC_ALL
TM() { tmux -S "$WORK/tmux.sock" -f /dev/null "$@"; }
trap 'TM kill-server 2>/dev/null; cleanup' EXIT

# screen: the pane as text; row N: its Nth line (1-based).
screen() { TM capture-pane -p; }

# wait_screen WHAT CMD...: run CMD every 0.2 s for at most 20 s until it succeeds.
wait_screen() {
	local what=$1 i=0
	shift
	while [ $i -lt 100 ]; do
		screen >"$WORK/screen.txt"
		"$@" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "--- the screen:"
	cat "$WORK/screen.txt"
	fail "timed out waiting for the screen to show: $what"
}

# type TEXT: typed into the pane's shell, then Enter.
type_line() {
	TM send-keys -l "$1"
	TM send-keys Enter
}

alternate_on() { TM display -p '#{alternate_on}'; }

# The first listener row: the line after the column titles.
first_row() { awk '/^LISTENER/ { getline; print; exit }' "$WORK/screen.txt"; }

# The overflowing listener first, dropping now, with block characters in its sparkline.
hot_on_top() {
	local row rate
	row=$(first_row)
	case $row in 127.0.0.1:8080*) ;; *) return 1 ;; esac
	rate=$(printf '%s\n' "$row" | grep -o '[0-9.]*/s' | head -n 1)
	[ -n "$rate" ] && [ "$rate" != "0/s" ] || return 1
	printf '%s\n' "$row" | grep -q '[▁▂▃▄▅▆▇█]'
}

start_daemon
start_listener hot 127.0.0.1 8080 4
start_listener idle 127.0.0.1 8081 16 --accept
# A listener whose owner named itself with an escape sequence (prctl PR_SET_NAME, 15 bytes at most).
python3 - "$WORK/evil.ready" >"$WORK/evil.log" 2>&1 <<'PY' &
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(b"\x1b[31mevil\x07"), 0, 0, 0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8082))
s.listen(2)
open(sys.argv[1], "w").write("ok")
time.sleep(90)
PY
PIDS="$PIDS $!"
wait_for 50 "the hostile listener ready" test -s "$WORK/evil.ready"
wait_for 30 "daemon sees the three listeners" \
	jq_status '[.listeners[] | select(.listener | test("^127.0.0.1:808[012]$"))] | length == 3'

# Load: bounded rounds of clients on the listener that never accepts, for at most ~40 s.
(
	for i in $(seq 1 80); do
		timeout 5 "$TCPLOAD" connect 127.0.0.1 8080 8 --timeout-ms 300 >/dev/null 2>&1
		sleep 0.2
	done
) &
LOAD_PID=$!
PIDS="$PIDS $LOAD_PID"

TM new-session -d -x $COLS -y $ROWS sh || fail "cannot start tmux"
type_line "\"$BACKLOGCTL\" -S \"$SOCK\" top; echo EXIT=\$?"
wait_screen "the overflowing listener first, dropping, with a sparkline" hot_on_top
note "the screen:"
cat "$WORK/screen.txt"
[ "$(alternate_on)" = 1 ] || fail "top does not use the alternate screen"
width=$(wc -L <"$WORK/screen.txt")
[ "$width" -le $COLS ] || fail "a line is $width columns wide on a $COLS-column terminal"
grep -q '^LISTENER .*QUEUE HISTORY .*DROPS/s PROCESS .*NS' "$WORK/screen.txt" || fail "no column titles"
grep -q 'sort: busiest' "$WORK/screen.txt" || fail "no sort label"
grep -q '^limits  somaxconn' "$WORK/screen.txt" || fail "no limits line"
grep -q '^host  ListenOverflows [0-9]' "$WORK/screen.txt" || fail "no host rates"
# The idle listener has no history: blank, not a row of zeros.
grep '^127.0.0.1:8081 ' "$WORK/screen.txt" | grep -q '[▁▂▃▄▅▆▇█]' && fail "the idle listener has a sparkline"
# The hostile name: shown with '?' where its controls were; a raw ESC would have coloured the rest instead.
grep '^127.0.0.1:8082 ' "$WORK/screen.txt" | grep -qF '?[31mevil?[' ||
	fail "the hostile process name is not shown neutralised: $(grep '^127.0.0.1:8082' "$WORK/screen.txt")"
# The findings, one line each with the fix.
wait_screen "a finding on the overflowing listener" grep -q '^[a-z]* .*127.0.0.1:8080.* — ' "$WORK/screen.txt"

"$BACKLOGCTL" -S "$SOCK" explain 127.0.0.1:8080 >"$WORK/explain.txt" || fail "explain failed"
cat "$WORK/explain.txt"
grep -q '^  queue history  .*0\.\.4 (the backlog) over the last' "$WORK/explain.txt" || fail "explain has no queue history"

# Enter: the selected (first) listener's explain, with its history as sparklines.
TM send-keys Enter
wait_screen "the explain of 127.0.0.1:8080" grep -q '^  queue history  .*[▁▂▃▄▅▆▇█].* over the last' "$WORK/screen.txt"
grep -q '^  drops history  .*per tick' "$WORK/screen.txt" || fail "no drops history in the explain"
TM send-keys x
wait_screen "back to the list" grep -q '^LISTENER' "$WORK/screen.txt"

# s: the next sort, named in the title.
TM send-keys s
wait_screen "the sort label changes" grep -q 'sort: fill' "$WORK/screen.txt"
# /: a search narrows the rows to the matching listener.
TM send-keys /
wait_screen "the search prompt" grep -q '^search (Enter applies, Esc cancels): _' "$WORK/screen.txt"
TM send-keys -l 8081
TM send-keys Enter
rows_only_idle() {
	grep -q 'search: 8081' "$WORK/screen.txt" && [ "$(first_row | cut -c1-14)" = 127.0.0.1:8081 ] &&
		! grep -q '^127.0.0.1:8080 ' "$WORK/screen.txt"
}
wait_screen "only 127.0.0.1:8081 after the search" rows_only_idle
# n: a namespace that has none of them empties the list.
TM send-keys Escape n
TM send-keys -l nowhere
TM send-keys Enter
wait_screen "the namespace filter" grep -q 'no listener matches the filter' "$WORK/screen.txt"

# q: exit 0, the terminal restored.
TM send-keys q
wait_screen "top quits" grep -q '^EXIT=0$' "$WORK/screen.txt"
[ "$(alternate_on)" = 0 ] || fail "the alternate screen is still on after q"

# Colours on a terminal, none under NO_COLOR.
TM send-keys -l clear
TM send-keys Enter
type_line "\"$BACKLOGCTL\" -S \"$SOCK\" top; echo EXIT=\$?"
wait_screen "top again" hot_on_top
TM capture-pane -p -e >"$WORK/colour.txt"
grep -q $'\033\\[3[1-7]m' "$WORK/colour.txt" || fail "no colour on a colour terminal"
TM send-keys q
wait_screen "top quits" grep -q '^EXIT=0$' "$WORK/screen.txt"
TM send-keys -l clear
TM send-keys Enter
type_line "NO_COLOR=1 \"$BACKLOGCTL\" -S \"$SOCK\" top; echo EXIT=\$?"
wait_screen "top under NO_COLOR" hot_on_top
TM capture-pane -p -e >"$WORK/nocolour.txt"
grep -q $'\033\\[3[1-7]m' "$WORK/nocolour.txt" && fail "colours under NO_COLOR"

# SIGTERM: 128 + 15, after the terminal is restored.
pane_pid=$(TM display -p '#{pane_pid}')
top_pid=$(pgrep -P "$pane_pid" backlogctl)
[ -n "$top_pid" ] || fail "no backlogctl under the pane's shell $pane_pid"
kill -TERM "$top_pid"
wait_screen "top ends on SIGTERM" grep -q '^EXIT=143$' "$WORK/screen.txt"
[ "$(alternate_on)" = 0 ] || fail "the alternate screen is still on after SIGTERM"

# A pipe: one frame, no escape byte, status 0.
"$BACKLOGCTL" -S "$SOCK" top >"$WORK/pipe.txt" 2>"$WORK/pipe.err" </dev/null
rc=$?
cat "$WORK/pipe.txt"
[ "$rc" -eq 0 ] || fail "top into a pipe exited $rc: $(cat "$WORK/pipe.err")"
[ "$(grep -c '^backlogctl top ' "$WORK/pipe.txt")" -eq 1 ] || fail "not exactly one frame in a pipe"
[ "$(grep -c $'\033' "$WORK/pipe.txt")" -eq 0 ] || fail "an escape byte in the pipe's frame"
[ "$(wc -L <"$WORK/pipe.txt")" -le 80 ] || fail "the pipe's frame is wider than 80 columns"
awk '/^LISTENER/ { getline; print; exit }' "$WORK/pipe.txt" | grep -q '^127.0.0.1:8080 ' ||
	fail "the pipe's frame does not put the overflowing listener first"
"$BACKLOGCTL" -S "$SOCK" top | cat >/dev/null || fail "top | cat failed"
# --json: the daemon's document, and --netns keeps one namespace's listeners.
"$BACKLOGCTL" -S "$SOCK" --json top | jq -e '.history_ticks == 60 and (.listeners | length) >= 3' >/dev/null ||
	fail "top --json is not the top document"
"$BACKLOGCTL" -S "$SOCK" --json --netns nowhere top | jq -e '.listeners == []' >/dev/null ||
	fail "top --json --netns kept other namespaces' listeners"

# The daemon goes away: an error line, still running, and q still quits.
TM send-keys -l clear
TM send-keys Enter
type_line "\"$BACKLOGCTL\" -S \"$SOCK\" top; echo EXIT=\$?"
wait_screen "top again" grep -q '^LISTENER' "$WORK/screen.txt"
kill "$LOAD_PID" 2>/dev/null
wait "$LOAD_PID" 2>/dev/null
stop_daemon
wait_screen "the error line" grep -q '^retrying (q quits): cannot connect to ' "$WORK/screen.txt"
TM send-keys q
wait_screen "top quits without its daemon" grep -q '^EXIT=0$' "$WORK/screen.txt"
[ "$(alternate_on)" = 0 ] || fail "the alternate screen is still on"
echo "PASS: top shows the overflowing listener first with its drops and history, keys work, the terminal is restored"
