# catalogue-lib.sh: helpers for the cause-catalogue tests (sourced after lib.sh): counters, proc roots, a fake kernel log.
# Some limits are global (tcp_mem, tcp_max_orphans, nf_conntrack_max) and may
# not be changed by a test; those tests point backlogd at a proc root whose
# few global files come from tests/fixtures/integ and everything else from
# the live /proc of the test's namespace.

FIXTURES_INTEG="$top_srcdir/tests/fixtures/integ"

# counter NAME: a kernel counter (nstat name, "TcpExtListenDrops") of this
# namespace. -a: absolute values (the namespace is fresh); -s: leave nstat's
# history file alone, it is shared with every other namespace on the host.
counter() {
	nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }'
}

# mirror REAL DST OVR: DST mirrors REAL through symlinks, except that every
# file present under OVR is copied in instead (the test may then rewrite it).
# A directory with nothing overridden below it is one symlink, so the kernel's
# per-namespace files are read live. Files only in OVR are copied too: the
# global sysctls tcp_mem and tcp_max_orphans do not exist at all in a
# network namespace other than the host's.
mirror() {
	local real=$1 dst=$2 ovr=$3 e
	if [ ! -e "$ovr" ]; then
		ln -s "$real" "$dst"
		return
	fi
	if [ -f "$ovr" ]; then
		cp "$ovr" "$dst"
		return
	fi
	mkdir -p "$dst"
	for e in "$real"/*; do
		[ -e "$e" ] || continue
		mirror "$e" "$dst/${e##*/}" "$ovr/${e##*/}"
	done
	for e in "$ovr"/*; do
		[ -e "$dst/${e##*/}" ] || cp -r "$e" "$dst/${e##*/}"
	done
}

# proc_root_build DIR OVR: DIR/net and DIR/sys for backlogd -P. /proc/net is
# /proc/self/net, so the symlinks resolve in the reader's namespace, which is
# the test's. Process owners are not affected: backlogd reads them from /proc.
proc_root_build() {
	local dir=$1 ovr=$2
	mkdir -p "$dir"
	mirror /proc/net "$dir/net" "$ovr/net"
	mirror /proc/sys "$dir/sys" "$ovr/sys"
	[ -r "$dir/net/netstat" ] || fail "proc root $dir lacks net/netstat"
}

# replace_file FILE: stdin becomes FILE in one rename, so a reader never sees half of it.
replace_file() {
	cat >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# kmsg_fifo PATH: a FIFO for backlogd -K, held open for writing on fd 9 for
# the whole test, as /dev/kmsg never hangs up on its reader.
kmsg_fifo() {
	KMSG_FIFO=$1
	KMSG_SEQ=900000
	mkfifo "$KMSG_FIFO" || fail "cannot make a FIFO at $KMSG_FIFO"
	exec 9<>"$KMSG_FIFO"
}

# kmsg_write LEVEL MESSAGE: one record in the /dev/kmsg format
# "PRI,SEQ,TIMESTAMP_USEC,FLAGS;MESSAGE" (facility 0, the kernel).
kmsg_write() {
	local ts
	KMSG_SEQ=$((KMSG_SEQ + 1))
	ts=$(awk '{ printf "%.0f", $1 * 1000000 }' /proc/uptime)
	printf '%s,%s,%s,-;%s\n' "$1" "$KMSG_SEQ" "$ts" "$2" >&9
}

# kmsg_last_seq: the sequence number of the newest record in /dev/kmsg, or
# nothing when it cannot be read. Every read returns one record; EAGAIN ends it.
kmsg_last_seq() {
	dd if=/dev/kmsg iflag=nonblock bs=16384 2>/dev/null | awk -F'[,;]' '/^[0-9]+,[0-9]+,/ { s = $2 } END { if (s != "") print s }'
}

# kmsg_since SEQ: the messages of the records after SEQ.
kmsg_since() {
	dd if=/dev/kmsg iflag=nonblock bs=16384 2>/dev/null |
		awk -v after="$1" -F';' '/^[0-9]+,[0-9]+,/ { split($1, h, ","); if (h[2] + 0 > after + 0) { sub(/^[^;]*;/, ""); print } }'
}

# wait_finding WHAT FILTER [TRIES]: until FILTER (a jq select over .findings[]) matches, every 0.1 s.
wait_finding() {
	capture_finding "$1" "$2" "$WORK/wait-finding.json" "${3:-80}"
}

# capture_finding WHAT FILTER FILE [TRIES]: wait until a status document holds
# FILTER, and keep that very document in FILE: evidence of one tick (a kernel
# line, a counter's rise) is checked in the document that showed it, not a
# later one. A timeout shows what the daemon did say, not only that it timed out.
capture_finding() {
	local i=0
	while [ $i -lt "${4:-80}" ]; do
		status_json >"$3" 2>/dev/null && jq -e "$2" "$3" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "timed out waiting for: $1; findings: $(jq -c '[.findings[] | {cause, listener, netns, state, pid, message, evidence}]' "$3" 2>/dev/null | cut -c1-1500)"
}

# no_finding FILE: fail when FILE (a status document) holds any finding, open or resolved.
no_finding() {
	jq -e '.findings | length == 0' "$1" >/dev/null ||
		fail "unexpected findings: $(jq -c '[.findings[] | {cause, listener, state, message}]' "$1")"
}

# finding_text_ok FILE FILTER CLIENTS_RE KNOB: the finding's message says what
# clients saw (CLIENTS_RE, a case-insensitive regex), its remedy names KNOB,
# and .knob.name is KNOB.
finding_text_ok() {
	jq -e --arg re "$3" --arg knob "$4" "$2"' | (.message | test($re; "i")) and
		(.remedy | contains($knob)) and .knob.name == $knob' "$1" >/dev/null ||
		fail "finding text: message should say /$3/, remedy and knob should name $4: $(jq -c "$2"' | {message, remedy, knob}' "$1")"
}
