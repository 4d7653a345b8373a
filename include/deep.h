/* deep.h: the deep sock_diag tier: one walk of the established hash for SYN_RECV
 * counts per listener, sockets per remote destination, and the top memory holders.
 * It costs in proportion to every connection on the host, so it runs only when a
 * cheap signal asks for it, or every N ticks. */
#ifndef BACKLOGD_DEEP_H
#define BACKLOGD_DEEP_H

#include <stddef.h>
#include <stdint.h>

#define DEEP_TOP_DESTS 16
#define DEEP_TOP_HOLDERS 10

/* SYN_RECV request sockets counted per local address:port (request sockets
 * carry no pointer to their listener: an SO_REUSEPORT group is one entry). */
struct synrecv_count {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	uint32_t count;
};

/* Sockets towards one remote address:port, by state. */
struct dest_count {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	uint32_t total;
	uint32_t established;
	uint32_t time_wait;
	uint32_t syn_sent;
	uint32_t other;
	uint32_t in_port_range;  /* of total, how many have a local port in ip_local_port_range */
};

/* One socket holding memory: unread (rqueue) and unsent (wqueue) bytes. */
struct mem_holder {
	uint8_t family;
	uint8_t state;           /* TCP_ESTABLISHED, TCP_CLOSE_WAIT, ... */
	uint16_t lport;
	uint16_t rport;
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint32_t rqueue;         /* bytes received, not read by the application */
	uint32_t wqueue;         /* bytes not yet acknowledged by the peer */
	uint32_t inode;          /* 0 for orphans */
	uint64_t cookie;
	int pid;                 /* filled by the caller from procmap; 0 unknown */
	char comm[16];
};

struct deep_sample {
	struct synrecv_count *synrecv;   /* sorted by (family, addr, port) */
	size_t n_synrecv;
	size_t cap_synrecv;
	struct dest_count dests[DEEP_TOP_DESTS];    /* the destinations with most sockets, descending */
	size_t n_dests;
	struct mem_holder holders[DEEP_TOP_HOLDERS]; /* most unread (rqueue) first, then most unsent (wqueue) */
	size_t n_holders;
	uint32_t sockets_seen;   /* every socket the walk returned */
	unsigned skipped;        /* malformed entries */
	int64_t port_lo;         /* the ip_local_port_range used for in_port_range, -1 unknown */
	int64_t port_hi;
	/* Working state of the destination tally (a hash table); not for readers. */
	void *priv;
};

void deep_sample_init(struct deep_sample *ds);
/* Forget the previous results, keep the allocations. port_lo/hi: for in_port_range. */
void deep_sample_reset(struct deep_sample *ds, int64_t port_lo, int64_t port_hi);
void deep_sample_free(struct deep_sample *ds);

/*
 * Fold a buffer of inet_diag messages (any states) into ds, as received.
 * For tests fed with recorded dumps; deep_sample_finish must follow.
 * Return: 1 on NLMSG_DONE, 0 when more is expected, -errno.
 */
int deep_parse(const void *buf, size_t len, struct deep_sample *ds);
/* Select the top destinations once every buffer is folded in. */
void deep_sample_finish(struct deep_sample *ds);

/*
 * After deep_sample_finish: free the dump's working state (the set of every
 * socket seen, the tally of every destination) when it holds more than
 * max_bytes. The results stay; the next dump allocates afresh.
 * Return: the bytes freed.
 */
size_t deep_sample_trim(struct deep_sample *ds, size_t max_bytes);

struct sockdiag;
/*
 * Dump every TCP socket but the listeners (IPv4 and IPv6) into ds (reset
 * first with the given port range) and finish it. Return: 0 or -errno.
 */
int sockdiag_dump_deep(struct sockdiag *sd, struct deep_sample *ds, int64_t port_lo, int64_t port_hi);

#endif
