/* test_client_book.c: who was dropped or refused, booked per endpoint, bounded, collected for a listener and stamped on findings. */
#include "base.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_book.h"
#include "finding_text.h"

static struct client_book book;

static void setup(void)
{
	client_book_init(&book);
}

static void teardown(void)
{
	client_book_free(&book);
}

TestSuite(client_book, .init = setup, .fini = teardown);

/* One event of kind from peer:pport to local:lport (both of family), with the listener's cookie. */
static struct drop_event event(enum drop_kind kind, int family, const char *local, uint16_t lport,
			       const char *peer, uint16_t pport, uint64_t cookie)
{
	struct drop_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.family = (uint8_t)family;
	ev.lport = lport;
	ev.pport = pport;
	ev.cookie = cookie;
	cr_assert_eq(inet_pton(family, local, ev.laddr), 1, "%s", local);
	cr_assert_eq(inet_pton(family, peer, ev.paddr), 1, "%s", peer);
	return ev;
}

/* Book n overflow events (ACK drops) from peer at t_ms, t_ms + 1, ... */
static void add_n(enum drop_kind kind, int family, const char *local, uint16_t lport, const char *peer,
		  uint16_t pport, uint64_t cookie, unsigned n, int64_t t_ms)
{
	struct drop_event ev = event(kind, family, local, lport, peer, pport, cookie);

	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(client_book_add(&book, &ev, t_ms + i), 0);
}

static struct listener listener(int family, const char *addr, uint16_t port, uint64_t cookie)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.family = (uint8_t)family;
	l.port = port;
	l.cookie = cookie;
	cr_assert_eq(inet_pton(family, addr, l.addr), 1);
	return l;
}

static struct finding_clients collect(int family, const char *addr, uint16_t port, uint64_t cookie, bool refused,
				      int64_t since_ms)
{
	struct listener l = listener(family, addr, port, cookie);
	struct finding_clients fc;

	memset(&fc, 0xa5, sizeof(fc));
	client_book_collect(&book, &l, refused, since_ms, &fc);
	return fc;
}

static const char *addr_of(const struct finding_client *c)
{
	static char buf[4][64];
	static unsigned k;
	char *b = buf[k++ % 4];

	return endpoint_addr(c->family, c->addr, b, 64);
}

/* ---- booking ---- */

Test(client_book, books_peers_and_orders_the_top_by_count_then_first)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.13", 40003, 0, 3, 1000);
	add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40001, 0, 12, 2000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.12", 40002, 0, 3, 500);
	add_n(DROP_COOKIE_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.14", 40004, 0, 9, 3000);

	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert(fc.known);
	cr_assert_eq(fc.n, 4);
	cr_assert_eq(fc.total, 27);
	cr_assert_eq(fc.peers, 4);
	cr_assert_eq(fc.first_ms, 500);
	cr_assert_eq(fc.last_ms, 3008);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.11");
	cr_assert_eq(fc.top[0].count, 12);
	cr_assert_eq(fc.top[0].port, 40001);
	cr_assert_eq(fc.top[0].first_ms, 2000);
	cr_assert_eq(fc.top[0].last_ms, 2011);
	cr_assert_str_eq(addr_of(&fc.top[1]), "127.0.0.14");
	/* Equal counts: the earlier first drop first. */
	cr_assert_str_eq(addr_of(&fc.top[2]), "127.0.0.12");
	cr_assert_str_eq(addr_of(&fc.top[3]), "127.0.0.13");

	cr_assert_eq(book.count, 1);
	cr_assert_eq(book.items[0].by_kind[DROP_SYN_OVERFLOW], 12);
	cr_assert_eq(book.items[0].by_kind[DROP_ACK_OVERFLOW], 6);
	cr_assert_eq(book.items[0].by_kind[DROP_COOKIE_OVERFLOW], 9);
}

/* A load balancer's thousand connections are one client; the port is its latest. */
Test(client_book, one_peer_across_source_ports)
{
	struct finding_clients fc;

	for (uint16_t p = 0; p < 1000; p++)
		add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "10.0.0.5", (uint16_t)(30000 + p), 0, 1, 100 + p);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.n, 1);
	cr_assert_eq(fc.peers, 1);
	cr_assert_eq(fc.top[0].count, 1000);
	cr_assert_eq(fc.top[0].port, 30999);
	cr_assert_eq(book.items[0].n_peers, 1);
}

Test(client_book, only_the_top_is_named_and_the_totals_cover_every_peer)
{
	char peer[32];
	struct finding_clients fc;

	for (unsigned i = 0; i < 20; i++) {
		snprintf(peer, sizeof(peer), "10.0.1.%u", i + 1);
		add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, peer, 5000, 0, i + 1, 1000);
	}
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.n, FINDING_CLIENTS_MAX);
	cr_assert_eq(fc.peers, 20);
	cr_assert_eq(fc.total, 20 * 21 / 2);
	cr_assert_str_eq(addr_of(&fc.top[0]), "10.0.1.20");
	cr_assert_str_eq(addr_of(&fc.top[FINDING_CLIENTS_MAX - 1]), "10.0.1.13");
	for (size_t i = 1; i < fc.n; i++)
		cr_assert_gt(fc.top[i - 1].count, fc.top[i].count);
}

/* ---- matching ---- */

/* A wildcard takes every local address of its port: the same peer there is one peer. */
Test(client_book, wildcard_merges_a_peer_across_local_addresses)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 5, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.2", 8080, "127.0.0.11", 41000, 0, 4, 900);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.2", 8080, "127.0.0.12", 42000, 0, 2, 5000);
	cr_assert_eq(book.count, 2);

	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 0);
	cr_assert(fc.known);
	cr_assert_eq(fc.n, 2);
	cr_assert_eq(fc.peers, 2);
	cr_assert_eq(fc.total, 11);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.11");
	cr_assert_eq(fc.top[0].count, 9);
	cr_assert_eq(fc.top[0].first_ms, 900);
	cr_assert_eq(fc.top[0].last_ms, 1004);
	/* The latest port: 127.0.0.1's events came last. */
	cr_assert_eq(fc.top[0].port, 40000);
	cr_assert_eq(fc.first_ms, 900);
	cr_assert_eq(fc.last_ms, 5001);

	/* A specific listener takes its own address only: 127.0.0.1 is not 127.0.0.2. */
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 5);
	cr_assert_eq(fc.peers, 1);
	fc = collect(AF_INET, "127.0.0.2", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 6);
	cr_assert_eq(fc.peers, 2);
}

Test(client_book, what_does_not_match)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 5, 1000);

	fc = collect(AF_INET, "127.0.0.2", 8080, 0, false, 0);
	cr_assert_not(fc.known);
	cr_assert_eq(fc.n, 0);
	cr_assert_eq(fc.total, 0);
	cr_assert_eq(fc.peers, 0);
	fc = collect(AF_INET, "127.0.0.1", 8081, 0, false, 0);
	cr_assert_not(fc.known);
	fc = collect(AF_INET, "0.0.0.0", 8081, 0, false, 0);
	cr_assert_not(fc.known);
	/* [::1] is no IPv4 address. */
	fc = collect(AF_INET6, "::1", 8080, 0, false, 0);
	cr_assert_not(fc.known);
	/* An IPv4 wildcard takes no IPv6 packets. */
	client_book_free(&book);
	add_n(DROP_ACK_OVERFLOW, AF_INET6, "::1", 8080, "::1", 40000, 0, 2, 1000);
	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 0);
	cr_assert_not(fc.known);
}

Test(client_book, ipv6_wildcard_takes_ipv4_too)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 3, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET6, "::1", 8080, "::1", 40001, 0, 2, 2000);

	fc = collect(AF_INET6, "::", 8080, 0, false, 0);
	cr_assert(fc.known);
	cr_assert_eq(fc.total, 5);
	cr_assert_eq(fc.peers, 2);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.11");
	cr_assert_str_eq(addr_of(&fc.top[1]), "::1");
	/* An IPv6 socket bound to an IPv4-mapped address takes that IPv4 address. */
	fc = collect(AF_INET6, "::ffff:127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 3);
}

/*
 * Both cookies known: the socket decides. A wildcard beside a specific
 * listener on its port does not take the specific one's drops, but a
 * socket on the very address (a reuseport sibling, a reopened listener) does.
 */
Test(client_book, cookie_match)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 77, 3, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.2", 8080, "127.0.0.12", 40000, 99, 4, 1000);

	fc = collect(AF_INET, "0.0.0.0", 8080, 99, false, 0);
	cr_assert_eq(fc.total, 4);
	cr_assert_eq(fc.peers, 1);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.12");
	/* The cookie wins over the address: the socket took packets to 127.0.0.1 too. */
	fc = collect(AF_INET, "127.0.0.3", 9999, 77, false, 0);
	cr_assert_eq(fc.total, 3);
	fc = collect(AF_INET, "127.0.0.1", 8080, 55, false, 0);
	cr_assert_eq(fc.total, 3);
	/* A listener with no cookie known goes by address. */
	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 7);
	/* An IPv6 wildcard with another cookie does not take an IPv4 listener's drops. */
	fc = collect(AF_INET6, "::", 8080, 55, false, 0);
	cr_assert_not(fc.known);
}

Test(client_book, refused_and_overflow_are_kept_apart)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 3, 1000);
	add_n(DROP_REFUSED, AF_INET, "127.0.0.1", 8080, "127.0.0.21", 40000, 0, 5, 2000);
	add_n(DROP_REFUSED, AF_INET, "127.0.0.1", 8080, "127.0.0.22", 40000, 0, 1, 2500);
	cr_assert_eq(book.count, 2);

	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 3);
	cr_assert_eq(fc.n, 1);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.11");
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, true, 0);
	cr_assert_eq(fc.total, 6);
	cr_assert_eq(fc.peers, 2);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.0.0.21");
	cr_assert_str_eq(addr_of(&fc.top[1]), "127.0.0.22");
}

/* ---- bounds ---- */

Test(client_book, peers_past_the_bound_are_counted_not_named)
{
	char peer[32];
	struct finding_clients fc;
	const struct client_endpoint *ep;

	for (unsigned i = 0; i < CLIENT_BOOK_PEERS_MAX + 1; i++) {
		snprintf(peer, sizeof(peer), "10.1.%u.%u", i / 200, i % 200 + 1);
		add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, peer, 5000, 0, 2, 1000);
	}
	ep = &book.items[0];
	cr_assert_eq(ep->n_peers, CLIENT_BOOK_PEERS_MAX);
	cr_assert_eq(ep->unnamed_peers, 2);
	cr_assert_eq(ep->total, 2 * (CLIENT_BOOK_PEERS_MAX + 1));
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 2 * (CLIENT_BOOK_PEERS_MAX + 1));
	cr_assert_eq(fc.peers, CLIENT_BOOK_PEERS_MAX + 1);
	/* A named peer is still counted when the list is full. */
	add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, "10.1.0.1", 5000, 0, 5, 2000);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_str_eq(addr_of(&fc.top[0]), "10.1.0.1");
	cr_assert_eq(fc.top[0].count, 7);
}

Test(client_book, endpoints_past_the_bound_are_unbooked_and_memory_stays_bounded)
{
	struct finding_clients fc;
	size_t cap;

	for (unsigned i = 0; i < CLIENT_BOOK_ENDPOINTS_MAX; i++)
		add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", (uint16_t)(1000 + i), "127.0.0.11", 40000, 0, 1, 1000);
	cr_assert_eq(book.count, CLIENT_BOOK_ENDPOINTS_MAX);
	cr_assert_eq(book.unbooked, 0);
	cap = book.cap;
	cr_assert_eq(cap, CLIENT_BOOK_ENDPOINTS_MAX);

	/* The 257th endpoint: counted, not booked, and no more memory. */
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 9999, "127.0.0.11", 40000, 0, 3, 2000);
	cr_assert_eq(book.count, CLIENT_BOOK_ENDPOINTS_MAX);
	cr_assert_eq(book.unbooked, 3);
	cr_assert_eq(book.cap, cap);
	fc = collect(AF_INET, "127.0.0.1", 9999, 0, false, 0);
	cr_assert_not(fc.known);
	/* A booked endpoint still counts. */
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 1000, "127.0.0.11", 40000, 0, 1, 2000);
	fc = collect(AF_INET, "127.0.0.1", 1000, 0, false, 0);
	cr_assert_eq(fc.total, 2);
	/* Every endpoint is still found by its key (the table stays sorted). */
	for (unsigned i = 0; i < CLIENT_BOOK_ENDPOINTS_MAX; i += 37) {
		fc = collect(AF_INET, "127.0.0.1", (uint16_t)(1000 + i), 0, false, 0);
		cr_assert(fc.known, "port %u", 1000 + i);
	}
}

/* A port scan draws refused events from every port: it leaves room for the overflow kinds. */
Test(client_book, a_port_scan_leaves_room_for_overflows)
{
	struct finding_clients fc;

	for (unsigned i = 0; i < 2 * CLIENT_BOOK_ENDPOINTS_MAX; i++)
		add_n(DROP_REFUSED, AF_INET, "127.0.0.1", (uint16_t)(1000 + i), "10.9.9.9", 40000, 0, 1, 1000);
	cr_assert_lt(book.count, CLIENT_BOOK_ENDPOINTS_MAX);
	cr_assert_gt(book.unbooked, 0);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 4, 2000);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 4);
}

Test(client_book, an_event_of_no_known_kind_or_family_is_unbooked)
{
	struct drop_event ev = event(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 1, 0);

	ev.kind = (enum drop_kind)9;
	cr_assert_eq(client_book_add(&book, &ev, 1000), 0);
	ev.kind = DROP_ACK_OVERFLOW;
	ev.family = 99;
	cr_assert_eq(client_book_add(&book, &ev, 1000), 0);
	cr_assert_eq(book.count, 0);
	cr_assert_eq(book.unbooked, 2);
}

/* An IPv4 event's unused address bytes do not make a second endpoint or peer. */
Test(client_book, ipv4_tail_bytes_are_ignored)
{
	struct drop_event ev = event(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 1, 0);

	cr_assert_eq(client_book_add(&book, &ev, 1000), 0);
	ev.laddr[9] = 7;
	ev.paddr[15] = 3;
	cr_assert_eq(client_book_add(&book, &ev, 1001), 0);
	cr_assert_eq(book.count, 1);
	cr_assert_eq(book.items[0].n_peers, 1);
	cr_assert_eq(book.items[0].peers[0].count, 2);
}

/* ---- time ---- */

Test(client_book, expire_forgets_endpoints_by_their_last_event)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 2, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8081, "127.0.0.11", 40000, 0, 2, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8081, "127.0.0.12", 40000, 0, 1, 9000);
	add_n(DROP_REFUSED, AF_INET, "127.0.0.1", 8082, "127.0.0.11", 40000, 0, 1, 5000);

	client_book_expire(&book, 5000, 5000);
	cr_assert_eq(book.count, 2);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_not(fc.known);
	/* An endpoint with a recent event keeps all of its peers. */
	fc = collect(AF_INET, "127.0.0.1", 8081, 0, false, 0);
	cr_assert_eq(fc.total, 3);
	fc = collect(AF_INET, "127.0.0.1", 8082, 0, true, 0);
	cr_assert_eq(fc.total, 1);
	/* A booking after expiry finds its place again. */
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.13", 40000, 0, 1, 9500);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_eq(fc.total, 1);
	client_book_expire(&book, 100000, 100000);
	cr_assert_eq(book.count, 0);
}

/* An overflow's book lasts its episode (the quiet period), a gap's refusals as long as gaps are remembered. */
Test(client_book, expire_keeps_refusals_longer_than_overflows)
{
	struct finding_clients fc;

	add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 2, 1000);
	add_n(DROP_REFUSED, AF_INET, "127.0.0.1", 8080, "127.0.0.12", 40000, 0, 1, 1000);
	client_book_expire(&book, 2000, 500);
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, false, 0);
	cr_assert_not(fc.known, "the overflow's episode is over: a new one starts its own book");
	fc = collect(AF_INET, "127.0.0.1", 8080, 0, true, 0);
	cr_assert(fc.known);
	cr_assert_eq(fc.total, 1);
}

Test(client_book, since_ms_leaves_out_endpoints_quiet_since)
{
	struct finding_clients fc;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 2, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.2", 8080, "127.0.0.12", 40000, 0, 3, 5000);

	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 4000);
	cr_assert_eq(fc.total, 3);
	cr_assert_eq(fc.n, 1);
	cr_assert_eq(fc.first_ms, 5000);
	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 5002);
	cr_assert(fc.known);
	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 5003);
	cr_assert_not(fc.known);
}

/* ---- stamping findings ---- */

static struct finding *add_finding(struct finding_list *fl, enum cause c, const char *key, uint64_t cookie)
{
	struct finding *f;

	fl->items = realloc(fl->items, (fl->count + 1) * sizeof(*fl->items));
	cr_assert_not_null(fl->items);
	f = &fl->items[fl->count++];
	memset(f, 0, sizeof(*f));
	f->cause = c;
	f->underlying = c;
	f->scope = cause_info(c)->scope;
	f->cookie = cookie;
	snprintf(f->listener, sizeof(f->listener), "%s", key);
	return f;
}

Test(client_book, stamp_gives_each_family_its_clients)
{
	struct finding_list fl = { 0 };

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 300, 12, 1000);
	add_n(DROP_SYN_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.12", 40000, 0, 9, 1000);
	add_n(DROP_REFUSED, AF_INET, "127.0.0.1", 9090, "127.0.0.21", 40000, 0, 4, 3000);
	add_n(DROP_REFUSED, AF_INET6, "::1", 9090, "::1", 40000, 0, 2, 3000);
	add_n(DROP_ACK_OVERFLOW, AF_INET6, "::1", 443, "::1", 40000, 0, 6, 1000);

	add_finding(&fl, CAUSE_BACKLOG_SMALL, "0.0.0.0:8080", 300);
	add_finding(&fl, CAUSE_OVERFLOW_RESET, "127.0.0.1:8080", 0);
	/* The gap's new listener has a cookie that refused packets never carry. */
	add_finding(&fl, CAUSE_LISTENER_GAP, "[::]:9090", 555);
	add_finding(&fl, CAUSE_SLOW_ACCEPT, "[::1]:443", 0);
	add_finding(&fl, CAUSE_SYN_FLOOD, "127.0.0.1:8080", 300);
	add_finding(&fl, CAUSE_REUSEPORT_IMBALANCE, "127.0.0.1:8080", 300);
	add_finding(&fl, CAUSE_TCP_MEMORY, "host", 0);
	add_finding(&fl, CAUSE_BACKLOG_CLAMPED, "not a key", 0)->clients.known = true;
	add_finding(&fl, CAUSE_BACKLOG_CLAMPED, "127.0.0.1:8081", 0);

	client_book_stamp(&book, &fl, 0, 0);

	cr_assert(fl.items[0].clients.known);
	cr_assert_eq(fl.items[0].clients.total, 21);
	cr_assert_eq(fl.items[0].clients.peers, 2);
	cr_assert_str_eq(addr_of(&fl.items[0].clients.top[0]), "127.0.0.11");
	cr_assert_eq(fl.items[0].clients.top[0].count, 12);
	cr_assert_eq(fl.items[1].clients.total, 21);

	cr_assert(fl.items[2].clients.known);
	cr_assert_eq(fl.items[2].clients.total, 6);
	cr_assert_eq(fl.items[2].clients.peers, 2);
	cr_assert_str_eq(addr_of(&fl.items[2].clients.top[0]), "127.0.0.21");

	cr_assert_eq(fl.items[3].clients.total, 6);
	cr_assert_str_eq(addr_of(&fl.items[3].clients.top[0]), "::1");

	/* Not the accept-queue family nor a gap: untouched. */
	for (size_t i = 4; i < 7; i++)
		cr_assert_not(fl.items[i].clients.known, "%s", fl.items[i].listener);
	cr_assert_not(fl.items[7].clients.known);
	cr_assert_not(fl.items[8].clients.known);

	/* The since times: the overflow ones were before 2000, the refused ones after. */
	client_book_stamp(&book, &fl, 2000, 2000);
	cr_assert_not(fl.items[0].clients.known);
	cr_assert(fl.items[2].clients.known);
	client_book_stamp(NULL, &fl, 0, 0);
	cr_assert(fl.items[2].clients.known);
	free(fl.items);
}

/* ---- the journal's line (BACKLOGD_CLIENTS) ---- */

Test(client_book, clients_words_for_the_journal)
{
	struct finding_list fl = { 0 };
	char line[FINDING_CLIENTS_WORDS_MAX];
	struct finding *f;

	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.11", 40000, 0, 12, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.12", 40000, 0, 9, 1000);
	add_n(DROP_ACK_OVERFLOW, AF_INET, "127.0.0.1", 8080, "127.0.0.13", 40000, 0, 4, 1000);
	add_n(DROP_REFUSED, AF_INET6, "::1", 9090, "::1", 40000, 0, 1, 1000);
	add_finding(&fl, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080", 0);
	add_finding(&fl, CAUSE_LISTENER_GAP, "[::1]:9090", 0);
	add_finding(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8081", 0);
	client_book_stamp(&book, &fl, 0, 0);

	finding_clients_words(&fl.items[0], line, sizeof(line));
	cr_assert_str_eq(line, "127.0.0.11 (12 drops), 127.0.0.12 (9 drops), 127.0.0.13 (4 drops); 25 drops from 3 peers");
	finding_clients_words(&fl.items[1], line, sizeof(line));
	cr_assert_str_eq(line, "::1 (1 refused); 1 refused from 1 peer");
	/* Not known: nothing to say. */
	memset(line, 'x', sizeof(line));
	finding_clients_words(&fl.items[2], line, sizeof(line));
	cr_assert_str_eq(line, "");

	/* A count past the named peers, and one drop. */
	f = &fl.items[0];
	f->clients.n = 1;
	f->clients.top[0].count = 1;
	f->clients.total = 900;
	f->clients.peers = 65;
	finding_clients_words(f, line, sizeof(line));
	cr_assert_str_eq(line, "127.0.0.11 (1 drop); 900 drops from 65 peers");
	/* Cut, never overrun. */
	finding_clients_words(f, line, 12);
	cr_assert_str_eq(line, "127.0.0.11 ");
	free(fl.items);
}

/* The longest line there can be fits whole. */
Test(client_book, clients_words_fit_their_room)
{
	struct finding f;
	char line[FINDING_CLIENTS_WORDS_MAX + 1];

	memset(&f, 0, sizeof(f));
	f.cause = CAUSE_LISTENER_GAP;
	f.clients.known = true;
	f.clients.n = FINDING_CLIENTS_MAX;
	for (size_t i = 0; i < FINDING_CLIENTS_MAX; i++) {
		f.clients.top[i].family = AF_INET6;
		memset(f.clients.top[i].addr, 0xfe, 16);
		f.clients.top[i].count = UINT64_MAX;
	}
	f.clients.total = UINT64_MAX;
	f.clients.peers = UINT64_MAX;
	finding_clients_words(&f, line, sizeof(line));
	cr_assert_lt(strlen(line), FINDING_CLIENTS_WORDS_MAX - 1, "%zu", strlen(line));
	cr_assert(strstr(line, " from 18446744073709551615 peers") != NULL, "%s", line);
}

/*
 * A wildcard listener reached at 40 local addresses, 64 peers each: only
 * the 16 busiest endpoints are merged (the merge is quadratic), the totals
 * still count every drop, and the busiest peer is named.
 */
Test(client_book, a_wildcard_merges_only_its_busiest_endpoints)
{
	struct finding_clients fc;
	char local[32], peer[32];
	uint64_t total = 0;

	for (unsigned e = 0; e < 40; e++) {
		snprintf(local, sizeof(local), "127.0.1.%u", e + 1);
		for (unsigned p = 0; p < CLIENT_BOOK_PEERS_MAX; p++) {
			snprintf(peer, sizeof(peer), "127.1.%u.%u", e, p + 1);
			/* Endpoint 39 is the busiest, and its first peer the busiest of all. */
			add_n(DROP_SYN_OVERFLOW, AF_INET, local, 8080, peer, 40000, 0, e == 39 && p == 0 ? 50 : 1, 1000);
			total += e == 39 && p == 0 ? 50 : 1;
		}
	}
	fc = collect(AF_INET, "0.0.0.0", 8080, 0, false, 0);
	cr_assert(fc.known);
	cr_assert_eq(fc.total, total);
	cr_assert_eq(fc.peers, (uint64_t)CLIENT_BOOK_MERGE_MAX * CLIENT_BOOK_PEERS_MAX);
	cr_assert_str_eq(addr_of(&fc.top[0]), "127.1.39.1");
	cr_assert_eq(fc.top[0].count, 50);
}
