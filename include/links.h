/* links.h: per-interface receive drops from rtnetlink stats and link dumps (nl.c), parsed with libnl-3. */
#ifndef BACKLOGD_LINKS_H
#define BACKLOGD_LINKS_H

#include <stddef.h>
#include <stdint.h>

#define LINKS_MAX 64
#define LINK_NAME_MAX 16

struct link_stat {
	int ifindex;
	char name[LINK_NAME_MAX];
	uint64_t rx_packets;
	uint64_t rx_dropped;
	uint64_t rx_missed_errors;
	uint64_t rx_fifo_errors;
};

struct link_table {
	size_t count;            /* interfaces beyond LINKS_MAX are left out */
	struct link_stat items[LINKS_MAX];
};

struct links;

/*
 * One links_read in this many is an RTM_GETLINK dump even when no ifindex
 * came or went: an interface renamed, or an ifindex reused by a new one
 * with the same counters so far, is named right again within that many
 * reads.
 */
#define LINKS_NAMES_EVERY 30

/* Open the NETLINK_ROUTE socket and its receive buffer. Return: 0 or -errno. */
int links_open(struct links **out);
void links_close(struct links *lk);
/*
 * Dump every link and copy its counters into out, sorted by ifindex. A
 * steady-state read is an RTM_GETSTATS dump (counters only), named from
 * the last RTM_GETLINK dump, which is made again when an ifindex comes or
 * goes, when a counter falls (an ifindex reused) and once every
 * LINKS_NAMES_EVERY reads; it allocates nothing. Return: 0 or -errno
 * (out empty).
 */
int links_read(struct links *lk, struct link_table *out);
/* Return: how many RTM_GETLINK dumps links_read has made (a steady read makes none). */
unsigned long links_link_dumps(const struct links *lk);

/*
 * Return: what the kernel said about the last failed links_read, beyond its
 * errno: printable ASCII for a log line, "" when it said nothing or the
 * read succeeded.
 */
const char *links_ext_ack(const struct links *lk);

/*
 * Parse a buffer of netlink messages as received from an RTM_GETLINK dump
 * (one or more recv() worth, concatenated), inserting links into out as
 * links_read does; malformed messages are skipped. For tests fed with
 * recorded dumps. Return: 1 when NLMSG_DONE was seen, 0 when more is
 * expected, -errno on an NLMSG_ERROR, an interrupted dump (-EINTR) or a
 * buffer that is not netlink at all (-EBADMSG).
 */
int links_parse(const void *buf, size_t len, struct link_table *out);

/*
 * The same for a recorded RTM_GETSTATS dump (filter IFLA_STATS_LINK_64),
 * as links_read's steady reads ask for it: the links' names are left
 * empty. Return: as links_parse.
 */
int links_parse_stats(const void *buf, size_t len, struct link_table *out);

#endif
