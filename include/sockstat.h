/* sockstat.h: /proc/net/sockstat and sockstat6: socket counts and TCP memory. */
#ifndef BACKLOGD_SOCKSTAT_H
#define BACKLOGD_SOCKSTAT_H

#include <stdint.h>

struct procbuf;

/* Every field is -1 when the file or the field was missing. */
struct sockstat {
	int64_t sockets_used;   /* "sockets: used" */
	int64_t tcp_inuse;      /* "TCP: inuse", per namespace */
	int64_t tcp_orphan;     /* "TCP: orphan", global */
	int64_t tcp_tw;         /* "TCP: tw", per namespace (FIN_WAIT2 minisockets too) */
	int64_t tcp_alloc;      /* "TCP: alloc", global */
	int64_t tcp_mem;        /* "TCP: mem", pages, global */
	int64_t tcp6_inuse;     /* sockstat6 "TCP6: inuse" */
	unsigned malformed;     /* lines that did not parse */
};

/*
 * Parse one sockstat or sockstat6 text into out (fields it does not hold are
 * left as they were). Return: 0, or -EINVAL when nothing in it parsed.
 */
int sockstat_parse(const char *text, size_t len, struct sockstat *out);

/*
 * Read PROC_ROOT/net/sockstat and sockstat6 (out reset to -1 first) through
 * pb, whose memory is reused from one tick to the next. Return: 0 or -errno.
 */
int sockstat_read_buf(const char *proc_root, struct sockstat *out, struct procbuf *pb);

#endif
