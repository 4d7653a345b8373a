/*
 * client_book.h: who was dropped or refused at each local endpoint of one
 * network namespace, from the eBPF tier's events. Pure and bounded: a
 * hostile flood of distinct peers or ports costs a fixed amount of memory.
 */
#ifndef BACKLOGD_CLIENT_BOOK_H
#define BACKLOGD_CLIENT_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diagnose.h"
#include "drop_event.h"
#include "listener.h"

/* Named peers per endpoint; more peers are counted, not named. */
#define CLIENT_BOOK_PEERS_MAX 64
/* Endpoints (kind class, local address, port) per namespace; past it, events are counted as unbooked. */
#define CLIENT_BOOK_ENDPOINTS_MAX 256

/* Matching endpoints whose peers one collect merges by address, the busiest; the rest count in the totals. */
#define CLIENT_BOOK_MERGE_MAX 16

struct client_peer {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;             /* latest source port */
	uint64_t count;
	int64_t first_ms, last_ms; /* wall clock, milliseconds */
};

struct client_endpoint {
	bool refused;              /* DROP_REFUSED events; else the overflow kinds */
	uint64_t cookie;           /* the listener's cookie from the latest event that had one; 0 none */
	uint8_t family;
	uint8_t laddr[16];         /* the packets' local address */
	uint16_t lport;
	struct client_peer peers[CLIENT_BOOK_PEERS_MAX];
	size_t n_peers;
	uint64_t total;            /* every packet, named peer or not */
	uint64_t unnamed_peers;    /* events from peers that found the peer list full */
	uint64_t by_kind[DROP_REFUSED + 1];
	int64_t first_ms, last_ms;
};

struct client_book {
	struct client_endpoint *items;  /* allocated on first use, at most CLIENT_BOOK_ENDPOINTS_MAX */
	size_t count;
	size_t cap;
	uint64_t unbooked;         /* events that found the endpoint table full */
};

void client_book_init(struct client_book *b);
void client_book_free(struct client_book *b);

/*
 * Book one event at wall-clock time wall_ms (the caller converts the
 * event's monotonic time). Return: 0, or -ENOMEM (the event is counted
 * in unbooked; the book stays consistent).
 */
int client_book_add(struct client_book *b, const struct drop_event *ev, int64_t wall_ms);

/*
 * The peers booked for listener l: overflow kinds when refused is false,
 * else DROP_REFUSED; only endpoints whose last event is at or after
 * since_ms. An endpoint matches l when its cookie is l's (both non-zero;
 * two different cookies match only on the very same address and port, so
 * that a wildcard does not take the packets of a specific listener beside
 * it), or else when its port is l's and l is a wildcard of a compatible family
 * (:: takes IPv4 too) or has the same address. Peers of several matching
 * endpoints are merged by address. out->top holds the busiest, count
 * first, then the earliest first_ms; out->known is true when anything matched.
 */
void client_book_collect(const struct client_book *b, const struct listener *l, bool refused,
			 int64_t since_ms, struct finding_clients *out);

/*
 * Forget the overflow endpoints whose last event is before
 * overflow_before_ms, and the refused ones before refused_before_ms: an
 * overflow's book lasts its episode, a gap's refusals as long as the gap is
 * remembered.
 */
void client_book_expire(struct client_book *b, int64_t overflow_before_ms, int64_t refused_before_ms);

/*
 * Stamp the clients of this tick's firing findings, before findings_update:
 * each accept-queue finding (backlog-small, backlog-clamped, slow-accept,
 * overflow-reset) with the overflow kinds booked since overflow_since_ms,
 * each listener-gap finding with the refused ones since refused_since_ms.
 * The listener comes from the finding alone (its key "127.0.0.1:8080" and,
 * for the overflow kinds, its cookie): a gap's listener is gone from the
 * dump. Other findings are left as they are; b NULL (no tier) changes nothing.
 */
void client_book_stamp(const struct client_book *b, struct finding_list *firing, int64_t overflow_since_ms,
		       int64_t refused_since_ms);

#endif
