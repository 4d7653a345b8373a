/* netstat.h: /proc/net/netstat and /proc/net/snmp as name -> value, all fields. */
#ifndef BACKLOGD_NETSTAT_H
#define BACKLOGD_NETSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTER_NAME_MAX 64

struct procbuf;

/* name is "Prefix.Field", e.g. "TcpExt.ListenOverflows", "Tcp.OutRsts". */
struct counter {
	char name[COUNTER_NAME_MAX];
	int64_t value;       /* snmp has signed fields (Tcp.MaxConn = -1) */
};

struct counters {
	struct counter *items;
	size_t count;
	size_t cap;
	unsigned malformed;  /* lines or fields rejected while parsing */
	/*
	 * netstat_parse's merge scratch, private to netstat.c: kept with the
	 * table so that a re-read of the same fields allocates nothing.
	 */
	struct counter *spare;              /* the merge's output; trades places with items */
	size_t spare_cap;
	const struct counter **order;       /* the new entries to sort, and the sort's room */
	size_t order_cap;
};

void counters_init(struct counters *c);
void counters_clear(struct counters *c);
void counters_free(struct counters *c);
/* Return: true and *value when name is present. */
bool counters_get(const struct counters *c, const char *name, int64_t *value);

/*
 * Parse the header/value line pairs of a netstat or snmp file, appending to
 * out. Malformed pairs are skipped and counted. Return: 0 or -ENOMEM.
 */
int netstat_parse(const char *text, size_t len, struct counters *out);

/*
 * Read PROC_ROOT/net/netstat and PROC_ROOT/net/snmp into out (cleared
 * first), through pb, whose memory is reused from one tick to the next.
 * proc_root is "/proc" in production. Return: 0, or -errno when neither
 * file could be read.
 */
int netstat_read_buf(const char *proc_root, struct counters *out, struct procbuf *pb);

/*
 * netstat_read_buf, saying each file's fate: *netstat_err and *snmp_err
 * are 0 when the file was read, else its -errno (a parse's -ENOMEM too).
 */
int netstat_read_each(const char *proc_root, struct counters *out, struct procbuf *pb,
		      int *netstat_err, int *snmp_err);

#endif
