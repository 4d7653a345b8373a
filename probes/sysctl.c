/* sysctl.c: read the sysctls the diagnosis compares against (backlogs, syncookies, port range, TIME_WAIT, orphans, tcp_mem, conntrack). */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "procfile.h"
#include "sysctl.h"

/*
 * The longest file each reader takes, and the size of its stack buffer;
 * one that fills the buffer is refused, since a sysctl that long is not one
 * we know. An int64 with sign and newline is 21 bytes; sysctl_read_ints
 * takes 21 bytes per int64 plus a separator each, for SYSCTL_INTS_MAX of
 * them.
 */
#define INT_FILE_MAX 32
#define INTS_FILE_MAX (SYSCTL_INTS_MAX * 22 + 2)

/*
 * A strict decimal: optional '-', digits, optional trailing newline, and
 * nothing else. A multi-value sysctl ("32768\t60999") or a truncated or
 * out-of-range number is garbage, never a best guess.
 */
static bool parse_int(const char *s, size_t len, int64_t *out)
{
	struct span tok = { s, s + len };

	if (len > 0 && s[len - 1] == '\n')
		tok.end--;
	return span_dec(&tok, out);
}

/* Sysctls are read a dozen times a tick: a stack buffer each, never the heap. */
int64_t sysctl_read_int(const char *proc_root, const char *relpath)
{
	char buf[INT_FILE_MAX];
	size_t len;
	int64_t value;

	if (procfile_read_fixed(proc_root, relpath, buf, sizeof(buf), &len))
		return SYSCTL_UNKNOWN;
	if (!parse_int(buf, len, &value))
		value = SYSCTL_UNKNOWN;
	return value;
}

int sysctl_read_ints(const char *proc_root, const char *relpath, int64_t *vals, size_t n)
{
	char buf[INTS_FILE_MAX];
	size_t len, i = 0, k;

	for (k = 0; k < n; k++)
		vals[k] = SYSCTL_UNKNOWN;
	if (n == 0 || n > SYSCTL_INTS_MAX)
		return -EINVAL;
	if (procfile_read_fixed(proc_root, relpath, buf, sizeof(buf), &len))
		return -EINVAL;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	/* parse_int would forgive a newline ending a token: none may be left. */
	if (memchr(buf, '\n', len))
		goto bad;
	/*
	 * proc_doulongvec_minmax and proc_dointvec write the values separated by
	 * one tab; accept any run of blanks between them but none before the
	 * first or after the last, so a cut or padded file is not half-read.
	 */
	for (k = 0; k < n; k++) {
		size_t start;
		int64_t v;

		if (k > 0) {
			if (i == len || !span_blank(buf[i]))
				goto bad;
			while (i < len && span_blank(buf[i]))
				i++;
		}
		start = i;
		while (i < len && !span_blank(buf[i]))
			i++;
		if (!parse_int(buf + start, i - start, &v))
			goto bad;
		vals[k] = v;
	}
	if (i != len)
		goto bad;
	return 0;
bad:
	for (k = 0; k < n; k++)
		vals[k] = SYSCTL_UNKNOWN;
	return -EINVAL;
}

void limits_unknown(struct limits *lim)
{
	lim->somaxconn = SYSCTL_UNKNOWN;
	lim->tcp_max_syn_backlog = SYSCTL_UNKNOWN;
	lim->tcp_syncookies = SYSCTL_UNKNOWN;
	lim->tcp_abort_on_overflow = SYSCTL_UNKNOWN;
	lim->port_range_lo = SYSCTL_UNKNOWN;
	lim->port_range_hi = SYSCTL_UNKNOWN;
	lim->tcp_tw_reuse = SYSCTL_UNKNOWN;
	lim->tcp_max_tw_buckets = SYSCTL_UNKNOWN;
	lim->tcp_max_orphans = SYSCTL_UNKNOWN;
	for (size_t i = 0; i < sizeof(lim->tcp_mem) / sizeof(lim->tcp_mem[0]); i++)
		lim->tcp_mem[i] = SYSCTL_UNKNOWN;
	lim->nf_conntrack_max = SYSCTL_UNKNOWN;
}

void sysctl_read_limits(const char *proc_root, struct limits *out)
{
	int64_t range[2];

	limits_unknown(out);
	out->somaxconn = sysctl_read_int(proc_root, "sys/net/core/somaxconn");
	out->tcp_max_syn_backlog = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_max_syn_backlog");
	out->tcp_syncookies = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_syncookies");
	out->tcp_abort_on_overflow = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_abort_on_overflow");
	/*
	 * The kernel refuses a range whose low end is above its high end
	 * (ipv4_local_port_range), so such a file is not a kernel's: leave both
	 * unknown rather than hand the diagnosis a negative range size.
	 */
	if (sysctl_read_ints(proc_root, "sys/net/ipv4/ip_local_port_range", range, 2) == 0 &&
	    range[0] >= 0 && range[0] <= range[1]) {
		out->port_range_lo = range[0];
		out->port_range_hi = range[1];
	}
	out->tcp_tw_reuse = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_tw_reuse");
	out->tcp_max_tw_buckets = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_max_tw_buckets");
	out->tcp_max_orphans = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_max_orphans");
	(void)sysctl_read_ints(proc_root, "sys/net/ipv4/tcp_mem", out->tcp_mem, 3);
	/* Absent when nf_conntrack is not loaded: unknown, which is no error. */
	out->nf_conntrack_max = sysctl_read_int(proc_root, "sys/net/netfilter/nf_conntrack_max");
}
