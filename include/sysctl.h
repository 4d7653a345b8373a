/* sysctl.h: the limits in force that the diagnosis compares against. */
#ifndef BACKLOGD_SYSCTL_H
#define BACKLOGD_SYSCTL_H

#include <stddef.h>
#include <stdint.h>
#include "procfile.h"

/* A sysctl that could not be read is unknown, never 0. */
#define SYSCTL_UNKNOWN (-1)

struct limits {
	int64_t somaxconn;              /* net.core.somaxconn */
	int64_t tcp_max_syn_backlog;    /* net.ipv4.tcp_max_syn_backlog */
	int64_t tcp_syncookies;         /* net.ipv4.tcp_syncookies */
	int64_t tcp_abort_on_overflow;  /* net.ipv4.tcp_abort_on_overflow */
	int64_t port_range_lo;          /* net.ipv4.ip_local_port_range, first */
	int64_t port_range_hi;          /* net.ipv4.ip_local_port_range, second */
	int64_t tcp_tw_reuse;           /* net.ipv4.tcp_tw_reuse */
	int64_t tcp_max_tw_buckets;     /* net.ipv4.tcp_max_tw_buckets */
	int64_t tcp_max_orphans;        /* net.ipv4.tcp_max_orphans */
	int64_t tcp_mem[3];             /* net.ipv4.tcp_mem: min, pressure, max (pages) */
	int64_t nf_conntrack_max;       /* net.netfilter.nf_conntrack_max; unknown without the module */
};

/* Set every field of lim to SYSCTL_UNKNOWN. */
void limits_unknown(struct limits *lim);

/* Read one integer sysctl file. Return: its value, or SYSCTL_UNKNOWN. */
int64_t sysctl_read_int(const char *proc_root, const char *relpath);
/* The same through pf, which keeps the file open from one read to the next (procfd_read_fixed). */
int64_t sysctl_read_int_kept(struct procfd *pf, const char *proc_root, const char *relpath);

/* The most values sysctl_read_ints takes from one file. */
#define SYSCTL_INTS_MAX 8

/*
 * Read a sysctl file holding exactly n integers separated by blanks
 * (ip_local_port_range, tcp_mem). All or nothing: on any error every
 * vals[i] is SYSCTL_UNKNOWN. Return: 0, or -EINVAL (missing, unreadable,
 * fewer or more than n numbers, garbage, n = 0 or > SYSCTL_INTS_MAX).
 */
int sysctl_read_ints(const char *proc_root, const char *relpath, int64_t *vals, size_t n);

/* The files behind struct limits, kept open between reads (sysctl_read_limits_kept). */
enum {
	SYSCTL_F_SOMAXCONN,
	SYSCTL_F_SYN_BACKLOG,
	SYSCTL_F_SYNCOOKIES,
	SYSCTL_F_ABORT_ON_OVERFLOW,
	SYSCTL_F_PORT_RANGE,
	SYSCTL_F_TW_REUSE,
	SYSCTL_F_MAX_TW_BUCKETS,
	SYSCTL_F_MAX_ORPHANS,
	SYSCTL_F_TCP_MEM,
	SYSCTL_F_CONNTRACK_MAX,
	SYSCTL_FILES
};

struct sysctl_files {
	struct procfd f[SYSCTL_FILES];
};

void sysctl_files_init(struct sysctl_files *sf);
void sysctl_files_close(struct sysctl_files *sf);

/*
 * Fill out from PROC_ROOT/sys/net/...; missing files are SYSCTL_UNKNOWN.
 * For every tick: the procfs files stay open in sf and
 * are read again from offset 0 (a file that fails is opened again next
 * time). sf belongs to the network namespace the first read was made in:
 * /proc/sys/net opened there keeps showing that namespace.
 */
void sysctl_read_limits_kept(struct sysctl_files *sf, const char *proc_root, struct limits *out);

#endif
