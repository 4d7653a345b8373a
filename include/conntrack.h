/* conntrack.h: netfilter connection tracking: table fill and per-CPU drop counters. */
#ifndef BACKLOGD_CONNTRACK_H
#define BACKLOGD_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procbuf;
struct procfd;

struct conntrack_stat {
	bool present;            /* the nf_conntrack module is loaded (count readable) */
	int64_t count;           /* sys/net/netfilter/nf_conntrack_count, -1 unknown */
	bool have_stat;          /* net/stat/nf_conntrack was readable */
	uint64_t drop;           /* summed over the per-CPU rows */
	uint64_t early_drop;
	uint64_t insert_failed;
	unsigned malformed;      /* rows or fields that did not parse */
};

/*
 * Parse the text of /proc/net/stat/nf_conntrack: a header row of names and
 * one row of hex values per CPU; drop, early_drop and insert_failed are
 * summed, found by name (column order differs across kernels).
 * Return: 0, or -EINVAL when the header lacks all three.
 */
int conntrack_parse_stat(const char *text, size_t len, struct conntrack_stat *out);

/*
 * Read SYS_ROOT/sys/net/netfilter/nf_conntrack_count and
 * PROC_ROOT/net/stat/nf_conntrack through pb, whose memory is reused from
 * one tick to the next. Two roots: another namespace's net files are under
 * /proc/thread-self, its sysctls under /proc. A missing module is
 * present = false, not an error. Return: 0 or -errno.
 */
int conntrack_read2_buf(const char *proc_root, const char *sys_root, struct conntrack_stat *out,
			struct procbuf *pb);
/* The same, with the count read through count_fd, kept open between reads (NULL: opened each time). */
int conntrack_read_kept(const char *proc_root, const char *sys_root, struct conntrack_stat *out,
			struct procbuf *pb, struct procfd *count_fd);

#endif
