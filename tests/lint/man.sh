#!/bin/sh
# man.sh: the man pages built from man/*.scd render without a groff warning,
# and say everything the programs and the configuration parser know: every
# option of `backlogd --help` and `backlogctl --help` (and backlogctl's
# commands), every key of config.c's table under its [section], every
# MESSAGE_ID of the journal catalog. An option, command, key or cause added
# without its documentation fails here.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

command -v groff >/dev/null 2>&1 || { echo "SKIP: groff is not installed"; exit 77; }
bad=0
complain() { echo "FAIL: $*"; bad=1; }

# The page as plain text: no hyphenation, long lines, no overstrikes, so each
# word is found whole.
text() {
	groff -man -Tascii -rHY=0 -rLL=250n -P-c -P-b -P-u "$1" 2>/dev/null
}

# Whether the rendered page $1 holds $2 as a word of its own (options keep their dashes).
has_word() {
	printf '%s\n' "$1" | grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)"
}

# The options of a --help text: the leading dashed words of each line that starts with one.
help_options() {
	sed -n 's/^ \{1,\}\(-.*\)/\1/p' | while read -r line; do
		for w in $line; do
			case $w in
			-*) w=${w%%=*}; echo "${w%,}" ;;
			*) break ;;
			esac
		done
	done
}

for page in backlogd.8 backlogctl.8 backlogd.conf.5; do
	f="$top_builddir/man/$page"
	[ -s "$f" ] || { complain "$f was not built"; continue; }
	warn=$(groff -man -ww -z "$f" 2>&1)
	[ -z "$warn" ] || complain "$page: groff warns: $warn"
	if command -v man >/dev/null 2>&1; then
		warn=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$warn" ] || complain "$page: man -l warns: $warn"
	fi
done

for prog in backlogd backlogctl; do
	page=$(text "$top_builddir/man/$prog.8")
	opts=$("$top_builddir/$prog" --help | help_options)
	[ -n "$opts" ] || complain "no options found in '$prog --help'"
	for o in $opts; do
		has_word "$page" "$o" || complain "$prog.8 does not document $o (from $prog --help)"
	done
done

# backlogctl's commands: the first word of each line under "Commands:".
page=$(text "$top_builddir/man/backlogctl.8")
cmds=$("$top_builddir/backlogctl" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
[ -n "$cmds" ] || complain "no commands found in 'backlogctl --help'"
for c in $cmds; do
	has_word "$page" "$c" || complain "backlogctl.8 does not document the command $c"
done

# Every key of config.c's table, and its section as a heading.
page=$(text "$top_builddir/man/backlogd.conf.5")
keys=$(grep -oE '(SECONDS|NUMBER|SETTER)\("[a-z_]+", "[a-z_]+"' "$top_srcdir/daemon/engine/config.c" |
	sed 's/^[A-Z]*("\([a-z_]*\)", "\([a-z_]*\)"/\1.\2/')
[ -n "$keys" ] || complain "no keys found in daemon/engine/config.c"
for k in $keys; do
	sec=${k%%.*} key=${k#*.}
	printf '%s\n' "$page" | grep -qE "^\[$sec\]" || complain "backlogd.conf.5 has no [$sec] section"
	has_word "$page" "$key" || complain "backlogd.conf.5 does not document [$sec] $key"
done

# Every MESSAGE_ID of the catalog, in backlogd(8)'s table.
page=$(text "$top_builddir/man/backlogd.8")
ids=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$top_srcdir/systemd/backlogd.catalog")
[ -n "$ids" ] || complain "no MESSAGE_ID found in systemd/backlogd.catalog"
for id in $ids; do
	has_word "$page" "$id" || complain "backlogd.8 does not list MESSAGE_ID $id"
done

[ "$bad" = 0 ] && echo "man pages: render cleanly, every option, command, key and MESSAGE_ID documented"
exit "$bad"
