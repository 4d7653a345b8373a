#!/bin/bash
# run.sh: the backlogd bench: builds it, runs every scenario in a private network namespace, writes bench/RESULTS.md.
#
#   bench/run.sh                      the full bench (several minutes) -> bench/RESULTS.md
#   bench/run.sh --smoke --out FILE   a tiny run (seconds) that checks the harness works
#   options: --build DIR (an existing build; default build-bench/ in the source tree),
#            --no-build, --no-install, --out FILE,
#            --listeners "1000 10000" --conns "0 50000 200000" (the scenario grid),
#            --keep DIR (keep the raw key=value files), --render DIR (only redo the report from them)
#
# Every scenario runs in its own `unshare -n` namespace: traffic stays on its
# loopback, sysctls are its own, and its sockets go away with it, so one
# scenario's leftovers never weigh on the next. Needs root.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
SELF="$SRC/bench/run.sh"
MODE=full
OUT=""
BUILD=""
DO_BUILD=1
DO_INSTALL=1
ONLY_L=""
ONLY_C=""
KEEP=""
RENDER=""

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------
# Inside one scenario's namespace: build it, measure it, print key=value lines.
# ---------------------------------------------------------------------------
inner() {
	local listeners=$1 conns=$2 work=$3
	local B="$BENCH_BUILD/bench" sp rc=0 i

	ip link set lo up
	# A fresh namespace starts from the kernel's defaults (somaxconn 4096, the
	# default port range): what a fresh host gives backlogd. Nothing is raised.
	export NSTAT_HISTORY="$work/nstat.history"   # nstat keeps its history here, not in /tmp
	rm -f "$work/ready"
	# --gap-listeners: one listener per gap trial, held by the scenario itself, that it
	# restarts in place on SIGUSR2 (bench/detect --gap-trials sends it).
	"$B/scenario" --listeners "$listeners" --conns "$conns" --overflow 3 --overflow-hz 5 --overflow-paused \
		--gap-listeners "$GAP_TRIALS" --gap-ms "$LISTENER_GAP_MS" --gap-marker "$work/gap.marker" \
		--lifetime "$SCENARIO_LIFETIME" --ready "$work/ready" >"$work/scenario.log" 2>&1 &
	sp=$!
	# Bounded: 200,000 connections take seconds here, not minutes.
	for i in $(seq 3000); do
		[ -s "$work/ready" ] && break
		kill -0 "$sp" 2>/dev/null || { cat "$work/scenario.log" >&2; die "scenario failed"; }
		sleep 0.1
	done
	[ -s "$work/ready" ] || { kill "$sp"; die "scenario not built in 300 s"; }
	echo "scenario_build_ms=$(sed -n 's/.*build_ms=\([0-9]*\).*/\1/p' "$work/ready")"
	echo "established_sockets=$(ss -Htn state established | wc -l)"
	echo "scenario_procs=$(( $(pgrep -c -P "$sp") + 1 ))"

	# 0. A quiet host: the overflow waits; the whole daemon's CPU per second, nobody asking it;
	# then listeners restarted with a gap, on the same quiet host.
	mkdir -p "$work/quiet"
	"$B/detect" --backlogd "$BENCH_BUILD/backlogd" --backlogctl "$BENCH_BUILD/backlogctl" \
		--work "$work/quiet" --quiet "$QUIET_S" \
		--gap-trials "$GAP_TRIALS" --gap-pid "$sp" --gap-marker "$work/gap.marker" \
		>"$work/quiet.out" 2>"$work/quiet.err" ||
		{ cat "$work/quiet.err" >&2; kill "$sp"; die "detect --quiet failed"; }
	cat "$work/quiet.out"
	kill -USR1 "$sp"

	# 1. The cheap tier against the floor and the reference, the deep tier, allocations.
	"$B/tickbench" $TICKBENCH_ARGS >"$work/tickbench.out" 2>"$work/tickbench.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$work/tickbench.err" >&2; kill "$sp"; die "tickbench failed ($rc)"; }
	cat "$work/tickbench.out"

	# 2. Syscalls: strace every call, count those between the markers.
	# LeakSanitizer cannot run under ptrace: off for this pass in a sanitizer build.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -o "$work/strace.out" "$B/tickbench" --syscalls "$SYSCALL_TICKS" \
		--warmup "$WARMUP" --budget-s $((BUDGET_S / 2)) >"$work/strace.kv" 2>"$work/strace.err" ||
		{ cat "$work/strace.err" >&2; die "strace pass failed"; }
	# Fewer ticks than asked when each is slow, and ticks in which the deep
	# tier ran left out: divide by the cheap ticks counted.
	echo "syscall_ticks=$(kv "$work/strace.kv" syscall_ticks)"
	echo "syscall_deep_ticks=$(kv "$work/strace.kv" syscall_deep_ticks)"
	awk -v nt="$(kv "$work/strace.kv" syscall_ticks)" '
		/bench:ticks-begin/ { on = 1; next }
		/bench:ticks-end/ { on = 0; next }
		/bench:deep-ran/ { skip = 1; next }
		# The end of a tick: count it unless the deep tier ran in it.
		/bench:pause/ {
			if (!skip) { used++; t += ct; for (k in cur) c[k] += cur[k] }
			delete cur; ct = 0; skip = 0; pause = 1; next
		}
		/bench:resume/ { pause = 0; next }
		/bench:floor-begin/ { fl = 1; next }
		/bench:floor-end/ { fl = 0; next }
		/ resumed>/ { next }              # the second half of a call strace split in two
		/^[0-9]+ +\+\+\+|^[0-9]+ +---/ { next }
		{
			line = $0; sub(/^[0-9]+ +/, "", line)
			name = line; sub(/\(.*/, "", name); sub(/ .*/, "", name)
			if (on && !pause) { ct++; cur[name]++ }
			else if (fl) f++
		}
		END {
			n = used ? used : 1
			printf "syscall_cheap_ticks=%d\n", used
			printf "syscalls_per_tick=%.1f\n", t / n
			# As many floor dumps as marked ticks.
			printf "floor_syscalls_per_dump=%.1f\n", f / (nt > 0 ? nt : 1)
			for (s in c) printf "sc_%s=%.1f\n", s, c[s] / n
			top = ""
			for (k = 0; k < 6; k++) {
				best = ""; bv = 0
				for (s in c) if (c[s] > bv) { bv = c[s]; best = s }
				if (best == "") break
				top = top (top == "" ? "" : ", ") sprintf("%s %.1f", best, bv / n)
				delete c[best]
			}
			printf "syscalls_top=%s\n", top
		}' "$work/strace.out"
	rm -f "$work/strace.out"

	# 3. The real daemon: detection latency, RSS, CPU per tick.
	mkdir -p "$work/daemon"
	"$B/detect" --backlogd "$BENCH_BUILD/backlogd" --backlogctl "$BENCH_BUILD/backlogctl" \
		--work "$work/daemon" $DETECT_ARGS >"$work/detect.out" 2>"$work/detect.err" || rc=$?
	cat "$work/detect.out"
	[ $rc -eq 0 ] || { cat "$work/detect.err" >&2; tail -20 "$work/daemon/backlogd.log" >&2; say "detect failed ($rc)"; }

	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	return $rc
}

# ---------------------------------------------------------------------------
# Outside: tools, build, scenarios, the report.
# ---------------------------------------------------------------------------

# need CMD PACKAGE: install PACKAGE with apt-get when CMD is missing.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$DO_INSTALL" = 1 ] || die "$1 is missing (apt-get install $2)"
	say "installing $2 for $1"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$2" >/dev/null ||
		die "could not install $2"
}

build() {
	if [ -z "$BUILD" ]; then
		BUILD="$SRC/build-bench"
		if [ "$DO_BUILD" = 1 ] && [ ! -f "$BUILD/Makefile" ]; then
			[ "$DO_INSTALL" = 1 ] && "$SRC/scripts/quickstart.sh" deps
			[ -x "$SRC/configure" ] || (cd "$SRC" && autoreconf -fi)
			mkdir -p "$BUILD"
			# Tests stay on: bench/burst.sh drives tests/tools/tcpload.
			(cd "$BUILD" && "$SRC/configure" -q)
		fi
	fi
	BUILD=$(cd "$BUILD" && pwd)
	if [ "$DO_BUILD" = 1 ]; then
		make -C "$BUILD" -s -j"$(nproc)" bench >/dev/null || die "make bench failed in $BUILD"
	fi
	for p in bench/tickbench bench/scenario bench/detect bench/churn backlogd backlogctl; do
		[ -x "$BUILD/$p" ] || die "$BUILD/$p is not built (make bench)"
	done
}

# kv FILE KEY: the value of KEY= in FILE, or MISSING.
kv() {
	local v
	v=$(sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1)
	echo "${v:-MISSING}"
}

# kv0 FILE KEY: as kv, 0 when absent (a syscall the tick never made).
kv0() {
	local v
	v=$(kv "$@")
	[ "$v" = MISSING ] && v=0
	echo "$v"
}

# ms MICROSECONDS: as milliseconds with two decimals.
ms() {
	case "$1" in MISSING|n/a) echo "$1" ;; *) awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }' ;; esac
}

mib() {
	case "$1" in MISSING|-1) echo "$1" ;; *) awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }' ;; esac
}

# num N: with thousands separators, whatever the locale.
num() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# secs MILLISECONDS: as seconds with one decimal.
secs() {
	case "$1" in MISSING) echo "$1" ;; *) awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }' ;; esac
}

label() { echo "$(num "$1") L / $(num "$2") C"; }

# The kernel tears a network namespace down in the background (cleanup_net):
# after a scenario with 400,000 sockets that takes seconds of CPU, which
# would weigh on the next scenario's numbers. Wait until the CPUs are idle
# (under 5 % busy over a second), at most 60 s; print the seconds waited.
settle() {
	local t a b
	for t in $(seq 0 59); do
		a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
		sleep 1
		b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
		if awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
			exit !((y[2] - x[2]) > 0 && (y[1] - x[1]) / (y[2] - x[2]) < 0.05) }'; then
			echo "$((t + 1))"
			return 0
		fi
	done
	echo 60
}

run_scenarios() {
	local l c f w
	for l in $LISTENER_SET; do
		for c in $CONN_SET; do
			f="$WORK/sc-$l-$c"
			mkdir -p "$f"
			w=$(settle)
			say "scenario: $l listeners, $c established connections"
			# unshare -n: a private network namespace; the script re-enters itself there.
			if ! unshare -n -- "$SELF" --inner "$l" "$c" "$f" >"$f/kv" 2>"$f/err"; then
				say "scenario $l/$c failed:"
				tail -20 "$f/err" >&2
				FAILED=1
			fi
			echo "settle_s=$w" >>"$f/kv"
		done
	done
}

# The markdown report, from the key=value files of every scenario.
render() {
	local l c f first tw fw
	local gitrev
	gitrev=$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo unknown)

	cat <<EOF
# backlogd bench results

Generated by \`bench/run.sh$( [ "$MODE" = smoke ] && echo " --smoke")\` on $(date -u '+%Y-%m-%d %H:%M UTC'), source \`$gitrev\`.
Every number below was measured in this one run, on this machine; speed is given as
ratios against references measured in the same run and the same namespace.

## Machine

| | |
|---|---|
| kernel | $(uname -r) ($(uname -m)) |
| CPU | $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores |
| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| open-file limit | $(ulimit -Hn) per process (scenarios spread their sockets over processes) |
| build | $( grep -q -- '--enable-sanitizers' "$BUILD/config.log" 2>/dev/null && echo "ASan+UBSan (numbers not representative)" || echo "plain (-O2 -g)" ) |

## Scenarios

Each scenario is built in a fresh network namespace by \`bench/scenario\`: L listeners on
127.0.0.1 (every 4th on [::1]), C established connections (both ends in the namespace:
2C sockets, at most 18,000 descriptors per process), and a steady overflow: 3 more
listeners with backlog 4 that never accept and get 5 connects a second each, and
$GAP_TRIALS more on 127.0.0.1 that the scenario restarts for the gap trials. Before each,
the bench waits until the CPUs are idle (under 5 % busy over a second, at most 60 s): the
kernel tears the previous scenario's namespace down in the background, which takes
seconds of CPU after 400,000 sockets.
Ticks: $TICKS measured ticks, each next to a floor dump, alternating which goes first,
${GAP_MS} ms apart; the reference ran $REFS times among them.

| scenario | listeners seen | established sockets | processes | build | idle wait before |
|---|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(kv "$f" listeners) | $(kv "$f" established_sockets) | $(kv "$f" scenario_procs) | $(secs "$(kv "$f" scenario_build_ms)") s | $(kv "$f" settle_s) s |"
	done; done

	cat <<EOF

## Cheap-tier tick against the floor

The tick is \`monitor_tick\` in-process (bench/tickbench: every probe, tracking, owners,
diagnosis, findings), \`[deep] every_ticks = 0\`, \`[daemon] listener_refresh = 0\`:
every tick dumps the listeners, as on a busy host (a quiet host's ticks skip the dump:
see the whole daemon on a quiet host below). The floor is a bare LISTEN-only
sock_diag dump, AF_INET then AF_INET6, with the daemon's request and receive buffer
and no parsing: what the kernel itself costs. Times in ms; CPU is the thread's
user + system time. Syscalls counted by strace over $SYSCALL_TICKS ticks, less any in which
the deep tier ran (under strace the warm-up is cut short, so its first run may fall there).

| scenario | tick wall med | p99 | tick CPU med | p99 | floor wall med | p99 | floor CPU med | tick / floor (wall) | (CPU) | syscalls / tick | floor syscalls | deep tier ran in ticks |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		local dr
		dr="$(kv "$f" tick_deep_runs) of $(kv "$f" tick_n)"
		[ "$(kv "$f" tick_deep_reason)" != "-" ] && dr="$dr ($(kv "$f" tick_deep_reason))"
		echo "| $(label "$l" "$c") | $(ms "$(kv "$f" tick_wall_med_us)") | $(ms "$(kv "$f" tick_wall_p99_us)") | $(ms "$(kv "$f" tick_cpu_med_us)") | $(ms "$(kv "$f" tick_cpu_p99_us)") | $(ms "$(kv "$f" floor_wall_med_us)") | $(ms "$(kv "$f" floor_wall_p99_us)") | $(ms "$(kv "$f" floor_cpu_med_us)") | $(kv "$f" ratio_tick_floor_wall) | $(kv "$f" ratio_tick_floor_cpu) | $(kv "$f" syscalls_per_tick) | $(kv "$f" floor_syscalls_per_dump) | $dr |"
	done; done

	cat <<EOF

Syscalls of a tick, most frequent first (per tick):

| scenario | syscalls |
|---|---|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(kv "$f" syscalls_top) |"
	done; done

	cat <<EOF

## Against \`ss -ltnm && nstat -az\`

What a person runs by hand, per call: both commands spawned with output to /dev/null
(the cheapest case for them), in the same namespace, among the ticks. CPU is the
children's user + system time.

| scenario | ss + nstat wall med | p99 | CPU med | reference / tick (wall) | (CPU) |
|---|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(ms "$(kv "$f" ref_wall_med_us)") | $(ms "$(kv "$f" ref_wall_p99_us)") | $(ms "$(kv "$f" ref_cpu_med_us)") | $(kv "$f" ratio_ref_tick_wall) | $(kv "$f" ratio_ref_tick_cpu) |"
	done; done

	cat <<EOF

## Deep tier, when triggered

\`sockdiag_dump_deep\` over the monitor's own socket (SYN_RECV per listener, sockets per
destination, top memory holders): it walks the established hash, so it grows with
connections, which is why it runs only when a cheap signal asks.

| scenario | sockets walked | wall med | p99 | CPU med |
|---|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(kv "$f" deep_sockets) | $(ms "$(kv "$f" deep_wall_med_us)") | $(ms "$(kv "$f" deep_wall_p99_us)") | $(ms "$(kv "$f" deep_cpu_med_us)") |"
	done; done

	cat <<EOF

## The daemon: memory, detection, allocations

The real \`backlogd -N -i $DETECT_INTERVAL -f /dev/null\` (every default, deep tier every 30
ticks) in the scenario's namespace (bench/detect). Detection: a fresh listener with
backlog 2 that never accepts gets a burst of 10 connects; the first drop is the moment
its drop counter (SK_MEMINFO_DROPS, asked of the kernel after each connect) leaves 0;
\`backlogctl --json findings\` is polled every 10 ms until the finding shows. Ticks are
counted from the daemon's own end-of-tick \`STATUS=\` notifications (NOTIFY_SOCKET):
1 means the first tick that ended after the drop reported it. Trial i of n starts its
burst (i + 0.5)/n of an interval after a tick, so the drops fall all over the tick.
CPU per tick: the run time of all the daemon's threads (/proc/PID/task/*/schedstat)
over the ticks before the first trial, while the scenario's overflow runs (its 3
listeners stay hot, so fast samples dump them every 100 ms) and, in a build with
\`backlogd -m\`, the HTTP endpoint listens; no client asks the daemon anything then
(the trials' \`backlogctl\` every 10 ms comes after). It is not what a quiet host pays:
that is "The whole daemon on a quiet host" below.
Allocations: malloc/calloc/realloc calls per steady-state tick of \`monitor_tick\`,
counted by interposing the allocator for the whole process (libbacklog.a, libmnl,
libnl, jansson and glibc's own internal calls such as fopen's buffer: more than
\`-Wl,--wrap=malloc\` sees, which reaches only the statically linked libbacklog.a).

| scenario | RSS (with -m) | peak RSS | daemon CPU / tick (overflow running, no client) | detection ms med | max | ticks med | max | allocs / tick | bytes / tick |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(mib "$(kv "$f" daemon_rss_kib)") MiB | $(mib "$(kv "$f" daemon_hwm_kib)") MiB | $(ms "$(kv "$f" daemon_cpu_per_tick_us)") ms | $(kv "$f" detect_ms_med) | $(kv "$f" detect_ms_max) | $(kv "$f" detect_ticks_med) | $(kv "$f" detect_ticks_max) | $(kv "$f" allocs_per_tick) | $(kv "$f" alloc_bytes_per_tick) |"
	done; done

	# Where the steady-state allocations come from: without connections, and with the most.
	l=${LISTENER_SET##* }
	for c in ${CONN_SET%% *} ${CONN_SET##* }; do
		f="$WORK/sc-$l-$c/kv"
		cat <<EOF

Allocation sites of a steady-state tick at $(label "$l" "$c"), most frequent first, each
with its callers (per tick):

\`\`\`
EOF
		sed -n 's/^alloc_site=//p' "$f" 2>/dev/null | head -n 12
		echo '```'
		[ "$c" = "${CONN_SET##* }" ] && break
	done

	quiet
	gaps
	scrapes
	churn
	bpf
	history
	targets
	adaptive
}

# The whole daemon on a quiet host, per scenario (bench/detect --quiet).
quiet() {
	local l c f d r
	cat <<EOF

## The whole daemon on a quiet host

What a user pays for: the real \`backlogd -N -i 1 -f /dev/null\` (every default) in the
scenario's namespace before its overflow starts (nothing drops), CPU of all its threads
(/proc/PID/task/*/schedstat) per second of wall time over $QUIET_S s, with no client
asking it anything. Next to it, one \`ss -ltnm; nstat -az\` call (output to /dev/null,
children's CPU, median of 5) in the same namespace: what polling by hand once a
second costs. Issue 13's target is a daemon at most 1/20 of that. The measurement
starts at the daemon's 12th tick: its start (every owner looked up, and the port-range
hint's first look at its 10th tick, which may walk every connection once to bound what
later ticks need not walk) is the start-up column, its CPU from exec to that tick.
A tick dumps the listeners only when something moved ([Quiet ticks](../README.md#quiet-ticks));
here nothing does, so only the 30 s refresh dumps.

| scenario | ticks | daemon CPU per s (ms) | ss + nstat CPU per call (ms) | daemon / reference | RSS | start-up CPU, 12 ticks (ms) |
|---|---:|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		d=$(kv "$f" quiet_cpu_us_per_s) r=$(kv "$f" quiet_ref_cpu_us_med)
		echo "| $(label "$l" "$c") | $(kv "$f" quiet_ticks) | $(ms "$d") | $(ms "$r") | $(awk -v a="$d" -v b="$r" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "1/%.1f", b / (a > 0 ? a : 1); else print "n/a" }') | $(mib "$(kv "$f" quiet_daemon_rss_kib)") MiB | $(ms "$(kv "$f" quiet_startup_cpu_us)") |"
	done; done
}

# Listeners restarted with a gap on the quiet host, per scenario (bench/detect --gap-trials).
gaps() {
	local l c f
	cat <<EOF

## Gap detection

On the same quiet host, right after its CPU was measured (so the daemon has had
$QUIET_S s without anything moving), the scenario closes one of its own listeners
on 127.0.0.1, leaves the address:port without one for $LISTENER_GAP_MS ms and listens
there again with a new socket, in the same process, as a service restarting in place
does; $GAP_TRIALS time(s) per scenario, each a different listener, the i-th of n at
(i + 0.5)/n of an interval after a tick. The scenario notes when the socket closed and
when the new one listened (CLOCK_MONOTONIC); bench/detect polls \`backlogctl --json
findings\` every 10 ms for the listener-gap finding of that address. Seen open: the
finding while the address had no listener (evidence \`absent\` 1), timed from the
close. Reported: the finding's \`gap_ms\` once the listener was back (\`absent\` 0),
against the true gap; the daemon counts from the last tick that saw the listener to
the tick that saw it back, so it reads up to two intervals long. After return: from
the new socket listening to that finding. Times in ms.

| scenario | restarts | closed gap reported | open gap seen | seen after the close med | max | true gap med | reported med | min | max | reported − true min | max | after return med | max |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		echo "| $(label "$l" "$c") | $(kv "$f" gap_trials) | $(kv "$f" gap_found) | $(kv "$f" gap_open_seen) | $(kvna "$f" gap_open_after_ms_med) | $(kvna "$f" gap_open_after_ms_max) | $(kvna "$f" gap_true_ms_med) | $(kvna "$f" gap_reported_ms_med) | $(kvna "$f" gap_reported_ms_min) | $(kvna "$f" gap_reported_ms_max) | $(kvna "$f" gap_err_ms_min) | $(kvna "$f" gap_err_ms_max) | $(kvna "$f" gap_latency_ms_med) | $(kvna "$f" gap_latency_ms_max) |"
	done; done
}

# kvna FILE KEY: as kv, but "–" when the scenario ran its gap trials and none had
# this to give (no finding seen): not measured, not missing.
kvna() {
	local v
	v=$(kv "$@")
	[ "$v" = MISSING ] && [ "$(kv "$1" gap_trials)" != MISSING ] && v="–"
	echo "$v"
}

# What one scrape of the metrics costs, per scenario (bench/detect --scrapes).
scrapes() {
	local l c f http hwall
	cat <<EOF

## What a scrape costs

After the detection trials (so the exposition carries their findings), bench/detect
scrapes the same daemon: \`backlogctl metrics\` over the control socket, and GET
/metrics over HTTP when this build has \`backlogd -m\`, each $SCRAPES times, each a quarter
of an interval after a tick ends (a try that a tick overlapped is retried). The
daemon's cost is its CPU (all threads) during the scrape less its CPU over an equal
window right after; the client's is the scraping process's own (\`backlogctl\`; the
HTTP GET is made in-process, so a scraper's own cost is not counted). The reference is
\`ss -ltnm; nstat -az\` to /dev/null in the same namespace. Medians, in ms. RSS after: the
daemon's right after its last scrape (the daemon table above is taken before any).

| scenario | series | bytes | HTTP: daemon CPU | wall | backlogctl metrics: daemon CPU | client CPU | wall | ss + nstat CPU | HTTP daemon CPU / reference | RSS after |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		http=$(kv "$f" scrape_http_daemon_cpu_us_med) hwall=$(kv "$f" scrape_http_wall_ms_med)
		# A build without backlogd -m has no HTTP scrape: not measured, not missing.
		[ "$(kv "$f" scrape_http_n)" = MISSING ] && [ "$(kv "$f" scrape_ctl_n)" != MISSING ] && http=n/a hwall=n/a
		echo "| $(label "$l" "$c") | $(num "$(kv "$f" scrape_ctl_series)") | $(num "$(kv "$f" scrape_ctl_bytes)") | $(ms "$http") | $hwall | $(ms "$(kv "$f" scrape_ctl_daemon_cpu_us_med)") | $(ms "$(kv "$f" scrape_ctl_client_cpu_us_med)") | $(kv "$f" scrape_ctl_wall_ms_med) | $(ms "$(kv "$f" scrape_ref_client_cpu_us_med)") | $(awk -v a="$http" -v b="$(kv "$f" scrape_ref_client_cpu_us_med)" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }') | $(mib "$(kv "$f" scrape_rss_kib)") MiB |"
	done; done
}

# verdict OK: "met", "**missed**", or "**no data**" (a scenario failed).
verdict() {
	case "$1" in 1) echo "met" ;; 0) echo "**missed**" ;; *) echo "**no data**" ;; esac
}

# each KEY: "LABEL<TAB>VALUE" per scenario that has KEY.
each() {
	local l c v
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		v=$(kv "$WORK/sc-$l-$c/kv" "$1")
		case "$v" in MISSING|n/a) ;; *) printf '%s\t%s\n' "$(label "$l" "$c")" "$v" ;; esac
	done; done
}

# worst KEY max|min: "VALUE<TAB>LABEL" of the scenario with the largest (smallest) KEY.
worst() {
	each "$1" | awk -F '\t' -v dir="$2" '
		NR == 1 || (dir == "max" ? $2 + 0 > w + 0 : $2 + 0 < w + 0) { w = $2; l = $1 }
		END { if (NR) printf "%s\t%s\n", w, l }'
}

# The targets of the issue, each with its worst scenario.
targets() {
	local l c w w2 v wl ok tw0 tw fw0 fw dev wdev n
	cat <<EOF

## Targets

| target | worst measured | verdict |
|---|---|---|
EOF
	# Cheap tick <= 1.5 x the floor (median wall).
	w=$(worst ratio_tick_floor_wall max); v=${w%%$'\t'*}; wl=${w#*$'\t'}
	ok=$([ -n "$w" ] && awk -v a="$v" 'BEGIN { print (a <= 1.5) ? 1 : 0 }' || echo x)
	echo "| cheap-tier tick ≤ 1.5 × the floor (median wall) | ${w:+$v × ($wl)}$( [ "$ok" = 0 ] && awk -v a="$v" 'BEGIN { printf ": %.0f%% over the target", (a / 1.5 - 1) * 100 }') | $(verdict "$ok") |"

	# >= 10 x cheaper than ss + nstat.
	w=$(worst ratio_ref_tick_wall min); v=${w%%$'\t'*}; wl=${w#*$'\t'}
	ok=$([ -n "$w" ] && awk -v a="$v" 'BEGIN { print (a >= 10) ? 1 : 0 }' || echo x)
	echo "| ≥ 10 × cheaper than \`ss -ltnm && nstat -az\` (median wall) | ${w:+$v × ($wl)}$( [ "$ok" = 0 ] && awk -v a="$v" 'BEGIN { if (a > 0) printf ": the tick costs %.1f× what the target allows", 10 / a }') | $(verdict "$ok") |"

	# Flat within 10 % from 0 to the most connections, per listener count.
	wdev=""; wl=""; n=0
	for l in $LISTENER_SET; do
		tw0=$(kv "$WORK/sc-$l-${CONN_SET%% *}/kv" tick_wall_med_us)
		fw0=$(kv "$WORK/sc-$l-${CONN_SET%% *}/kv" floor_wall_med_us)
		for c in $CONN_SET; do
			tw=$(kv "$WORK/sc-$l-$c/kv" tick_wall_med_us)
			fw=$(kv "$WORK/sc-$l-$c/kv" floor_wall_med_us)
			{ [ "$tw" = MISSING ] || [ "$tw0" = MISSING ]; } && continue
			n=$((n + 1))
			dev=$(awk -v a="$tw" -v b="$tw0" 'BEGIN { printf "%.0f", (a / b - 1) * 100 }')
			if [ -z "$wdev" ] || [ "${dev#-}" -gt "${wdev#-}" ]; then
				wdev=$dev; wl="$(num "$l") L: $(ms "$tw0") ms at 0 C, $(ms "$tw") ms at $(num "$c") C; the floor moved $(awk -v a="$fw" -v b="$fw0" 'BEGIN { printf "%+.0f", (a / b - 1) * 100 }') % between them"
			fi
		done
	done
	ok=$([ "$n" -gt 0 ] && { [ "${wdev#-}" -le 10 ] && echo 1 || echo 0; } || echo x)
	echo "| tick flat (±10 %) from 0 to $(num "${CONN_SET##* }") established (median wall) | ${wdev:+$wdev % ($wl)} | $(verdict "$ok") |"

	# RSS <= 8 MiB with the most listeners: the daemon on its defaults (the
	# quiet run, no -m), since the HTTP endpoint maps libmicrohttpd and GnuTLS
	# (about 2.4 MiB) only when asked for; that figure is a row of its own.
	l=${LISTENER_SET##* }
	w=$(for c in $CONN_SET; do v=$(kv "$WORK/sc-$l-$c/kv" quiet_daemon_rss_kib); [ "$v" = MISSING ] || printf '%s\t%s\n' "$v" "$(label "$l" "$c")"; done | sort -n | tail -n 1)
	v=${w%%$'\t'*}; wl=${w#*$'\t'}
	ok=$([ -n "$w" ] && { [ "$v" -le 8192 ] && echo 1 || echo 0; } || echo x)
	echo "| daemon RSS ≤ 8 MiB with $(num "$l") listeners (defaults, no HTTP endpoint) | ${w:+$(mib "$v") MiB ($wl)}$( [ "$ok" = 0 ] && awk -v a="$v" 'BEGIN { printf ": %.1f MiB (%.0f%%) over", (a - 8192) / 1024, (a / 8192 - 1) * 100 }') | $(verdict "$ok") |"
	w=$(for c in $CONN_SET; do v=$(kv "$WORK/sc-$l-$c/kv" daemon_rss_kib); [ "$v" = MISSING ] || printf '%s\t%s\n' "$v" "$(label "$l" "$c")"; done | sort -n | tail -n 1)
	v=${w%%$'\t'*}; wl=${w#*$'\t'}
	[ -n "$w" ] && echo "| (not a target) daemon RSS with the HTTP endpoint (\`-m\`), $(num "$l") listeners | $(mib "$v") MiB ($wl) | information |"

	quiet_targets

	# No allocation in the steady-state tick.
	w=$(worst allocs_per_tick max); v=${w%%$'\t'*}; wl=${w#*$'\t'}
	ok=$([ -n "$w" ] && awk -v a="$v" 'BEGIN { print (a == 0) ? 1 : 0 }' || echo x)
	if [ -z "$w" ] && grep -q '^allocs_per_tick=n/a' "$WORK"/sc-*/kv 2>/dev/null; then
		# A sanitizer build has its own allocator: the count is not taken there.
		echo "| no allocation in the steady-state tick | not counted in a sanitizer build | n/a |"
	else
		echo "| no allocation in the steady-state tick | ${w:+$v per tick ($wl)} | $(verdict "$ok") |"
	fi

	# Detection within one tick: every trial of every scenario found, in one tick.
	w=$(worst detect_ticks_max max); v=${w%%$'\t'*}; wl=${w#*$'\t'}
	n=$(each detect_trials | wc -l)
	ok=$([ -n "$w" ] && [ "$n" -eq "$(each detect_ticks_max | wc -l)" ] && { [ "$v" -le 1 ] && echo 1 || echo 0; } || echo x)
	w2=$(worst detect_ms_max max)
	echo "| detection within one tick of the drop | ${w:+$v tick(s) at worst ($wl); slowest ${w2%%$'\t'*} ms (${w2#*$'\t'})} | $(verdict "$ok") |"
	gap_target

	why
}

# A listener gone for a second or more and back, on the quiet host: every
# restart must be a listener-gap whose gap_ms is the true gap at the tick's
# precision. The daemon counts from the last tick that saw the listener to the
# first that saw it back: up to two intervals (the quiet run's 1 s) more than
# the truth, and a little less when the new socket listened between a tick's
# start and its dump; 250 ms of slack either side for a loaded machine.
gap_target() {
	local n found emin emax lat ok
	n=$(each gap_trials | awk -F '\t' '{ s += $2 } END { print s + 0 }')
	found=$(each gap_found | awk -F '\t' '{ s += $2 } END { print s + 0 }')
	emin=$(worst gap_err_ms_min min) emax=$(worst gap_err_ms_max max) lat=$(worst gap_latency_ms_max max)
	ok=x
	if [ "$n" -gt 0 ] && [ "$(each gap_trials | wc -l)" -eq "$(each quiet_cpu_us_per_s | wc -l)" ]; then
		ok=0
		[ "$found" -eq "$n" ] && awk -v a="${emin%%$'\t'*}" -v b="${emax%%$'\t'*}" \
			'BEGIN { exit !(a >= -250 && b <= 2 * 1000 + 250) }' && ok=1
	fi
	echo "| a listener gone $(secs "$LISTENER_GAP_MS") s and back (same process, quiet host): a listener-gap with its length | $found of $n restarts reported${emax:+; reported − true from ${emin%%$'\t'*} ms (${emin#*$'\t'}) to ${emax%%$'\t'*} ms (${emax#*$'\t'}); slowest after the return ${lat%%$'\t'*} ms (${lat#*$'\t'})} | $(verdict "$ok") |"
}

# Issue 13's targets for the whole daemon on a quiet host (bench/detect --quiet),
# per listener count: its CPU per second against one `ss -ltnm; nstat -az` at 0
# connections, then how that CPU moves when connections are added.
quiet_targets() {
	local l c f0 f d0 r0 d ok x worst words
	local c0=${CONN_SET%% *}
	for l in $LISTENER_SET; do
		f0="$WORK/sc-$l-$c0/kv"
		d0=$(kv "$f0" quiet_cpu_us_per_s) r0=$(kv "$f0" quiet_ref_cpu_us_med)
		ok=x words=""
		if [ "$d0" != MISSING ] && [ "$r0" != MISSING ]; then
			ok=$(awk -v d="$d0" -v r="$r0" 'BEGIN { print (d * 20 <= r) ? 1 : 0 }')
			words="$(ms "$d0") ms/s against $(ms "$r0") ms per call: $(awk -v d="$d0" -v r="$r0" 'BEGIN { if (d > 0) printf "1/%.1f", r / d; else print "0" }') ($(label "$l" "$c0"))"
			[ "$ok" = 0 ] && words="$words: $(awk -v d="$d0" -v r="$r0" 'BEGIN { printf "%.1f", d / (r / 20) }') × what the target allows"
		fi
		echo "| quiet host, $(num "$l") listeners: daemon CPU per s ≤ 1/20 of one \`ss -ltnm; nstat -az\` | $words | $(verdict "$ok") |"

		words="" worst="" ok=x
		for c in $CONN_SET; do
			[ "$c" = "$c0" ] && continue
			f="$WORK/sc-$l-$c/kv"
			d=$(kv "$f" quiet_cpu_us_per_s)
			{ [ "$d" = MISSING ] || [ "$d0" = MISSING ]; } && { words=""; worst=""; break; }
			x=$(awk -v a="$d" -v b="$d0" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
			words="${words:+$words; }$(ms "$d") ms/s at $(num "$c") C ($x ×)"
			[ -z "$worst" ] || awk -v a="$x" -v b="$worst" 'BEGIN { exit !(a > b) }' && worst=$x
		done
		[ -n "$worst" ] && ok=$(awk -v a="$worst" 'BEGIN { print (a <= 1.25) ? 1 : 0 }')
		[ "$CONN_SET" = "$c0" ] && continue
		echo "| quiet host, $(num "$l") listeners, with $(num "${CONN_SET#* }" | sed 's/ / and /g') connections: daemon CPU per s ≤ 1.25 × the $(num "$c0")-connection figure | ${words:+$(ms "$d0") ms/s at $(num "$c0") C; $words} | $(verdict "$ok") |"
	done
}

# extra_us KV: the tick's median wall time beyond the floor's, in us; empty when either is missing.
extra_us() {
	local t f
	t=$(kv "$1" tick_wall_med_us)
	f=$(kv "$1" floor_wall_med_us)
	{ [ "$t" = MISSING ] || [ "$f" = MISSING ]; } && return 0
	awk -v a="$t" -v b="$f" 'BEGIN { printf "%.1f\n", a - b }'
}

# pct_change KV0 KV1 KEY: how KEY moved from KV0 to KV1, as "+3 %".
pct_change() {
	awk -v a="$(kv "$2" "$3")" -v b="$(kv "$1" "$3")" 'BEGIN { if (b <= 0) { print "?"; exit } v = (a / b - 1) * 100;
		if (v > -0.5 && v < 0.5) print "±0 %"; else printf "%+.0f %%\n", v }'
}

# Evidence for each target, from the measurements themselves.
why() {
	local l c f l0 lmax cmax c0 v r0 r1 rf deep walks x
	l0=${LISTENER_SET%% *}
	lmax=${LISTENER_SET##* }
	cmax=${CONN_SET##* }
	c0=${CONN_SET%% *}
	echo
	echo "### Why, from the measurements"
	echo

	# The tick against the floor: what the tick does beyond the dump.
	v=""
	for l in $LISTENER_SET; do
		f="$WORK/sc-$l-$c0/kv"
		x=$(awk -v a="$(kv "$f" tick_wall_med_us)" -v b="$(kv "$f" floor_wall_med_us)" 'BEGIN { printf "%.2f", (a - b) / 1000 }')
		v="${v:+$v; }$(label "$l" "$c0"): $(kv "$f" ratio_tick_floor_wall) ×, $x ms beyond the floor's $(ms "$(kv "$f" floor_wall_med_us)") ms, $(kv "$f" syscalls_per_tick) syscalls against $(kv "$f" floor_syscalls_per_dump) ($(kv "$f" syscalls_top))"
	done
	echo "- **Tick against the floor** (a tick that dumps the listeners). $v. Beyond the dump, such a tick parses its entries and matches them with the last tick's by cookie, reads \`/proc/net/netstat\`, \`snmp\`, \`sockstat\`, \`sockstat6\` and ten sysctls through descriptors kept open (pread; the kernel formats each file afresh), looks for the conntrack counters (openat: absent without nf_conntrack), dumps the link counters (sendto, recvmsg), asks the processes holding listeners whether they are still there (one poll of their pidfds) and checks a slice of 8 sockets one by one (readlink). Most of that costs the same whatever the listener count, so it weighs most where the dump is cheap: the ratio falls as listeners grow."

	# The reference: what ss + nstat cost against the floor bounds the ratio.
	v=""; r0=""
	for l in $LISTENER_SET; do
		f="$WORK/sc-$l-$c0/kv"
		rf=$(awk -v a="$(kv "$f" ref_wall_med_us)" -v b="$(kv "$f" floor_wall_med_us)" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "?" }')
		v="${v:+$v, }$rf × at $(num "$l") listeners"
		awk -v a="$rf" 'BEGIN { exit !(a < 10) }' && r0="${r0:+$r0 and }$(num "$l")"
	done
	echo "- **Against ss + nstat.** \`ss -ltnm\` asks the kernel for the same LISTEN dump as the tick (SKMEMINFO, no tcp_info), and a tick cannot cost less than that dump: the reference over the floor ($v, $(num "$c0") connections) is the most the tick can ever gain on it.$( [ -n "$r0" ] && echo " With $r0 listeners that is below 10: there the 10 × target cannot be met by any tick that dumps every listener, and a tick that did not would miss the drops the dump reports.")"

	# Flatness: the cheap tick does not walk connections; the deep tier and owner walks, where they ran.
	deep=""; walks=""
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		v=$(kv "$f" tick_deep_runs)
		case "$v" in 0|MISSING) ;; *) deep="${deep:+$deep; }$(label "$l" "$c"): $v of $(kv "$f" tick_n) ticks ($(kv "$f" tick_deep_reason)), $(ms "$(kv "$f" deep_wall_med_us)") ms per run" ;; esac
		v=$(kv "$f" tick_proc_walks)
		case "$v" in 0|MISSING) ;; *) walks="${walks:+$walks; }$(label "$l" "$c"): $v walks of /proc in $(kv "$f" tick_n) ticks" ;; esac
	done; done
	v=""
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		[ "$c" = "$c0" ] && continue
		v="${v:+$v; }$(num "$l") listeners, $(num "$c") connections: the tick $(pct_change "$WORK/sc-$l-$c0/kv" "$WORK/sc-$l-$c/kv" tick_wall_med_us), the floor $(pct_change "$WORK/sc-$l-$c0/kv" "$WORK/sc-$l-$c/kv" floor_wall_med_us), the tick beyond the floor $(ms "$(extra_us "$WORK/sc-$l-$c0/kv")") ms then $(ms "$(extra_us "$WORK/sc-$l-$c/kv")") ms"
	done; done
	echo "- **Connections.** The cheap tick dumps only the listening hash and reads counters whose size does not depend on connections. Against $(num "$c0") connections: $v. The tick moves with the floor, the kernel's own dump of the same listeners, whose cost here depends on the host around it (the scenario's processes and memory, the state of a shared virtual machine), not on anything the tick does per connection; what the tick adds to that dump is what stays put. The deep tier, which does walk every connection, ran in the measured ticks $( [ -n "$deep" ] && echo "here: $deep (its signal \"sockets near the port range\" holds with this many sockets; the run is then spaced to 1 % of the time)" || echo "in none of them")$( [ -n "$walks" ] && echo "; owners were walked for in /proc: $walks")."

	# Memory per listener.
	r0=$(kv "$WORK/sc-$l0-$c0/kv" quiet_daemon_rss_kib)
	r1=$(kv "$WORK/sc-$lmax-$c0/kv" quiet_daemon_rss_kib)
	if [ "$r0" != MISSING ] && [ "$r1" != MISSING ] && [ "$lmax" != "$l0" ]; then
		f="$WORK/sc-$lmax-$c0/kv"
		echo "- **Memory.** The daemon's RSS grows by $(awk -v a="$r1" -v b="$r0" -v n=$((lmax - l0)) 'BEGIN { printf "%.2f", (a - b) / n }') KiB per listener ($(mib "$r0") MiB at $(num "$l0"), $(mib "$r1") MiB at $(num "$lmax"), $(num "$c0") connections, on defaults: no HTTP endpoint, which adds libmicrohttpd and GnuTLS), over about 4 MiB of shared libraries and the daemon's own start-up. A tracked listener is $(kv "$f" sizeof_tracked) bytes with no history ring while idle; owners ($(kv "$f" sizeof_owner) bytes each) are kept once per distinct set of holder processes, and procmap keeps 16 bytes per socket. The peak is higher than the steady RSS: the first tick resolves every owner at once, and arrays grow by doubling. After a deep run over many sockets its working memory is given back."
	fi

	# Allocations.
	f="$WORK/sc-$lmax-$c0/kv"
	v=$(kv "$f" allocs_per_tick)
	case "$v" in
	0|0.0) echo "- **Allocations.** None in a steady tick, counted for the whole process (libmnl, libnl-3, jansson and glibc included)." ;;
	*) echo "- **Allocations.** At $(label "$lmax" "$c0") a steady tick allocates $v times ($(kv "$f" alloc_bytes_per_tick) bytes): the sites above." ;;
	esac

	# The quiet host: the whole process against what it would pay if every tick dumped the listeners.
	v=""
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		x=$(awk -v d="$(kv "$f" quiet_cpu_us_per_s)" -v t="$(kv "$f" tick_cpu_med_us)" \
			-v n="$(kv "$f" quiet_ticks)" -v s="$(kv "$f" quiet_seconds)" 'BEGIN {
			if (d !~ /^[0-9.]+$/ || t !~ /^[0-9.]+$/ || s <= 0) exit
			tick = t * n / s
			printf "%.2f ms/s against %.2f ms/s (%.0f %%)", d / 1000, tick / 1000, (tick > 0 ? d / tick * 100 : 0) }')
		[ -n "$x" ] && v="${v:+$v; }$(label "$l" "$c"): $x"
	done; done
	[ -n "$v" ] && echo "- **Quiet host.** The whole daemon per second against what its ticks alone would cost if each dumped the listeners (tickbench's median tick, which does, times the ticks run per second): $v. On a quiet host a tick reads the counters and sockstat and finds nothing moved, so the dump, its parse, the owners' upkeep and the sysctls wait for the 30 s refresh ([Quiet ticks](../README.md#quiet-ticks)); the dumping tick's cost is what a busy host pays, as before."

	# Detection.
	for l in $LISTENER_SET; do for c in $CONN_SET; do
		f="$WORK/sc-$l-$c/kv"
		v=$(kv "$f" detect_ticks_max)
		case "$v" in 0|1|MISSING) ;; *) echo "- **Detection at $(label "$l" "$c") took $v ticks** (at worst $(kv "$f" detect_ms_max) ms): a drop that lands while a tick runs, after its dump, is seen only by the next tick; the daemon's CPU there is $(ms "$(kv "$f" daemon_cpu_per_tick_us)") ms per $(awk -v i="$DETECT_INTERVAL" 'BEGIN { printf "%d", i * 1000 }') ms interval." ;; esac
	done; done
	f="$WORK/sc-$lmax-$c0/kv"
	echo "- **The daemon's CPU per tick** counts everything between two ticks, not only the tick: here the 3 overflowing listeners stay hot, so fast samples (one dump of the hot ports every 100 ms) run all the time (no client polls it while this is measured: the trials come after). At $(label "$lmax" "$c0") it is $(ms "$(kv "$f" daemon_cpu_per_tick_us)") ms against $(ms "$(kv "$f" tick_cpu_med_us)") ms for the tick alone."
}

# What a subscriber to sock_diag's TCP destroy groups would cost the host: bench/churn
# in a namespace of its own (its subscriber hears of every TCP socket freed there).
run_churn() {
	local f="$WORK/churn" w
	mkdir -p "$f"
	w=$(settle)
	say "destroy-group subscriber: bench/churn, $CHURN_CONNS connections, $CHURN_REPS runs each"
	if ! unshare -n -- "$SELF" --churn >"$f/kv" 2>"$f/err"; then
		say "bench/churn failed:"
		tail -5 "$f/err" >&2
		FAILED=1
	fi
	echo "settle_s=$w" >>"$f/kv"
}

inner_churn() {
	ip link set lo up
	"$BENCH_BUILD/bench/churn" --conns "$CHURN_CONNS" --reps "$CHURN_REPS"
}

churn() {
	local f="$WORK/churn/kv" n
	n=$(kv "$f" churn_conns)
	cat <<EOF

## Listener events from the destroy group: what they would cost

Issue 13 asked whether listeners' appearance and disappearance could come from events
instead of dumps: sock_diag's multicast groups SKNLGRP_INET_TCP_DESTROY and
SKNLGRP_INET6_TCP_DESTROY. The kernel serves them for every TCP socket it frees in the
namespace, not only listeners: with a subscriber, each free allocates a message,
queues a work item that fills it with the socket's inet_diag record
(sock_diag_broadcast_destroy), then multicasts it. A socket filter on the subscriber
(LISTEN only) runs at delivery, after that work is done. bench/churn measures it in a
namespace of its own: $(num "$n") loopback connections opened and closed (SO_LINGER 0, the
server end accepted and closed by a thread: two sockets freed per connection), $(kv "$f" churn_reps)
time(s) without and as many with a process bound to both groups that never reads (the
least a subscriber can cost), in turn. CPU of the whole machine from /proc/stat (user,
nice, system, irq, softirq), of the kworker threads (where the work items run), and of
the churning process; medians, in ms.

| | without a subscriber | with one | difference | with / without |
|---|---:|---:|---:|---:|
EOF
	local k name a b
	# The kworkers do next to nothing without a subscriber: their ratio would say little.
	for k in sys:"whole machine CPU" kworker:"kworker threads' CPU" self:"churning process's CPU" wall:"wall time"; do
		name=${k#*:} k=${k%%:*}
		a=$(kv "$f" "churn_without_${k}_ms_med") b=$(kv "$f" "churn_with_${k}_ms_med")
		echo "| $name | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%+.1f", b - a; else print "n/a" }') | $( [ "$k" = kworker ] && echo "–" || awk -v a="$a" -v b="$b" 'BEGIN { if (a ~ /^[0-9.]+$/ && a > 0) printf "%.2f ×", b / a; else print "n/a" }') |"
	done
	echo "| whole machine CPU per connection, µs | $(awk -v a="$(kv "$f" churn_without_sys_ms_med)" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", a * 1000 / n; else print "n/a" }') | $(awk -v a="$(kv "$f" churn_with_sys_ms_med)" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", a * 1000 / n; else print "n/a" }') | $(kv "$f" churn_extra_us_per_conn) | |"
	cat <<EOF

So backlogd does not subscribe: a subscriber taxes every connection the host closes
(here $(kv "$f" churn_ratio_sys) × the machine's CPU for the same churn, $(kv "$f" churn_extra_us_per_conn) µs more per connection),
to hear of the few listeners that ever close. It learns of vanished listeners from
what it reads anyway: sockstat's TCP \`inuse\` count moves when a listener closes or
opens (on a quiet host nothing else moves it), the listen counters, the exits of the
processes holding listeners, and a periodic refresh; the gap detection above is what
that catches.
EOF
}

# What the eBPF tier costs the host: bench/churn with backlogd running, its tier off
# in one half of the runs and on in the other, in a namespace of its own.
run_bpf() {
	local f="$WORK/bpf" w
	mkdir -p "$f"
	w=$(settle)
	say "eBPF tier: bench/churn with backlogd, tier off and on, $BPF_CONNS connections and dropped SYNs, $CHURN_REPS runs each"
	if ! unshare -n -- "$SELF" --bpf "$f" >"$f/kv" 2>"$f/err"; then
		say "the eBPF tier bench failed:"
		tail -5 "$f/err" >&2
		FAILED=1
	fi
	echo "settle_s=$w" >>"$f/kv"
}

# inner_bpf DIR: both workloads, each side a real backlogd on every default but [daemon] bpf.
inner_bpf() {
	local d=$1 side daemon
	set -o pipefail
	ip link set lo up
	for side in no yes; do
		printf '[daemon]\nbpf = %s\n' "$side" >"$d/bpf-$side.conf"
	done
	daemon="$BENCH_BUILD/backlogd -N -i 1 -S $d/ctl.sock"
	"$BENCH_BUILD/bench/churn" --conns "$BPF_CONNS" --reps "$CHURN_REPS" --settle-ms 2000 \
		--without "exec $daemon -f $d/bpf-no.conf 2>>$d/off.log" \
		--with "exec $daemon -f $d/bpf-yes.conf 2>>$d/on.log" | sed 's/^churn_/conn_/' || return 1
	"$BENCH_BUILD/bench/churn" --drops --conns "$BPF_CONNS" --reps "$CHURN_REPS" --settle-ms 2000 \
		--without "exec $daemon -f $d/bpf-no.conf 2>>$d/off.log" \
		--with "exec $daemon -f $d/bpf-yes.conf 2>>$d/on.log" | sed 's/^churn_/drop_/'
}

bpf() {
	local f="$WORK/bpf/kv" n w k name a b
	n=$(kv "$f" conn_conns)
	cat <<EOF

## The eBPF tier: what it costs the host's connections

The tier's programs run in the kernel on every packet a socket receives (the
cgroup_skb program, at the cgroup2 root), every socket buffer freed (kfree_skb) and
every reset sent, in every namespace; only what they keep costs a ring-buffer record
and backlogd's reading. bench/churn measures what the whole machine pays for that
with backlogd running on every default (\`-N -i 1\`), \`[daemon] bpf = no\` in half
of the runs and \`yes\` in the other half, in turn, $(kv "$f" conn_reps) time(s) each, in a
namespace of its own, for two workloads of $(num "$n") each:

- **connections**: loopback connections opened, accepted and closed (SO_LINGER 0): every
  packet of a healthy connection passes the programs, none is kept;
- **dropped SYNs**: non-blocking connects to a listener whose accept queue is full: each
  SYN is dropped and is an event, booked by backlogd (the tier's worst case, a drop storm).

CPU of the whole machine from /proc/stat (user, nice, system, irq, softirq), of the
process making the load, and wall time; medians, in ms. The daemon's own ticks are in
both halves alike.

| workload | | tier off | tier on | on / off |
|---|---|---:|---:|---:|
EOF
	for w in conn:connections drop:"dropped SYNs"; do
		name=${w#*:} w=${w%%:*}
		for k in sys:"whole machine CPU" self:"load process's CPU" wall:"wall time"; do
			a=$(kv "$f" "${w}_without_${k%%:*}_ms_med") b=$(kv "$f" "${w}_with_${k%%:*}_ms_med")
			echo "| $name | ${k#*:} | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { if (a ~ /^[0-9.]+$/ && a > 0) printf "%.2f ×", b / a; else print "n/a" }') |"
		done
		echo "| $name | whole machine CPU per $( [ "$w" = conn ] && echo connection || echo SYN ), µs | $(awk -v a="$(kv "$f" "${w}_without_sys_ms_med")" -v n="$n" 'BEGIN { if (n > 0) printf "%.2f", a * 1000 / n; else print "n/a" }') | $(awk -v a="$(kv "$f" "${w}_with_sys_ms_med")" -v n="$n" 'BEGIN { if (n > 0) printf "%.2f", a * 1000 / n; else print "n/a" }') | $(kv "$f" "${w}_extra_us_per_conn") µs more |"
	done
}

# What the history of top and explain keeps: every listener of the largest scenario
# hot at once (bench/hot.py), backlogd on its defaults, in a namespace of its own.
run_history() {
	local f="$WORK/history" w
	mkdir -p "$f"
	w=$(settle)
	say "history: ${LISTENER_SET##* } listeners, all hot at once"
	if ! unshare -n -- "$SELF" --history "$f" "${LISTENER_SET##* }" >"$f/kv" 2>"$f/err"; then
		say "the history bench failed:"
		tail -5 "$f/err" >&2
		FAILED=1
	fi
	echo "settle_s=$w" >>"$f/kv"
}

# hist_sample DIR PREFIX PID: the daemon's RSS and what status says it keeps, as PREFIX_ keys.
hist_sample() {
	local d=$1 p=$2 pid=$3
	echo "${p}_rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
	"$BENCH_BUILD/backlogctl" -S "$d/ctl.sock" --json status >"$d/$p.json"
	jq -r --arg p "$p" '.daemon | "\($p)_kept=\(.history_kept)\n\($p)_bytes=\(.history_bytes)\n\($p)_not_kept=\(.history_not_kept)"' "$d/$p.json"
}

# inner_history DIR N: idle listeners first, then all of them hot; the top document's size and time.
inner_history() {
	local d=$1 n=$2 hp dp i t0 t1 k
	set -o pipefail
	ip link set lo up
	python3 "$SRC/bench/hot.py" --listeners "$n" --ready "$d/ready" --lifetime 300 2>"$d/hot.err" &
	hp=$!
	for i in $(seq 600); do grep -q listening "$d/ready" 2>/dev/null && break; sleep 0.1; done
	grep -q listening "$d/ready" || { cat "$d/hot.err" >&2; return 1; }
	"$BENCH_BUILD/backlogd" -N -i 1 -S "$d/ctl.sock" -f /dev/null 2>"$d/daemon.log" &
	dp=$!
	sleep "$HISTORY_SETTLE_S"
	echo "listeners=$(ss -Hltn | wc -l)"
	echo "qhist_max=$(sed -n 's/^#define QHIST_MAX \([0-9]*\).*/\1/p' "$SRC/include/qhist.h")"
	hist_sample "$d" idle "$dp"
	kill -USR1 "$hp"
	for i in $(seq 600); do grep -q connected "$d/ready" 2>/dev/null && break; sleep 0.1; done
	sleep "$HISTORY_SETTLE_S"
	hist_sample "$d" hot "$dp"
	# backlogctl top asks for this document every tick.
	for k in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$BENCH_BUILD/backlogctl" -S "$d/ctl.sock" --json top >"$d/top.json" || return 1
		t1=$(date +%s%N)
		echo "top_wall_us=$(( (t1 - t0) / 1000 ))"
	done | sort -t= -k2 -n | sed -n 3p
	echo "top_bytes=$(jq -c . "$d/top.json" | wc -c)"
	echo "top_with_history=$(jq '[.listeners[] | select(has("history"))] | length' "$d/top.json")"
	kill "$dp" "$hp" 2>/dev/null
	wait "$dp" "$hp" 2>/dev/null || true
}

history() {
	local f="$WORK/history/kv" n
	n=$(kv "$f" listeners)
	cat <<EOF

## History for top and explain: what it keeps

backlogd keeps the last 60 ticks of queue and drops of every listener that was ever
hot (its queue above half its backlog) or dropping, at most $(kv "$f" qhist_max) per namespace; past
that a new one takes the place of the one hot longest ago, or, while every kept one
is hot too, goes without (status counts them: \`history_not_kept\`). Here $(num "$n") listeners (bench/hot.py, backlog 1, none accepts) with backlogd on
its defaults (\`-N -i 1\`), first idle, then all hot at once (one connection each),
in a namespace of its own. RSS from /proc; the rest from \`backlogctl status\`.

| | idle | all hot |
|---|---:|---:|
| listeners with a history | $(kv "$f" idle_kept) | $(kv "$f" hot_kept) |
| history memory (bytes) | $(num "$(kv "$f" idle_bytes)") | $(num "$(kv "$f" hot_bytes)") |
| hot listeners without one (every kept one hot too) | $(num "$(kv "$f" idle_not_kept)") | $(num "$(kv "$f" hot_not_kept)") |
| daemon RSS | $(mib "$(kv "$f" idle_rss_kib)") MiB | $(mib "$(kv "$f" hot_rss_kib)") MiB |

The rise in RSS is mostly not the history: every listener whose queue moves gets the
tracker's own 32-tick ring (12 bytes a point) that the rules read, history or not.

The \`top\` document that \`backlogctl top\` asks for every tick, all hot: $(num "$(kv "$f" top_bytes)") bytes,
$(kv "$f" top_with_history) listeners with their history, served in $(ms "$(kv "$f" top_wall_us)") ms (median of 5, wall
time of \`backlogctl --json top\`).
EOF
}

# bench/burst.sh (adaptive sampling), when it is there: its markdown goes in the report.
run_burst() {
	local f="$WORK/burst"
	[ -x "$SRC/bench/burst.sh" ] || return 0
	mkdir -p "$f"
	say "adaptive sampling: bench/burst.sh"
	# It enters a network namespace of its own; its argument is the number of trials.
	if BUILD="$BUILD" timeout 900 "$SRC/bench/burst.sh" $BURST_TRIALS >"$f/out.md" 2>"$f/err"; then
		:
	else
		{
			echo "bench/burst.sh failed (exit $?); its last lines:"
			echo '```'
			tail -n 10 "$f/err"
			echo '```'
		} >"$f/out.md"
		FAILED=1
	fi
}

adaptive() {
	cat <<EOF

## Adaptive sampling

EOF
	if [ -f "$WORK/burst/out.md" ]; then
		cat "$WORK/burst/out.md"
	else
		echo "Produced by \`bench/burst.sh\` when present (a 200 ms burst caught that a 1 s tick alone misses); it was not there for this run, so there are no numbers here."
	fi
}

main() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--inner) shift; inner "$@"; exit $? ;;
		--churn) inner_churn; exit $? ;;
		--bpf) inner_bpf "$2"; exit $? ;;
		--history) inner_history "$2" "$3"; exit $? ;;
		--smoke) MODE=smoke ;;
		--out) OUT=$2; shift ;;
		--build) BUILD=$2; shift ;;
		--no-build) DO_BUILD=0 ;;
		--no-install) DO_INSTALL=0 ;;
		--keep) KEEP=$2; shift ;;
		--render) RENDER=$2; shift ;;
		--listeners) ONLY_L=$2; shift ;;
		--conns) ONLY_C=$2; shift ;;
		-h|--help) sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) die "unknown option $1 (--help)" ;;
		esac
		shift
	done
	[ "$(id -u)" = 0 ] || die "needs root (a network namespace per scenario)"
	[ -n "$OUT" ] || OUT="$SRC/bench/RESULTS.md"

	need unshare util-linux
	need ip iproute2
	need ss iproute2
	need nstat iproute2
	need strace strace
	need addr2line binutils
	need awk gawk
	need jq jq
	need python3 python3
	unshare -n true 2>/dev/null || die "unshare -n is not permitted here"
	build

	if [ "$MODE" = smoke ]; then
		LISTENER_SET="50"; CONN_SET="0 500"
		TICKS=20; WARMUP=3; GAP_MS=5; REFS=3
		SYSCALL_TICKS=5; DETECT_INTERVAL=0.5
		DETECT_ARGS="--interval 0.5 --trials 1 --settle-ticks 2 --timeout 10"
		SCRAPES=2
		QUIET_S=3
		METRICS_PORT=9400
		SCENARIO_LIFETIME=120
		BURST_TRIALS=1
		GAP_TRIALS=1
		LISTENER_GAP_MS=2000
		CHURN_CONNS=2000
		CHURN_REPS=1
		BPF_CONNS=2000
		HISTORY_SETTLE_S=3
		BUDGET_S=20
		TICKBENCH_ARGS="--ticks $TICKS --warmup $WARMUP --gap-ms $GAP_MS --refs $REFS --deep 2 --alloc-ticks 5 --budget-s $BUDGET_S"
	else
		LISTENER_SET="1000 10000"; CONN_SET="0 50000 200000"
		TICKS=200; WARMUP=10; GAP_MS=10; REFS=20
		SYSCALL_TICKS=20; DETECT_INTERVAL=1
		DETECT_ARGS="--interval 1 --trials 5 --settle-ticks 5 --timeout 30"
		SCRAPES=10
		QUIET_S=60
		METRICS_PORT=9400
		SCENARIO_LIFETIME=900
		BURST_TRIALS=5
		GAP_TRIALS=3
		LISTENER_GAP_MS=2000
		CHURN_CONNS=40000
		CHURN_REPS=3
		BPF_CONNS=100000
		HISTORY_SETTLE_S=10
		BUDGET_S=60
		TICKBENCH_ARGS="--ticks $TICKS --warmup $WARMUP --gap-ms $GAP_MS --refs $REFS --deep 5 --alloc-ticks 20 --budget-s $BUDGET_S"
	fi
	# What the scenarios' own copies of this script (--inner) need.
	BENCH_BUILD=$BUILD
	DETECT_ARGS="$DETECT_ARGS --scrapes $SCRAPES"
	# GET /metrics too when this build serves it (backlogd -m); the port is the namespace's own.
	if "$BUILD/backlogd" --help 2>&1 | grep -q -- '--metrics'; then
		DETECT_ARGS="$DETECT_ARGS --metrics 127.0.0.1:$METRICS_PORT"
	fi
	LISTENER_SET=${ONLY_L:-$LISTENER_SET}
	CONN_SET=${ONLY_C:-$CONN_SET}
	export BENCH_BUILD BUDGET_S TICKBENCH_ARGS SYSCALL_TICKS WARMUP DETECT_ARGS SCENARIO_LIFETIME QUIET_S
	export GAP_TRIALS LISTENER_GAP_MS CHURN_CONNS CHURN_REPS BPF_CONNS HISTORY_SETTLE_S

	FAILED=0
	local t0=$SECONDS
	if [ -n "$RENDER" ]; then
		# The measurements of an earlier run (--keep): only the report is made again.
		WORK=$(cd "$RENDER" && pwd)
		render >"$OUT.tmp"
		[ -f "$WORK/elapsed" ] && echo "Whole run: $(cat "$WORK/elapsed") s." >>"$OUT.tmp"
		mv "$OUT.tmp" "$OUT"
		say "wrote $OUT from $WORK"
		return 0
	fi
	WORK=$(mktemp -d /tmp/backlogd-bench.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
	run_scenarios
	run_churn
	run_bpf
	run_history
	# The daemon's own bench of adaptive sampling runs once, here, for the report.
	run_burst
	echo "$((SECONDS - t0))" >"$WORK/elapsed"
	render >"$WORK/results.md"
	echo >>"$WORK/results.md"
	echo "Whole run: $(cat "$WORK/elapsed") s." >>"$WORK/results.md"
	if [ -n "$KEEP" ]; then
		mkdir -p "$KEEP"
		(cd "$WORK" && find . \( -name kv -o -name out.md -o -name elapsed \) -print0 |
			tar cf - --null -T -) | tar xf - -C "$KEEP"
	fi
	mv "$WORK/results.md" "$OUT"
	say "wrote $OUT ($((SECONDS - t0)) s)"
	[ "$FAILED" = 0 ] || die "some scenarios failed; see above"
}

main "$@"
