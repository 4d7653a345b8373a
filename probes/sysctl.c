/* sysctl.c: read the sysctls the diagnosis compares against (backlogs, syncookies, port range, TIME_WAIT, orphans, tcp_mem, conntrack). */
#include "base.h"

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

/* Through pf when there is one (kept open), else opened for this read alone. */
static int read_fixed(struct procfd *pf, const char *proc_root, const char *relpath, char *buf,
		      size_t size, size_t *len)
{
	if (pf)
		return procfd_read_fixed(pf, proc_root, relpath, buf, size, len);
	return procfile_read_fixed(proc_root, relpath, buf, size, len);
}

/* Sysctls are read a dozen times a tick: a stack buffer each, never the heap. */
static int64_t read_int(struct procfd *pf, const char *proc_root, const char *relpath)
{
	char buf[INT_FILE_MAX];
	size_t len;
	int64_t value;

	if (read_fixed(pf, proc_root, relpath, buf, sizeof(buf), &len))
		return SYSCTL_UNKNOWN;
	if (!parse_int(buf, len, &value))
		value = SYSCTL_UNKNOWN;
	return value;
}

int64_t sysctl_read_int(const char *proc_root, const char *relpath)
{
	return read_int(NULL, proc_root, relpath);
}

int64_t sysctl_read_int_kept(struct procfd *pf, const char *proc_root, const char *relpath)
{
	return read_int(pf, proc_root, relpath);
}

static int read_ints(struct procfd *pf, const char *proc_root, const char *relpath, int64_t *vals,
		     size_t n)
{
	char buf[INTS_FILE_MAX];
	size_t len, i = 0, k;

	for (k = 0; k < n; k++)
		vals[k] = SYSCTL_UNKNOWN;
	if (n == 0 || n > SYSCTL_INTS_MAX)
		return -EINVAL;
	if (read_fixed(pf, proc_root, relpath, buf, sizeof(buf), &len))
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

int sysctl_read_ints(const char *proc_root, const char *relpath, int64_t *vals, size_t n)
{
	return read_ints(NULL, proc_root, relpath, vals, n);
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

/* The files of struct limits, in sysctl_files order. */
static const char *const limit_files[SYSCTL_FILES] = {
	[SYSCTL_F_SOMAXCONN] = "sys/net/core/somaxconn",
	[SYSCTL_F_SYN_BACKLOG] = "sys/net/ipv4/tcp_max_syn_backlog",
	[SYSCTL_F_SYNCOOKIES] = "sys/net/ipv4/tcp_syncookies",
	[SYSCTL_F_ABORT_ON_OVERFLOW] = "sys/net/ipv4/tcp_abort_on_overflow",
	[SYSCTL_F_PORT_RANGE] = "sys/net/ipv4/ip_local_port_range",
	[SYSCTL_F_TW_REUSE] = "sys/net/ipv4/tcp_tw_reuse",
	[SYSCTL_F_MAX_TW_BUCKETS] = "sys/net/ipv4/tcp_max_tw_buckets",
	[SYSCTL_F_MAX_ORPHANS] = "sys/net/ipv4/tcp_max_orphans",
	[SYSCTL_F_TCP_MEM] = "sys/net/ipv4/tcp_mem",
	[SYSCTL_F_CONNTRACK_MAX] = "sys/net/netfilter/nf_conntrack_max",
};

void sysctl_files_init(struct sysctl_files *sf)
{
	for (size_t i = 0; i < SYSCTL_FILES; i++)
		procfd_init(&sf->f[i]);
}

void sysctl_files_close(struct sysctl_files *sf)
{
	for (size_t i = 0; i < SYSCTL_FILES; i++)
		procfd_close(&sf->f[i]);
}

void sysctl_read_limits_kept(struct sysctl_files *sf, const char *proc_root, struct limits *out)
{
	int64_t range[2];

#define LIMIT_INT(i) read_int(&sf->f[i], proc_root, limit_files[i])
	limits_unknown(out);
	out->somaxconn = LIMIT_INT(SYSCTL_F_SOMAXCONN);
	out->tcp_max_syn_backlog = LIMIT_INT(SYSCTL_F_SYN_BACKLOG);
	out->tcp_syncookies = LIMIT_INT(SYSCTL_F_SYNCOOKIES);
	out->tcp_abort_on_overflow = LIMIT_INT(SYSCTL_F_ABORT_ON_OVERFLOW);
	/*
	 * The kernel refuses a range whose low end is above its high end
	 * (ipv4_local_port_range), so such a file is not a kernel's: leave both
	 * unknown rather than hand the diagnosis a negative range size.
	 */
	if (read_ints(&sf->f[SYSCTL_F_PORT_RANGE], proc_root, limit_files[SYSCTL_F_PORT_RANGE],
		      range, 2) == 0 &&
	    range[0] >= 0 && range[0] <= range[1]) {
		out->port_range_lo = range[0];
		out->port_range_hi = range[1];
	}
	out->tcp_tw_reuse = LIMIT_INT(SYSCTL_F_TW_REUSE);
	out->tcp_max_tw_buckets = LIMIT_INT(SYSCTL_F_MAX_TW_BUCKETS);
	out->tcp_max_orphans = LIMIT_INT(SYSCTL_F_MAX_ORPHANS);
	(void)read_ints(&sf->f[SYSCTL_F_TCP_MEM], proc_root, limit_files[SYSCTL_F_TCP_MEM],
			out->tcp_mem, 3);
	/* Absent when nf_conntrack is not loaded: unknown, which is no error. */
	out->nf_conntrack_max = LIMIT_INT(SYSCTL_F_CONNTRACK_MAX);
#undef LIMIT_INT
}
