/* sysctl.h: the limits in force that the diagnosis compares against. */
#ifndef BACKLOGD_SYSCTL_H
#define BACKLOGD_SYSCTL_H

#include <stdint.h>

/* A sysctl that could not be read is unknown, never 0. */
#define SYSCTL_UNKNOWN (-1)

struct limits {
	int64_t somaxconn;              /* net.core.somaxconn */
	int64_t tcp_max_syn_backlog;    /* net.ipv4.tcp_max_syn_backlog */
	int64_t tcp_syncookies;         /* net.ipv4.tcp_syncookies */
	int64_t tcp_abort_on_overflow;  /* net.ipv4.tcp_abort_on_overflow */
};

/* Read one integer sysctl file. Return: its value, or SYSCTL_UNKNOWN. */
int64_t sysctl_read_int(const char *proc_root, const char *relpath);

/* Fill out from PROC_ROOT/sys/net/...; missing files are SYSCTL_UNKNOWN. */
void sysctl_read_limits(const char *proc_root, struct limits *out);

#endif
