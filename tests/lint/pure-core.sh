#!/bin/sh
# pure-core.sh: daemon/core/ is pure (no I/O, no clock, no logging): fail when
# a file there includes a header that does I/O or reads the clock, or calls
# the clock or stdio I/O directly. Pure code takes its time and its data as
# arguments, which is what lets the rules be tested with no kernel.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
core="$top_srcdir/daemon/core"
[ -d "$core" ] || { echo "pure-core: no $core" >&2; exit 99; }

# Headers of I/O, the clock, threads and the logger. <netinet/in.h> and
# <arpa/inet.h> stay allowed: address families and inet_ntop are pure.
banned='unistd\.h|sys/socket\.h|time\.h|sys/time\.h|fcntl\.h|dirent\.h|poll\.h|sys/stat\.h|sys/ioctl\.h|sys/epoll\.h|syslog\.h|pthread\.h|signal\.h|systemd/[a-z-]*\.h|libmnl/libmnl\.h|netlink/[a-z/]*\.h|log\.h'
calls='\b(clock_gettime|gettimeofday|time|fopen|fdopen|open|openat|read|write|pread|close|printf|fprintf|puts|syslog|getenv|log_[a-z]+|fatalx?)[[:space:]]*\('

bad=0
for f in "$core"/*.c "$core"/*.h; do
	[ -e "$f" ] || continue
	rel=${f#"$top_srcdir"/}
	if grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($banned)[>\"]" "$f" >/tmp/pure-core.$$; then
		sed "s|^|$rel:|; s|\$|   <- I/O, clock or logging header in pure code|" /tmp/pure-core.$$
		bad=1
	fi
	# Calls, outside comments and string literals (a rough strip is enough here).
	if sed -e 's|/\*.*\*/||g' -e 's|"[^"]*"|""|g' -e 's|//.*$||' "$f" |
		grep -nE "$calls" | grep -vE '^[0-9]+:[[:space:]]*\*' >/tmp/pure-core.$$; then
		sed "s|^|$rel:|; s|\$|   <- I/O, clock or logging call in pure code|" /tmp/pure-core.$$
		bad=1
	fi
done
rm -f /tmp/pure-core.$$
[ $bad -eq 0 ] && echo "pure-core: daemon/core includes and calls no I/O, clock or logger"
exit $bad
