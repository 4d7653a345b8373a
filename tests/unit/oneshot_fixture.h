/* oneshot_fixture.h: one-off reads of the /proc probes with a throwaway buffer, which tests make and the daemon (reusing its buffers every tick) never does. */
#ifndef BACKLOGD_ONESHOT_FIXTURE_H
#define BACKLOGD_ONESHOT_FIXTURE_H

#include <stddef.h>
#include "conntrack.h"
#include "netstat.h"
#include "procfile.h"
#include "sockstat.h"
#include "sysctl.h"

/*
 * PROC_ROOT/RELPATH whole into a new buffer (*bufp, *lenp bytes; the caller
 * frees it), as procfile_read_buf reads it. *bufp and *lenp are set only on
 * success. Return: as procfile_read_buf.
 */
static inline int procfile_read(const char *proc_root, const char *relpath, size_t max,
				char **bufp, size_t *lenp)
{
	struct procbuf pb;
	int err;

	procbuf_init(&pb);
	err = procfile_read_buf(proc_root, relpath, max, &pb);
	if (err) {
		procbuf_free(&pb);
		return err;
	}
	*bufp = pb.p;
	*lenp = pb.len;
	return 0;
}

/* netstat_read_buf with a buffer of its own. */
static inline int netstat_read(const char *proc_root, struct counters *out)
{
	struct procbuf pb;
	int err;

	procbuf_init(&pb);
	err = netstat_read_buf(proc_root, out, &pb);
	procbuf_free(&pb);
	return err;
}

/* sockstat_read_buf with a buffer of its own. */
static inline int sockstat_read(const char *proc_root, struct sockstat *out)
{
	struct procbuf pb;
	int err;

	procbuf_init(&pb);
	err = sockstat_read_buf(proc_root, out, &pb);
	procbuf_free(&pb);
	return err;
}

/* conntrack_read2_buf with a buffer of its own, the sysctl under the same root as the /proc/net files. */
static inline int conntrack_read(const char *proc_root, struct conntrack_stat *out)
{
	struct procbuf pb;
	int err;

	procbuf_init(&pb);
	err = conntrack_read2_buf(proc_root, proc_root, out, &pb);
	procbuf_free(&pb);
	return err;
}

/* sysctl_read_limits_kept with files opened for this one read. */
static inline void sysctl_read_limits(const char *proc_root, struct limits *out)
{
	struct sysctl_files sf;

	sysctl_files_init(&sf);
	sysctl_read_limits_kept(&sf, proc_root, out);
	sysctl_files_close(&sf);
}

#endif
