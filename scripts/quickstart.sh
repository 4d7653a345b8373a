#!/bin/sh
# quickstart.sh: set up a fresh Debian machine and run backlogd, or its tests.
#   scripts/quickstart.sh run    install deps, build, run backlogd -d on this host
#   scripts/quickstart.sh test   install deps, build, make check (plain, then ASan+UBSan),
#                                then every fuzz harness for 5 s
#   scripts/quickstart.sh deps   only install the Debian packages
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)

DEBS="build-essential autoconf automake pkg-config libmnl-dev libsystemd-dev \
libjansson-dev libnl-3-dev libcriterion-dev scdoc bash-completion iproute2 jq systemd util-linux procps python3 strace \
clang libclang-rt-14-dev prometheus"
# The eBPF tier (probes/bpf/): clang for the bpf target, llvm-strip, bpftool's
# skeletons, libbpf and what it links.
DEBS="$DEBS llvm bpftool libbpf-dev libelf-dev zlib1g-dev"
# tests/integ/dashboard.sh reads the alert rules with PyYAML.
DEBS="$DEBS python3-yaml"
# backlogctl top draws with ncursesw; tests/integ/top.sh drives it in tmux.
DEBS="$DEBS libncurses-dev tmux"

# The real servers and clients of tests/integ/real-*.sh.
REAL_DEBS="nginx uwsgi-core uwsgi-plugin-python3 redis-server redis-tools haproxy nodejs wrk apache2-utils"
DEBS="$DEBS $REAL_DEBS"
# backlogd -m serves HTTP with libmicrohttpd; the tests scrape it with curl.
DEBS="$DEBS libmicrohttpd-dev curl"

# Building the Debian package (scripts/deb.sh, tests/integ/debian-package.sh):
# the tools, and what debian/control's Build-Depends adds to the above.
DEBS="$DEBS dpkg-dev debhelper lintian libmicrohttpd-dev"

deps() {
	missing=""
	for p in $DEBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: run as root to install:$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# The servers are for the tests only: a policy-rc.d answering 101 keeps
	# their packages from starting nginx, redis, haproxy... on this host
	# (one already there is left as it is).
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT INT TERM
	fi
	rc=0
	apt-get install -y -q --no-install-recommends $missing || rc=$?
	[ -z "$policy" ] || rm -f "$policy"
	trap - EXIT INT TERM
	return $rc
}

# build DIR [configure args]: an out-of-tree build in DIR.
build() {
	dir=$1
	shift
	[ -x "$top/configure" ] || autoreconf -fi "$top"
	mkdir -p "$dir"
	# Under CI the eBPF tier must be built: a missing piece fails configure.
	[ "${CI:-}" = true ] && set -- --enable-bpf=yes "$@"
	(cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@"; } && make -j"$(nproc)")
}

# summarize DIR: one "N passed, N failed, N skipped" line from automake's log;
# under CI a skipped test is a failure, since every test must really run there.
summarize() {
	log=$1/test-suite.log
	pass=$(sed -n 's/^# PASS: *//p' "$log")
	fail=$(sed -n 's/^# FAIL: *//p' "$log")
	skip=$(sed -n 's/^# SKIP: *//p' "$log")
	xfail=$(sed -n 's/^# ERROR: *//p' "$log")
	echo "$(basename "$1"): ${pass:-0} passed, $(( ${fail:-0} + ${xfail:-0} )) failed, ${skip:-0} skipped"
	if [ "${CI:-}" = true ] && [ "${skip:-0}" -gt 0 ]; then
		grep -l '^SKIP' "$1"/tests/*/*.log 2>/dev/null | while read -r f; do tail -3 "$f"; done
		echo "quickstart: tests were skipped under CI" >&2
		return 1
	fi
}

# check DIR: make check, print the summary whatever the outcome.
check() {
	rc=0
	(cd "$1" && make check VERBOSE=1) || rc=$?
	summarize "$1" || rc=1
	return $rc
}

case "${1:-}" in
deps)
	deps
	;;
run)
	deps
	build "$top/build"
	echo "quickstart: starting backlogd in the foreground (Ctrl-C stops it);"
	echo "quickstart: in another shell: $top/build/backlogctl status"
	exec "$top/build/backlogd" -d
	;;
test)
	deps
	build "$top/build"
	check "$top/build"
	build "$top/build-sanitize" --enable-sanitizers
	check "$top/build-sanitize"
	# Every fuzz harness for a few seconds: one that no longer builds or
	# crashes on its seeds is noticed (README "Fuzzing" runs them long).
	(cd "$top/build" && make fuzz FUZZ_SECONDS=5)
	;;
*)
	echo "usage: $0 run|test|deps" >&2
	exit 2
	;;
esac
