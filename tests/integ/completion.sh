#!/bin/bash
# completion.sh: backlogctl's bash completion, called as bash calls it
# (COMP_WORDS, COMP_CWORD, then the function complete -F named): the commands
# and options of `backlogctl --help`, and for --netns the names of the
# namespaces a running daemon watches, or ip netns's when none answers.
. "$(dirname "$0")/lib.sh"
require_tools ip jq
COMPLETION="$top_srcdir/completion/backlogctl"
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -r "$BASH_COMPLETION" ] || skip "bash-completion is not installed ($BASH_COMPLETION)"

# bash-completion first, as in a user's shell: ours must work alongside it.
. "$BASH_COMPLETION"
. "$COMPLETION" || { echo "FAIL: cannot source $COMPLETION"; exit 1; }
fn=$(complete -p backlogctl 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || { echo "FAIL: sourcing $COMPLETION registers no completion for backlogctl"; exit 1; }

# complete WORD...: COMPREPLY for the last word, one per line, sorted.
complete_words() {
	COMP_WORDS=("$BACKLOGCTL" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$fn" backlogctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}

# expect_words WANT WORD...: the completion of WORD... is exactly WANT (a sorted, newline-separated list).
expect_words() {
	local want=$1 got
	shift
	got=$(complete_words "$@")
	[ "$got" = "$want" ] || fail "backlogctl $* <TAB>: got [$(echo $got)], want [$(echo $want)]"
}

# The commands and options from --help, so that one added there without
# its completion fails here.
commands=$("$BACKLOGCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' | sort)
long_options=$("$BACKLOGCTL" --help | sed -n '/^Options/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
[ -n "$commands" ] && [ -n "$long_options" ] || fail "cannot read the commands and options from --help"

note "commands and options"
expect_words "$commands" ""
expect_words "$(printf '%s\n' $commands | grep '^d')" d
expect_words "--netns" --n
expect_words "--json" --j
expect_words "$long_options" --
# After the command the options still complete (they may follow it), commands do not.
expect_words "--netns" status --n
expect_words "" listeners ""
expect_words "host" explain h
# --since takes a window (a few to start from); its value is not taken for the command.
expect_words "--since" findings --si
expect_words "$(printf '%s\n' 15m 1d 1h)" findings --since ""
expect_words "host" --since 1h explain ""

# The rest needs a daemon following namespaces made by `ip netns add`; a PID
# namespace and a /proc of its own keep the host's namespaces out of its view.
enter_ns "-n -m -p -f --mount-proc"
setup_work
SCAN_NAMESPACES=1
private_run_netns
ip netns add blue || fail "ip netns add blue failed"
ip netns add bluebird || fail "ip netns add bluebird failed"

note "--netns names from the daemon"
start_daemon
wait_for 100 "backlogd watches blue and bluebird" \
	jq_status '[.namespaces[].name] | index("blue") and index("bluebird")'
expect_words "$(printf '%s\n' blue bluebird host)" -S "$SOCK" --netns ""
expect_words "$(printf '%s\n' blue bluebird)" -S "$SOCK" --netns bl
# --netns=NAME reaches the function as "--netns" "=" "NAME".
expect_words "$(printf '%s\n' blue bluebird)" --socket "$SOCK" status --netns = bl
expect_words "$(printf '%s\n' blue bluebird host)" --socket = "$SOCK" --netns =
# Proof the daemon was asked: an ip that answers something else goes unheard.
ip() { echo from-ip; }
expect_words "$(printf '%s\n' blue bluebird host)" -S "$SOCK" --netns ""
unset -f ip

note "--netns names from ip netns when no daemon answers"
ip netns delete bluebird || fail "ip netns delete bluebird failed"
expect_words "$(printf '%s\n' blue host)" -S "$WORK/none.sock" --netns ""
ip netns add red || fail "ip netns add red failed"
expect_words "red" -S "$WORK/none.sock" --netns r
echo "PASS: completion"
