#!/bin/sh
# sizes.sh: no production .c file over 1,000 lines, no function over 100
# (README "Layout"): a file or function past that holds more than one idea.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir" || exit 99
max_file=1000
max_func=100
bad=0
for f in $(find daemon probes -name '*.c' | sort); do
	n=$(wc -l <"$f")
	if [ "$n" -gt $max_file ]; then
		echo "$f: $n lines (at most $max_file)"
		bad=1
	fi
	# A function body runs from a '{' in column 0 to the next '}' in column 0
	# (the house style); its name is on the line before the '{'.
	awk -v f="$f" -v max=$max_func '
		/^\{/ { start = NR; name = prev }
		/^\}/ && start { len = NR - start - 1; if (len > max) { printf "%s:%d: %s: %d lines (at most %d)\n", f, start, name, len, max; bad = 1 } start = 0 }
		{ prev = $0 }
		END { exit bad }' "$f" || bad=1
done
[ $bad -eq 0 ] && echo "sizes: every production file <= $max_file lines, every function <= $max_func"
exit $bad
