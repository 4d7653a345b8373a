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

/* The files of one read: /proc/net/netstat, then /proc/net/snmp. */
#define NETSTAT_FILES 2

/*
 * The layout of the last whole read (netstat_layout.c): each file's header
 * lines, byte for byte, and where each of its values went in items[]. The
 * kernel writes the same headers every time, so a re-read whose header
 * lines are those bytes only parses its values into place: no names, no
 * sort. Valid only after a read of both files with nothing malformed.
 */
struct counters_layout {
	char *hdr[NETSTAT_FILES];
	size_t hdr_len[NETSTAT_FILES];
	size_t hdr_cap[NETSTAT_FILES];
	uint32_t *slot;             /* items[] index of every value, file after file, in file order */
	size_t nslot[NETSTAT_FILES];
	size_t slot_cap;
	bool valid;
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
	struct counters_layout layout;      /* for netstat_read_each's re-reads */
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

/*
 * The layout (struct counters_layout), for netstat_read_each; public for
 * the tests and the fuzzer. netstat_layout_note keeps the header lines of
 * file's text (just parsed into c), netstat_layout_finish maps their
 * values into c->items once every file is in (layout.valid says whether it
 * could); Return: 0 or -ENOMEM (the layout is then not valid).
 */
int netstat_layout_note(struct counters *c, unsigned file, const char *text, size_t len);
int netstat_layout_finish(struct counters *c);
/*
 * The values of file's text into c->items, in place, when its header lines
 * are the layout's. Return: false when they are not, or anything in it is
 * off: then some values may have changed, and a whole read must follow.
 */
bool netstat_layout_update(struct counters *c, unsigned file, const char *text, size_t len);
/* Forget the layout (its memory is kept). */
void netstat_layout_drop(struct counters *c);

#endif
