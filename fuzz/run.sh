#!/bin/sh
# run.sh SRCDIR OUTDIR: build the libFuzzer harnesses (fuzz/fuzz_*.c) with
# clang and run each for FUZZ_SECONDS; `make fuzz` calls it with the
# configured sources, flags and libraries (see Makefile.am). Seeds come
# from the recorded fixtures at every run (OUTDIR/seeds/NAME); what a
# harness learns is kept in OUTDIR/corpus/NAME for the next run; a crash
# leaves OUTDIR/crash-NAME-* and fails the run.
#
# Environment: FUZZ_CC (clang), FUZZ_SECONDS (60), FUZZ_TARGETS (the
# harnesses to run, e.g. "netstat kmsg"; all when empty), FUZZ_SOURCES,
# FUZZ_CPPFLAGS, FUZZ_CFLAGS, FUZZ_LIBS, FUZZ_ARGS (more libFuzzer options).
set -e
SRC=$1
OUT=$2
CC=${FUZZ_CC:-clang}
SECONDS_EACH=${FUZZ_SECONDS:-60}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 $SAN $FUZZ_CFLAGS"
[ -n "$SRC" ] && [ -n "$OUT" ] || { echo "usage: run.sh SRCDIR OUTDIR" >&2; exit 2; }

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$OUT/obj"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n & 0; }' \
	>"$OUT/obj/probe.c"
"$CC" -fsanitize=fuzzer "$OUT/obj/probe.c" -o "$OUT/obj/probe" 2>/dev/null ||
	{ echo "fuzz: $CC cannot build -fsanitize=fuzzer (libFuzzer missing)" >&2; exit 1; }

# Compile one source into OUT/obj when it is newer than its object (or the
# flags changed). eval: the flags carry quoted defines (-DFIXTURES=\"...\").
compile() {	# SOURCE OBJECT EXTRA-FLAGS
	if [ ! -e "$2" ] || [ "$1" -nt "$2" ] || [ "$OUT/obj/flags" -nt "$2" ]; then
		echo "  CC(fuzz) $1"
		eval "\"$CC\" $CFLAGS $3 $FUZZ_CPPFLAGS -I\"$SRC/fuzz\" -c \"$1\" -o \"$2\""
	fi
}
echo "$CC $CFLAGS $FUZZ_CPPFLAGS $FUZZ_LIBS" >"$OUT/obj/flags.new"
cmp -s "$OUT/obj/flags.new" "$OUT/obj/flags" 2>/dev/null || mv "$OUT/obj/flags.new" "$OUT/obj/flags"

objs=""
for s in $FUZZ_SOURCES; do
	case "$s" in *.c) ;; *) continue ;; esac
	o="$OUT/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
	# -w: the configured (gcc) build holds these files to zero warnings;
	# clang's own extra ones are not this build's business.
	compile "$SRC/$s" "$o" "-fsanitize=fuzzer-no-link -w"
	objs="$objs $o"
done
rm -f "$OUT/obj/libfuzzed.a"
ar rcs "$OUT/obj/libfuzzed.a" $objs
compile "$SRC/fuzz/fuzz_common.c" "$OUT/obj/fuzz_common.o" -fsanitize=fuzzer-no-link

link() {	# NAME SANITIZE
	compile "$SRC/fuzz/$1.c" "$OUT/obj/$1.o" "$2"
	eval "\"$CC\" $SAN $2 \"$OUT/obj/$1.o\" \"$OUT/obj/fuzz_common.o\" \"$OUT/obj/libfuzzed.a\" $FUZZ_LIBS -o \"$OUT/$1\""
}
link seed_docs -fsanitize=fuzzer-no-link

targets=${FUZZ_TARGETS:-$(cd "$SRC/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | grep -vx common)}
for t in $targets; do
	link "fuzz_$t" -fsanitize=fuzzer
done

# Seeds, from the recorded fixtures: the files a harness's parser reads.
FIX="$SRC/tests/fixtures"
seed() {	# NAME FILE...
	d="$OUT/seeds/$1"
	shift
	mkdir -p "$d"
	for f in "$@"; do
		[ -f "$f" ] && cp "$f" "$d/$(echo "$f" | sed "s|^$FIX/||" | tr / _)"
	done
	return 0
}
rm -rf "$OUT/seeds"
seed netstat "$FIX"/proc/*/net/netstat "$FIX"/proc/*/net/snmp "$FIX"/integ/*/net/netstat
# Both files of a read, netstat NUL snmp: how fuzz_netstat takes a whole read and its re-read.
for d in "$FIX"/proc/*/net; do
	[ -f "$d/netstat" ] && [ -f "$d/snmp" ] &&
		{ cat "$d/netstat"; printf '\0'; cat "$d/snmp"; } >"$OUT/seeds/netstat/both_$(basename "$(dirname "$d")")"
done
seed sockstat "$FIX"/proc/*/net/sockstat "$FIX"/proc/*/net/sockstat6
seed conntrack "$FIX"/proc/*/net/stat/nf_conntrack
seed sysctl $(find "$FIX/proc" -path '*/sys/*' -type f)
seed sockdiag "$FIX"/sockdiag/*.bin
seed deep "$FIX"/deep/*.bin
seed links "$FIX"/links/*.bin
seed links_stats "$FIX"/links/*.bin
seed config "$SRC/systemd/backlogd.conf.example"
seed procexit
seed drop_event
# A kmsg record is one line (continuations are indented): one seed each.
mkdir -p "$OUT/seeds/kmsg"
for f in "$FIX"/kmsg/*.txt; do
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s\n' "$line" >"$OUT/seeds/kmsg/$(basename "$f" .txt)-$n"
	done <"$f"
done
mkdir -p "$OUT/seeds/ctl" "$OUT/seeds/explain_target" "$OUT/seeds/render"
for c in status listeners findings ping; do
	printf '{"command":"%s"}\n' "$c" >"$OUT/seeds/ctl/$c"
done
printf '{"command":"explain","target":"127.0.0.1:22"}\n' >"$OUT/seeds/ctl/explain"
printf '{"command":"explain","target":"host/[::1]:8080"}\n' >"$OUT/seeds/ctl/explain6"
printf '{"command":"events","target":"3600"}\n' >"$OUT/seeds/ctl/events"
n=0
for t in 22 127.0.0.1:22 '[::1]:8080' '*:443' host/22 4026531840/80 blue/10.0.0.1:80; do
	n=$((n + 1))
	printf '%s' "$t" >"$OUT/seeds/explain_target/$n"
done
"$OUT/seed_docs" "$OUT/seeds/render"
# The documents test_report renders (findings, explain steps) when it is
# built (make check): richer than this machine's own.
if [ -x "$OUT/../tests/unit/test_report" ]; then
	BACKLOGD_FUZZ_SEEDS="$OUT/seeds/render" "$OUT/../tests/unit/test_report" >/dev/null 2>&1 ||
		echo "fuzz: test_report failed; its documents are not all seeds"
fi

status=0
for t in $targets; do
	mkdir -p "$OUT/corpus/$t"
	echo "--- fuzz_$t for ${SECONDS_EACH}s"
	if ! (cd "$OUT" && ./"fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/crash-$t-" $FUZZ_ARGS \
		"corpus/$t" "seeds/$t" >"$OUT/fuzz_$t.log" 2>&1); then
		tail -40 "$OUT/fuzz_$t.log"
		echo "FAIL: fuzz_$t (log $OUT/fuzz_$t.log; input $(ls "$OUT"/crash-"$t"-* 2>/dev/null | tail -1))"
		status=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$OUT/fuzz_$t.log" | tr '\n' ' '
		echo
	fi
done
exit $status
