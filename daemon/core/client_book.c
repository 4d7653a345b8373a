/* client_book.c: who was dropped or refused at each local endpoint of one namespace, bounded, and the clients of a finding. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_book.h"

/*
 * Refused endpoints may fill only this much of the table: a port scan
 * draws a RST from every closed port, and must not leave the overflow
 * kinds, the ones a finding is about most often, without room.
 */
#define CLIENT_BOOK_REFUSED_MAX (CLIENT_BOOK_ENDPOINTS_MAX * 3 / 4)
/* The first allocation; doubled up to CLIENT_BOOK_ENDPOINTS_MAX. */
#define CLIENT_BOOK_MIN_CAP 4

void client_book_init(struct client_book *b)
{
	memset(b, 0, sizeof(*b));
}

void client_book_free(struct client_book *b)
{
	free(b->items);
	client_book_init(b);
}

/* The endpoint key's order: refused, family, address, port. The table is kept sorted by it. */
static int key_cmp(bool refused, uint8_t family, const uint8_t laddr[16], uint16_t lport,
		   const struct client_endpoint *ep)
{
	int c;

	if (refused != ep->refused)
		return refused ? 1 : -1;
	if (family != ep->family)
		return family < ep->family ? -1 : 1;
	c = memcmp(laddr, ep->laddr, sizeof(ep->laddr));
	if (c)
		return c;
	return lport < ep->lport ? -1 : lport > ep->lport ? 1 : 0;
}

/*
 * Binary search: a drop storm of ~100k events a second looks its endpoint
 * up for each one. Return: true and *at when found; else false and *at
 * where it would go.
 */
static bool find_endpoint(const struct client_book *b, bool refused, uint8_t family, const uint8_t laddr[16],
			  uint16_t lport, size_t *at)
{
	size_t lo = 0, hi = b->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(refused, family, laddr, lport, &b->items[mid]);

		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return false;
}

/* The refused endpoints sort last: find where they start, for a port scan asks on every event. */
static size_t count_refused(const struct client_book *b)
{
	size_t lo = 0, hi = b->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->items[mid].refused)
			hi = mid;
		else
			lo = mid + 1;
	}
	return b->count - lo;
}

/* Room for one more endpoint, growing up to the bound. Return: 0, -ENOSPC (full) or -ENOMEM. */
static int endpoint_room(struct client_book *b, bool refused)
{
	size_t cap;
	struct client_endpoint *n;

	if (b->count >= CLIENT_BOOK_ENDPOINTS_MAX || (refused && count_refused(b) >= CLIENT_BOOK_REFUSED_MAX))
		return -ENOSPC;
	if (b->count < b->cap)
		return 0;
	cap = b->cap ? b->cap * 2 : CLIENT_BOOK_MIN_CAP;
	if (cap > CLIENT_BOOK_ENDPOINTS_MAX)
		cap = CLIENT_BOOK_ENDPOINTS_MAX;
	n = realloc(b->items, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	b->items = n;
	b->cap = cap;
	return 0;
}

/* Count ev against peer p (which may be new) at wall_ms. */
static void count_peer(struct client_peer *p, const struct drop_event *ev, int64_t wall_ms)
{
	if (p->count == 0 || wall_ms >= p->last_ms) {
		p->port = ev->pport;
		p->last_ms = wall_ms;
	}
	if (p->count == 0 || wall_ms < p->first_ms)
		p->first_ms = wall_ms;
	p->count++;
}

/*
 * Peers are keyed by address, not port: a load balancer opening a thousand
 * connections is one client, and its port would only spread it over the
 * table. A linear scan over at most CLIENT_BOOK_PEERS_MAX is cheap.
 */
static void book_peer(struct client_endpoint *ep, const struct drop_event *ev, int64_t wall_ms)
{
	size_t alen = addr_len(ev->family);
	struct client_peer *p;

	for (size_t i = 0; i < ep->n_peers; i++) {
		p = &ep->peers[i];
		if (p->family == ev->family && memcmp(p->addr, ev->paddr, alen) == 0) {
			count_peer(p, ev, wall_ms);
			return;
		}
	}
	if (ep->n_peers == CLIENT_BOOK_PEERS_MAX) {
		ep->unnamed_peers++;
		return;
	}
	p = &ep->peers[ep->n_peers++];
	memset(p, 0, sizeof(*p));
	p->family = ev->family;
	memcpy(p->addr, ev->paddr, alen);
	count_peer(p, ev, wall_ms);
}

int client_book_add(struct client_book *b, const struct drop_event *ev, int64_t wall_ms)
{
	bool refused = ev->kind == DROP_REFUSED;
	uint8_t laddr[16] = { 0 };
	struct client_endpoint *ep;
	size_t at;
	int rc;

	/* drop_event_decode refuses these; a hand-made event must not index by_kind out of bounds. */
	if (ev->kind < DROP_SYN_OVERFLOW || ev->kind > DROP_REFUSED ||
	    (ev->family != AF_INET && ev->family != AF_INET6)) {
		b->unbooked++;
		return 0;
	}
	/* Only the bytes of the family: an IPv4 event's tail must not make a second endpoint. */
	memcpy(laddr, ev->laddr, addr_len(ev->family));
	if (!find_endpoint(b, refused, ev->family, laddr, ev->lport, &at)) {
		rc = endpoint_room(b, refused);
		if (rc < 0) {
			b->unbooked++;
			return rc == -ENOMEM ? rc : 0;
		}
		memmove(&b->items[at + 1], &b->items[at], (b->count - at) * sizeof(*b->items));
		b->count++;
		ep = &b->items[at];
		memset(ep, 0, sizeof(*ep));
		ep->refused = refused;
		ep->family = ev->family;
		memcpy(ep->laddr, laddr, sizeof(ep->laddr));
		ep->lport = ev->lport;
		ep->first_ms = wall_ms;
		ep->last_ms = wall_ms;
	}
	ep = &b->items[at];
	if (ev->cookie)
		ep->cookie = ev->cookie;
	if (wall_ms < ep->first_ms)
		ep->first_ms = wall_ms;
	if (wall_ms > ep->last_ms)
		ep->last_ms = wall_ms;
	ep->total++;
	ep->by_kind[ev->kind]++;
	book_peer(ep, ev, wall_ms);
	return 0;
}

void client_book_expire(struct client_book *b, int64_t overflow_before_ms, int64_t refused_before_ms)
{
	size_t k = 0;

	for (size_t i = 0; i < b->count; i++) {
		if (b->items[i].last_ms < (b->items[i].refused ? refused_before_ms : overflow_before_ms))
			continue;
		if (k != i)
			b->items[k] = b->items[i];
		k++;
	}
	b->count = k;
}

/* ---- collect ---- */

/*
 * An address as the packets carry it: an IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1, an IPv6 socket taking IPv4) is the IPv4 one.
 */
static void plain_addr(uint8_t family, const uint8_t addr[16], uint8_t *out_family, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		*out_family = AF_INET;
		memcpy(out, addr + 12, 4);
		return;
	}
	*out_family = family;
	memcpy(out, addr, addr_len(family));
}

static bool same_address(uint8_t fa, const uint8_t a[16], uint8_t fb, const uint8_t b[16])
{
	uint8_t pa[16], pb[16], fpa, fpb;

	plain_addr(fa, a, &fpa, pa);
	plain_addr(fb, b, &fpb, pb);
	return fpa == fpb && memcmp(pa, pb, 16) == 0;
}

/*
 * Whether ep's packets went to l. Both cookies known: the same socket, or
 * the very same address and port (an SO_REUSEPORT sibling, or a listener
 * reopened there); a wildcard must not take the packets of a specific
 * listener beside it, nor :: those of 0.0.0.0. Otherwise by port, and a
 * wildcard of a compatible family (:: takes IPv4 too) or the same address.
 */
static bool endpoint_matches(const struct client_endpoint *ep, const struct listener *l)
{
	bool same_ep = ep->lport == l->port && same_address(ep->family, ep->laddr, l->family, l->addr);

	if (ep->cookie && l->cookie)
		return ep->cookie == l->cookie || same_ep;
	if (ep->lport != l->port)
		return false;
	if (listener_is_wildcard(l))
		return l->family == AF_INET6 || ep->family == l->family;
	return same_ep;
}

/* The busiest first: count, then the earliest, then the address so that the order is stable. */
static bool busier(const struct finding_client *a, const struct finding_client *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	if (a->first_ms != b->first_ms)
		return a->first_ms < b->first_ms;
	if (a->family != b->family)
		return a->family < b->family;
	return memcmp(a->addr, b->addr, sizeof(a->addr)) < 0;
}

static void top_insert(struct finding_clients *out, const struct finding_client *c)
{
	size_t at = out->n;

	while (at > 0 && busier(c, &out->top[at - 1]))
		at--;
	if (at >= FINDING_CLIENTS_MAX)
		return;
	if (out->n == FINDING_CLIENTS_MAX)
		out->n--;
	memmove(&out->top[at + 1], &out->top[at], (out->n - at) * sizeof(out->top[0]));
	out->top[at] = *c;
	out->n++;
}

/* Return: the peer of ep with p's address, or NULL. */
static const struct client_peer *peer_of(const struct client_endpoint *ep, const struct client_peer *p)
{
	for (size_t i = 0; i < ep->n_peers; i++)
		if (ep->peers[i].family == p->family &&
		    memcmp(ep->peers[i].addr, p->addr, sizeof(p->addr)) == 0)
			return &ep->peers[i];
	return NULL;
}

static void merge_peer(struct finding_client *c, const struct client_peer *p)
{
	if (p->last_ms >= c->last_ms) {
		c->port = p->port;
		c->last_ms = p->last_ms;
	}
	if (p->first_ms < c->first_ms)
		c->first_ms = p->first_ms;
	c->count += p->count;
}

/*
 * Merge the peers of the matching endpoints by address into the top and
 * return how many distinct ones there are. A peer is counted at its first
 * matching endpoint, with what the later ones hold of it. Quadratic in the
 * matching endpoints' peers, but a listener matches one endpoint, or one
 * per local address of a wildcard's port.
 */
static uint64_t merge_peers(const struct client_book *b, const bool *matched, struct finding_clients *out)
{
	uint64_t distinct = 0;

	for (size_t j = 0; j < b->count; j++) {
		const struct client_endpoint *ep = &b->items[j];

		for (size_t i = 0; matched[j] && i < ep->n_peers; i++) {
			const struct client_peer *p = &ep->peers[i];
			struct finding_client c = { .family = p->family, .port = p->port, .count = p->count,
						    .first_ms = p->first_ms, .last_ms = p->last_ms };
			bool earlier = false;

			for (size_t k = 0; k < j && !earlier; k++)
				earlier = matched[k] && peer_of(&b->items[k], p);
			if (earlier)
				continue;
			memcpy(c.addr, p->addr, sizeof(c.addr));
			for (size_t k = j + 1; k < b->count; k++) {
				const struct client_peer *q = matched[k] ? peer_of(&b->items[k], p) : NULL;

				if (q)
					merge_peer(&c, q);
			}
			distinct++;
			top_insert(out, &c);
		}
	}
	return distinct;
}

/*
 * Only the CLIENT_BOOK_MERGE_MAX busiest matching endpoints have their peers
 * merged: a wildcard listener's port reached at hundreds of local
 * addresses (any local user can connect to 127.x.y.z) would make the
 * quadratic merge cost a tick. The others still count in the totals.
 */
static void keep_busiest(const struct client_book *b, bool *matched, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += matched[i];
	while (count > CLIENT_BOOK_MERGE_MAX) {
		size_t least = n;

		for (size_t i = 0; i < n; i++)
			if (matched[i] && (least == n || b->items[i].total < b->items[least].total))
				least = i;
		matched[least] = false;
		count--;
	}
}

void client_book_collect(const struct client_book *b, const struct listener *l, bool refused,
			 int64_t since_ms, struct finding_clients *out)
{
	bool matched[CLIENT_BOOK_ENDPOINTS_MAX] = { false };
	uint64_t one_endpoint = 0;
	size_t n = b->count < CLIENT_BOOK_ENDPOINTS_MAX ? b->count : CLIENT_BOOK_ENDPOINTS_MAX;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct client_endpoint *ep = &b->items[i];
		uint64_t named;

		if (ep->refused != refused || ep->last_ms < since_ms || !endpoint_matches(ep, l))
			continue;
		matched[i] = true;
		if (!out->known || ep->first_ms < out->first_ms)
			out->first_ms = ep->first_ms;
		if (!out->known || ep->last_ms > out->last_ms)
			out->last_ms = ep->last_ms;
		out->known = true;
		out->total += ep->total;
		/* Events past the peer list came from at least one peer it does not name. */
		named = ep->n_peers + (ep->unnamed_peers > 0 ? 1 : 0);
		if (named > one_endpoint)
			one_endpoint = named;
	}
	if (!out->known)
		return;
	keep_busiest(b, matched, n);
	out->peers = merge_peers(b, matched, out);
	/* A lower bound: the unnamed peers of one endpoint may be named at another. */
	if (one_endpoint > out->peers)
		out->peers = one_endpoint;
}

/* ---- stamping findings ---- */

/* "127.0.0.1:8080" or "[::1]:443", as listener_name writes it, into l (family, addr, port). */
static bool listener_from_key(const char *key, size_t max, struct listener *l)
{
	char addr[INET6_ADDRSTRLEN + 1];
	size_t len = strnlen(key, max), alen;
	const char *colon, *p;
	unsigned long port = 0;

	memset(l, 0, sizeof(*l));
	colon = memrchr(key, ':', len);
	if (!colon || colon == key || colon + 1 == key + len)
		return false;
	for (p = colon + 1; p < key + len; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port == 0 || port > 65535)
		return false;
	if (key[0] == '[') {
		if (colon[-1] != ']')
			return false;
		key++;
		alen = (size_t)(colon - 1 - key);
		l->family = AF_INET6;
	} else {
		alen = (size_t)(colon - key);
		l->family = AF_INET;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, key, alen);
	addr[alen] = '\0';
	l->port = (uint16_t)port;
	return inet_pton(l->family, addr, l->addr) == 1;
}

void client_book_stamp(const struct client_book *b, struct finding_list *firing, int64_t overflow_since_ms,
		       int64_t refused_since_ms)
{
	for (size_t i = 0; b && firing && i < firing->count; i++) {
		struct finding *f = &firing->items[i];
		bool refused = f->cause == CAUSE_LISTENER_GAP;
		struct listener l;

		if (f->scope != SCOPE_LISTENER || (!refused && cause_family(f->cause) != FAMILY_ACCEPT_QUEUE))
			continue;
		if (!listener_from_key(f->listener, sizeof(f->listener), &l)) {
			memset(&f->clients, 0, sizeof(f->clients));
			continue;
		}
		/*
		 * A refused SYN found no socket, so its event has no cookie; the
		 * gap's finding may carry the new listener's, which must not
		 * narrow the match.
		 */
		l.cookie = refused ? 0 : f->cookie;
		client_book_collect(b, &l, refused, refused ? refused_since_ms : overflow_since_ms, &f->clients);
	}
}
