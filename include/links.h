/* links.h: per-interface receive drops from rtnetlink, through libnl-route-3's link cache. */
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

/* Return: 0 or -errno. */
int links_open(struct links **out);
void links_close(struct links *lk);
/* Refill the cache and copy every link's counters into out. Return: 0 or -errno. */
int links_read(struct links *lk, struct link_table *out);

#endif
