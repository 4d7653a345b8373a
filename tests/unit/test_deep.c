/* test_deep.c: the deep sock_diag tier on recorded dumps, damaged and synthetic ones, and live in a private netns. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>	/* before compat.h: its TCP_LISTEN fallback would break this enum */
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <criterion/criterion.h>
#include <libmnl/libmnl.h>

#include "compat.h"
#include "deep.h"
#include "listener.h"
#include "sockdiag.h"
#include "netns_fixture.h"
#include "buf_fixture.h"

#define FIXDIR FIXTURES "/deep/"

#define HDR ((size_t)MNL_NLMSG_HDRLEN)
#define DIAG (sizeof(struct inet_diag_msg))
/* The port range of a fresh namespace, the one the fixtures were recorded with. */
#define RANGE_LO 32768
#define RANGE_HI 60999
#define MIB (1U << 20)

/* Every fixture of this file is under FIXDIR. */
static struct buf load(const char *name)
{
	return buf_load(FIXDIR, name);
}

static size_t attr_off(const struct buf *m, uint16_t type)
{
	return attr_off_from(m, HDR + DIAG, type);
}

/* Index of the first entry whose state and local or remote port match (0 = any). */
static unsigned find_msg(const struct buf *b, uint8_t state, uint16_t sport, uint16_t dport, uint32_t min_rq)
{
	size_t off = 0;

	for (unsigned i = 0; off + HDR + DIAG <= b->len; i++) {
		struct inet_diag_msg m;

		memcpy(&m, b->p + off + HDR, sizeof(m));
		if (get16(b->p + off + 4) == SOCK_DIAG_BY_FAMILY && m.idiag_state == state &&
		    (!sport || ntohs(m.id.idiag_sport) == sport) &&
		    (!dport || ntohs(m.id.idiag_dport) == dport) && m.idiag_rqueue >= min_rq)
			return i;
		off += MNL_ALIGN(get32(b->p + off));
	}
	cr_assert_fail("no entry in state %u", state);
	return 0;
}

static void ip(int family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	cr_assert_eq(inet_pton(family, s, out), 1, "address %s", s);
}

static const struct dest_count *find_dest(const struct deep_sample *ds, int family, const char *addr, uint16_t port)
{
	uint8_t a[16];

	ip(family, addr, a);
	for (size_t i = 0; i < ds->n_dests; i++)
		if (ds->dests[i].family == family && ds->dests[i].port == port &&
		    memcmp(ds->dests[i].addr, a, 16) == 0)
			return &ds->dests[i];
	return NULL;
}

static const struct dest_count *must_dest(const struct deep_sample *ds, int family, const char *addr, uint16_t port)
{
	const struct dest_count *d = find_dest(ds, family, addr, port);

	cr_assert(d, "no destination %s:%u in the top %zu", addr, port, ds->n_dests);
	return d;
}

static void assert_dest(const struct dest_count *d, uint32_t total, uint32_t est, uint32_t tw,
			uint32_t syn_sent, uint32_t other, uint32_t in_range)
{
	cr_assert_eq(d->total, total, "total %u, want %u (port %u)", d->total, total, d->port);
	cr_assert_eq(d->established, est, "established %u, want %u", d->established, est);
	cr_assert_eq(d->time_wait, tw, "time_wait %u, want %u", d->time_wait, tw);
	cr_assert_eq(d->syn_sent, syn_sent, "syn_sent %u, want %u", d->syn_sent, syn_sent);
	cr_assert_eq(d->other, other, "other %u, want %u", d->other, other);
	cr_assert_eq(d->in_port_range, in_range, "in_port_range %u, want %u", d->in_port_range, in_range);
}

static void assert_synrecv(const struct synrecv_count *s, int family, const char *addr, uint16_t port, uint32_t count)
{
	uint8_t a[16];

	ip(family, addr, a);
	cr_assert_eq(s->family, family);
	cr_assert_eq(memcmp(s->addr, a, 16), 0, "synrecv address, want %s", addr);
	cr_assert_eq(s->port, port);
	cr_assert_eq(s->count, count, "synrecv %s:%u count %u, want %u", addr, port, s->count, count);
}

/* Destinations must come biggest first; ties in (family, address, port) order. */
static void assert_dests_ordered(const struct deep_sample *ds)
{
	for (size_t i = 1; i < ds->n_dests; i++) {
		const struct dest_count *a = &ds->dests[i - 1], *b = &ds->dests[i];

		cr_assert(a->total > b->total ||
			  (a->total == b->total &&
			   (a->family < b->family ||
			    (a->family == b->family &&
			     (memcmp(a->addr, b->addr, 16) < 0 ||
			      (memcmp(a->addr, b->addr, 16) == 0 && a->port < b->port))))),
			  "dests[%zu] and [%zu] out of order", i - 1, i);
	}
}

static void parse_ok(const struct buf *b, struct deep_sample *ds, int want)
{
	int r = deep_parse(b->p, b->len, ds);

	cr_assert_eq(r, want, "deep_parse: %d, want %d", r, want);
}

/* ---- recorded dumps ---- */

/* The numbers of tests/fixtures/deep/README, both files folded in. */
static void assert_recorded_both(const struct deep_sample *ds)
{
	const struct mem_holder *h;
	uint8_t a[16];

	cr_assert_eq(ds->sockets_seen, 533);
	cr_assert_eq(ds->skipped, 0);

	cr_assert_eq(ds->n_synrecv, 3);
	assert_synrecv(&ds->synrecv[0], AF_INET, "127.0.0.1", 7000, 5);
	assert_synrecv(&ds->synrecv[1], AF_INET6, "::1", 7007, 1);
	assert_synrecv(&ds->synrecv[2], AF_INET6, "::ffff:127.0.0.1", 7007, 2);

	cr_assert_eq(ds->n_dests, DEEP_TOP_DESTS);
	assert_dests_ordered(ds);
	cr_assert_eq(ds->dests[0].port, 8000);
	assert_dest(&ds->dests[0], 304, 204, 100, 0, 0, 304);
	cr_assert_eq(ds->dests[0].family, AF_INET);
	cr_assert_eq(ds->dests[1].port, 7000);
	assert_dest(&ds->dests[1], 5, 5, 0, 0, 0, 5);
	cr_assert_eq(ds->dests[2].port, 9500);
	assert_dest(&ds->dests[2], 5, 2, 0, 3, 0, 5);
	cr_assert_eq(ds->dests[3].port, 7007);
	assert_dest(&ds->dests[3], 2, 2, 0, 0, 0, 2);
	cr_assert_eq(ds->dests[4].port, 9000);
	assert_dest(&ds->dests[4], 1, 1, 0, 0, 0, 1);
	for (size_t i = 5; i < ds->n_dests; i++) {
		/* Peers of server-side sockets: local ports 7000..9500, outside the range. */
		cr_assert_eq(ds->dests[i].total, 1);
		cr_assert_eq(ds->dests[i].in_port_range, 0);
		cr_assert_geq(ds->dests[i].port, RANGE_LO);
	}
	cr_assert_null(find_dest(ds, AF_INET6, "::1", 7007), "total 1: not in the top 16");

	/* The three SYN_SENT clients (a byte each: the SYN) are handshakes, not holders. */
	cr_assert_eq(ds->n_holders, 1);
	h = &ds->holders[0];
	cr_assert_eq(h->family, AF_INET);
	cr_assert_eq(h->state, TCP_ESTABLISHED);
	cr_assert_eq(h->lport, 9000);
	cr_assert_eq(h->rport, 35150);
	ip(AF_INET, "127.0.0.1", a);
	cr_assert_eq(memcmp(h->laddr, a, 16), 0);
	cr_assert_eq(memcmp(h->raddr, a, 16), 0);
	cr_assert_eq(h->rqueue, MIB);
	cr_assert_eq(h->wqueue, 0);
	cr_assert_eq(h->inode, 466572);
	cr_assert_eq(h->cookie, 26458);
	cr_assert_eq(h->pid, 0);
	cr_assert_str_eq(h->comm, "");
}

static void parse_both(struct deep_sample *ds, int64_t lo, int64_t hi)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");

	deep_sample_reset(ds, lo, hi);
	parse_ok(&b4, ds, 1);
	parse_ok(&b6, ds, 1);
	deep_sample_finish(ds);
	free(b4.p);
	free(b6.p);
}

Test(fixture, both_families)
{
	struct deep_sample ds;

	deep_sample_init(&ds);
	parse_both(&ds, RANGE_LO, RANGE_HI);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
}

/* Trimming gives the working state back and keeps the results; the next dump starts afresh. */
Test(fixture, trim_keeps_results)
{
	struct deep_sample ds;

	deep_sample_init(&ds);
	parse_both(&ds, RANGE_LO, RANGE_HI);
	cr_assert_eq(deep_sample_trim(&ds, SIZE_MAX), 0, "under the cap: kept");
	cr_assert_gt(deep_sample_trim(&ds, 0), 0);
	cr_assert_eq(deep_sample_trim(&ds, 0), 0, "nothing left to free");
	assert_recorded_both(&ds);
	parse_both(&ds, RANGE_LO, RANGE_HI);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
}

Test(fixture, each_family_alone)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");
	struct deep_sample ds;

	/* 525 entries of 124 or 96 bytes: more than one recv() buffer's worth of messages. */
	cr_assert_eq(b4.len, 62180);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&b4, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 525);
	cr_assert_eq(ds.n_synrecv, 1);
	assert_synrecv(&ds.synrecv[0], AF_INET, "127.0.0.1", 7000, 5);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 8000), 300, 200, 100, 0, 0, 300);

	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&b6, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 8);
	cr_assert_eq(ds.skipped, 0);
	cr_assert_eq(ds.n_synrecv, 2);
	cr_assert_eq(ds.n_dests, 5);
	/* IPv6 sockets connected to ::ffff:127.0.0.1 share IPv4's port space: folded into AF_INET. */
	assert_dest(&ds.dests[0], 4, 4, 0, 0, 0, 4);
	cr_assert_eq(ds.dests[0].family, AF_INET);
	cr_assert_eq(ds.dests[0].port, 8000);
	/* The mapped requests' peers: SYN_RECV counts as other; local port 7007 is not in range. */
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 54002), 1, 0, 0, 0, 1, 0);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 54008), 1, 0, 0, 0, 1, 0);
	assert_dest(must_dest(&ds, AF_INET6, "::1", 7007), 1, 1, 0, 0, 0, 1);
	assert_dest(must_dest(&ds, AF_INET6, "::1", 52274), 1, 0, 0, 0, 1, 0);
	cr_assert_eq(ds.n_holders, 0, "nothing in this dump holds a byte");
	deep_sample_free(&ds);
	free(b4.p);
	free(b6.p);
}

Test(fixture, fed_in_pieces)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");
	size_t cut1 = msg_off(&b4, 100), cut2 = msg_off(&b4, 400);
	struct deep_sample ds;

	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	cr_assert_eq(deep_parse(b4.p, cut1, &ds), 0);
	cr_assert_eq(ds.sockets_seen, 100);
	cr_assert_eq(deep_parse(b4.p + cut1, cut2 - cut1, &ds), 0);
	cr_assert_eq(deep_parse(b4.p + cut2, b4.len - cut2, &ds), 1);
	parse_ok(&b6, &ds, 1);
	deep_sample_finish(&ds);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
	free(b4.p);
	free(b6.p);
}

Test(fixture, unaligned_buffer)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");
	uint8_t *odd = malloc(b4.len + 1);
	struct deep_sample ds;

	cr_assert(odd);
	memcpy(odd + 1, b4.p, b4.len);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	cr_assert_eq(deep_parse(odd + 1, b4.len, &ds), 1);
	parse_ok(&b6, &ds, 1);
	deep_sample_finish(&ds);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
	free(odd);
	free(b4.p);
	free(b6.p);
}

Test(fixture, repeats_counted_once)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");
	struct deep_sample ds;

	/* As if every socket came back in a later recv(): the cookies say they are the same. */
	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	cr_assert_eq(deep_parse(b4.p, msg_off(&b4, 300), &ds), 0);
	parse_ok(&b4, &ds, 1);
	parse_ok(&b6, &ds, 1);
	parse_ok(&b6, &ds, 1);
	deep_sample_finish(&ds);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
	free(b4.p);
	free(b6.p);
}

Test(fixture, repeat_brings_the_newer_queue)
{
	struct buf b4 = load("deep-inet.bin"), b6 = load("deep-inet6.bin");
	unsigned hi = find_msg(&b4, TCP_ESTABLISHED, 9000, 0, MIB);
	unsigned done = 525;
	struct buf m = msg_copy(&b4, hi), v = { NULL, 0, 0 };
	struct deep_sample ds;

	/* The holder again before DONE, 2 MiB unread by then. */
	put32(m.p + HDR + offsetof(struct inet_diag_msg, idiag_rqueue), 2 * MIB);
	append(&v, b4.p, msg_off(&b4, done));
	append(&v, m.p, m.len);
	append(&v, b4.p + msg_off(&b4, done), b4.len - msg_off(&b4, done));

	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&v, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 525);
	cr_assert_eq(ds.n_holders, 1, "replaced, not listed twice");
	cr_assert_eq(ds.holders[0].rqueue, 2 * MIB);
	cr_assert_eq(ds.holders[0].cookie, 26458);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 9000), 1, 1, 0, 0, 0, 1);
	deep_sample_free(&ds);
	free(v.p);
	free(m.p);
	free(b4.p);
	free(b6.p);
}

Test(fixture, port_range)
{
	struct deep_sample ds;

	deep_sample_init(&ds);
	/* Unknown range: nothing is in it. */
	parse_both(&ds, -1, -1);
	cr_assert_eq(ds.dests[0].total, 304);
	for (size_t i = 0; i < ds.n_dests; i++)
		cr_assert_eq(ds.dests[i].in_port_range, 0);
	/* An upside-down range is no range. */
	parse_both(&ds, RANGE_HI, RANGE_LO);
	for (size_t i = 0; i < ds.n_dests; i++)
		cr_assert_eq(ds.dests[i].in_port_range, 0);
	/* The local port is what counts: the server side of 8000 is in [8000, 8000]. */
	parse_both(&ds, 8000, 8000);
	cr_assert_eq(ds.dests[0].in_port_range, 0);
	for (size_t i = 5; i < ds.n_dests; i++)
		cr_assert_leq(ds.dests[i].in_port_range, 1);
	deep_sample_free(&ds);
}

Test(fixture, reset_keeps_allocations_forgets_results)
{
	struct deep_sample ds;
	struct synrecv_count *syn;
	void *priv;
	size_t cap;

	deep_sample_init(&ds);
	cr_assert_null(ds.priv);
	parse_both(&ds, RANGE_LO, RANGE_HI);
	syn = ds.synrecv;
	priv = ds.priv;
	cap = ds.cap_synrecv;
	cr_assert_not_null(priv);

	deep_sample_reset(&ds, 1, 2);
	cr_assert_eq(ds.sockets_seen, 0);
	cr_assert_eq(ds.n_synrecv, 0);
	cr_assert_eq(ds.n_dests, 0);
	cr_assert_eq(ds.n_holders, 0);
	cr_assert_eq(ds.skipped, 0);
	cr_assert_eq(ds.port_lo, 1);
	cr_assert_eq(ds.port_hi, 2);
	cr_assert_eq(ds.synrecv, syn);
	cr_assert_eq(ds.priv, priv);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.n_dests, 0, "the tally was forgotten too");

	/* The same dump again: same numbers, same memory. */
	parse_both(&ds, RANGE_LO, RANGE_HI);
	assert_recorded_both(&ds);
	cr_assert_eq(ds.synrecv, syn);
	cr_assert_eq(ds.cap_synrecv, cap);
	cr_assert_eq(ds.priv, priv);
	deep_sample_finish(&ds);
	assert_recorded_both(&ds);

	deep_sample_free(&ds);
	cr_assert_null(ds.priv);
	cr_assert_null(ds.synrecv);
	cr_assert_eq(ds.port_lo, -1);
	/* A freed sample is as good as a new one. */
	parse_both(&ds, RANGE_LO, RANGE_HI);
	assert_recorded_both(&ds);
	deep_sample_free(&ds);
	deep_sample_free(&ds);
}

/* ---- damaged copies of a recorded dump ---- */

/* Parse the IPv4 dump as damaged in v: want ret, sockets seen, skipped. */
static void expect(const struct buf *v, int ret, uint32_t seen, unsigned skipped)
{
	struct deep_sample ds;

	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	cr_assert_eq(deep_parse(v->p, v->len, &ds), ret);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, seen, "seen %u, want %u", ds.sockets_seen, seen);
	cr_assert_eq(ds.skipped, skipped, "skipped %u, want %u", ds.skipped, skipped);
	deep_sample_free(&ds);
}

Test(malformed, truncated_mid_message)
{
	struct buf b = load("deep-inet.bin");

	b.len = msg_off(&b, 50) + 60;
	expect(&b, 0, 50, 1);
	b.len = msg_off(&b, 50) + 10;   /* inside the header */
	expect(&b, 0, 50, 1);
	free(b.p);
}

Test(malformed, message_shorter_than_inet_diag_msg)
{
	struct buf b = load("deep-inet.bin"), m = msg_copy(&b, 0), v;

	m.len = HDR + DIAG - 8;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 524, 1);
	/* A header alone. */
	m.len = HDR;
	put32(m.p, (uint32_t)m.len);
	free(v.p);
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 524, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

static void bad_attr_len(unsigned idx, uint16_t type, uint16_t nla_len)
{
	struct buf b = load("deep-inet.bin"), m = msg_copy(&b, idx), v;

	put16(m.p + attr_off(&m, type), nla_len);
	v = with_msg(&b, idx, &m);
	expect(&v, 1, 524, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(malformed, attr_runs_past_message)
{
	bad_attr_len(0, BACKLOGD_INET_DIAG_CGROUP_ID, 0xfff0);
}

Test(malformed, attr_shorter_than_its_header)
{
	bad_attr_len(0, INET_DIAG_SHUTDOWN, 2);
}

Test(malformed, minisocket_attr_runs_past_message)
{
	struct buf b = load("deep-inet.bin");
	unsigned tw = find_msg(&b, TCP_TIME_WAIT, 0, 0, 0);

	free(b.p);
	bad_attr_len(tw, INET_DIAG_MARK, 200);
}

Test(malformed, unknown_family_and_type_skipped)
{
	struct buf b = load("deep-inet.bin"), m = msg_copy(&b, 3), v;

	m.p[HDR] = AF_UNIX;
	v = with_msg(&b, 3, &m);
	expect(&v, 1, 524, 1);
	free(v.p);
	m.p[HDR] = AF_INET;
	put16(m.p + 4, 99);      /* nlmsg_type */
	v = with_msg(&b, 3, &m);
	expect(&v, 1, 524, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(attrs, unknown_attribute_ignored)
{
	struct buf b = load("deep-inet.bin");
	unsigned idx = find_msg(&b, TCP_ESTABLISHED, 9000, 0, MIB);
	struct buf m = msg_copy(&b, idx), v;
	uint8_t extra[12];
	struct deep_sample ds;

	/* A newer kernel's attribute, type 200, 8 bytes of payload. */
	put16(extra, sizeof(extra));
	put16(extra + 2, 200);
	put32(extra + 4, 0xdeadbeef);
	put32(extra + 8, 0xfeedface);
	append(&m, extra, sizeof(extra));
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, idx, &m);

	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&v, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 525);
	cr_assert_eq(ds.skipped, 0);
	cr_assert_eq(ds.holders[0].rqueue, MIB);
	deep_sample_free(&ds);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(attrs, no_attributes_at_all)
{
	struct buf b = load("deep-inet.bin"), m = msg_copy(&b, 0), v;

	/* The base message alone is all this tier needs. */
	m.len = HDR + DIAG;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 525, 0);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(states, listener_ignored_not_skipped)
{
	struct buf b = load("deep-inet.bin"), m = msg_copy(&b, 0), v;

	m.p[HDR + 1] = TCP_LISTEN;
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 524, 0);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(states, other_states_counted_as_other)
{
	struct buf b = load("deep-inet.bin");
	unsigned idx = find_msg(&b, TCP_SYN_SENT, 0, 9500, 0);
	struct buf m = msg_copy(&b, idx), v;
	struct deep_sample ds;

	m.p[HDR + 1] = TCP_CLOSE_WAIT;
	v = with_msg(&b, idx, &m);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&v, &ds, 1);
	deep_sample_finish(&ds);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 9500), 5, 2, 0, 2, 1, 5);
	deep_sample_free(&ds);
	free(v.p);

	/* A state this build has never heard of. */
	m.p[HDR + 1] = 200;
	v = with_msg(&b, idx, &m);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&v, &ds, 1);
	deep_sample_finish(&ds);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 9500), 5, 2, 0, 2, 1, 5);
	cr_assert_eq(ds.skipped, 0);
	deep_sample_free(&ds);
	free(v.p);
	free(m.p);
	free(b.p);
}

static struct buf ctl_msg(uint16_t type, int32_t value, uint32_t len)
{
	struct buf m = { NULL, 0, 0 };
	uint8_t raw[HDR + sizeof(struct nlmsgerr)];

	memset(raw, 0, sizeof(raw));
	put32(raw, len);
	put16(raw + 4, type);
	put32(raw + HDR, (uint32_t)value);
	append(&m, raw, len);
	return m;
}

Test(errors, nlmsg_error_done_status_intr)
{
	struct buf b = load("deep-inet.bin"), v = { NULL, 0, 0 }, e;

	e = ctl_msg(NLMSG_ERROR, -EINVAL, (uint32_t)(HDR + sizeof(struct nlmsgerr)));
	append(&v, b.p, msg_off(&b, 10));
	append(&v, e.p, e.len);
	expect(&v, -EINVAL, 10, 0);
	free(e.p);

	/* DONE carries the dump's status: a dump that failed in the kernel. */
	v.len = msg_off(&b, 10);
	e = ctl_msg(NLMSG_DONE, -ENOBUFS, (uint32_t)(HDR + 4));
	append(&v, e.p, e.len);
	expect(&v, -ENOBUFS, 10, 0);
	free(e.p);

	e = ctl_msg(NLMSG_ERROR, -EINVAL, (uint32_t)(HDR + 4));
	expect(&e, -EBADMSG, 0, 0);
	free(e.p);

	put16(b.p + msg_off(&b, 5) + 6, NLM_F_MULTI | NLM_F_DUMP_INTR);
	expect(&b, -EINTR, 5, 0);
	free(v.p);
	free(b.p);
}

Test(errors, not_netlink)
{
	static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct deep_sample ds;

	deep_sample_init(&ds);
	cr_assert_eq(deep_parse(text, sizeof(text) - 1, &ds), -EBADMSG);
	cr_assert_eq(deep_parse(text, 7, &ds), -EBADMSG);
	cr_assert_eq(deep_parse(text, 0, &ds), 0);
	cr_assert_eq(ds.sockets_seen, 0);
	deep_sample_free(&ds);
}

/* ---- synthetic dumps: scale, caps, the finer rules ---- */

struct sock_spec {
	uint8_t family, state;
	uint32_t src4, dst4;            /* host order, for AF_INET */
	const uint8_t *src6, *dst6;     /* for AF_INET6 */
	uint16_t sport, dport;
	uint32_t rq, wq, inode;
	uint64_t cookie;
};

/* Append one bare inet_diag entry (no attributes), as a kernel would send it. */
static void put_sock(struct buf *b, const struct sock_spec *s)
{
	uint8_t raw[HDR + DIAG];
	struct nlmsghdr nlh;
	struct inet_diag_msg m;

	memset(&nlh, 0, sizeof(nlh));
	nlh.nlmsg_len = (uint32_t)sizeof(raw);
	nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh.nlmsg_flags = NLM_F_MULTI;
	memset(&m, 0, sizeof(m));
	m.idiag_family = s->family;
	m.idiag_state = s->state;
	m.id.idiag_sport = htons(s->sport);
	m.id.idiag_dport = htons(s->dport);
	if (s->family == AF_INET) {
		m.id.idiag_src[0] = htonl(s->src4);
		m.id.idiag_dst[0] = htonl(s->dst4);
	} else {
		memcpy(m.id.idiag_src, s->src6, 16);
		memcpy(m.id.idiag_dst, s->dst6, 16);
	}
	m.id.idiag_cookie[0] = (uint32_t)s->cookie;
	m.id.idiag_cookie[1] = (uint32_t)(s->cookie >> 32);
	m.idiag_rqueue = s->rq;
	m.idiag_wqueue = s->wq;
	m.idiag_inode = s->inode;
	memcpy(raw, &nlh, sizeof(nlh));
	memcpy(raw + HDR, &m, sizeof(m));
	append(b, raw, sizeof(raw));
}

static void put_done(struct buf *b)
{
	struct buf d = ctl_msg(NLMSG_DONE, 0, (uint32_t)(HDR + 4));

	append(b, d.p, d.len);
	free(d.p);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(synthetic, two_hundred_thousand_sockets)
{
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;
	uint32_t in_range = 0;
	uint64_t cookie = 1;
	double t0, t1;

	/* 100,000 client sockets to 10.0.0.1:443 in four states. */
	for (uint32_t i = 0; i < 100000; i++) {
		static const uint8_t states[] = { TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_SYN_SENT, TCP_FIN_WAIT2 };
		struct sock_spec s = { .family = AF_INET, .state = states[i % 4],
				       .src4 = 0x0a000002, .dst4 = 0x0a000001,
				       .sport = (uint16_t)(1024 + i % 64000), .dport = 443,
				       .cookie = cookie++ };

		if (s.sport >= RANGE_LO && s.sport <= RANGE_HI)
			in_range++;
		put_sock(&b, &s);
	}
	/* 100,000 accepted sockets, each from its own peer address:port. */
	for (uint32_t i = 0; i < 100000; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_ESTABLISHED,
				       .src4 = 0x0a000002, .dst4 = 0x0b000000 + i / 50,
				       .sport = 8080, .dport = (uint16_t)(40000 + i % 50),
				       .rq = i == 77777 ? 5000 : 0, .cookie = cookie++ };

		put_sock(&b, &s);
	}
	/* 50 requests on two listening addresses. */
	for (uint32_t i = 0; i < 50; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_SYN_RECV,
				       .src4 = i % 2 ? 0x0a000002 : 0x0a000003, .dst4 = 0x0c000001,
				       .sport = 8080, .dport = (uint16_t)(1000 + i), .cookie = cookie++ };

		put_sock(&b, &s);
	}
	/* The first 1,000 again, as a resumed dump may send them. */
	append(&b, b.p, 1000 * (HDR + DIAG));
	put_done(&b);

	deep_sample_init(&ds);
	t0 = now_s();
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	t1 = now_s();
	fprintf(stderr, "synthetic: 201,050 entries folded in %.1f ms\n", (t1 - t0) * 1e3);

	cr_assert_eq(ds.sockets_seen, 200050);
	cr_assert_eq(ds.skipped, 0);
	cr_assert_eq(ds.dests[0].family, AF_INET);
	cr_assert_eq(ds.dests[0].port, 443);
	assert_dest(&ds.dests[0], 100000, 25000, 25000, 25000, 25000, in_range);
	for (size_t i = 1; i < ds.n_dests; i++)
		cr_assert_eq(ds.dests[i].total, 1);
	cr_assert_eq(ds.n_synrecv, 2);
	cr_assert_eq(ds.synrecv[0].count, 25);
	cr_assert_eq(ds.synrecv[1].count, 25);
	cr_assert_eq(ds.n_holders, 1);
	cr_assert_eq(ds.holders[0].rqueue, 5000);

	/* Steady state: the same dump again, into the same memory, as fast. */
	t0 = now_s();
	deep_sample_reset(&ds, RANGE_LO, RANGE_HI);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	t1 = now_s();
	fprintf(stderr, "synthetic: again in %.1f ms\n", (t1 - t0) * 1e3);
	cr_assert_eq(ds.sockets_seen, 200050);
	cr_assert_eq(ds.dests[0].total, 100000);
	deep_sample_free(&ds);
	free(b.p);
}

Test(synthetic, destination_cap)
{
	const uint32_t cap = 1U << 18;  /* DEEP_DESTS_MAX in deep.c */
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;
	uint64_t cookie = 1;

	/* One destination seen early, then enough singletons to fill the table. */
	for (uint32_t i = 0; i < 5; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 1,
				       .dst4 = 0x0a0a0a0a, .sport = (uint16_t)(40000 + i), .dport = 80,
				       .cookie = cookie++ };

		put_sock(&b, &s);
	}
	for (uint32_t i = 0; i < cap; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 1,
				       .dst4 = 0x14000000 + i, .sport = 1, .dport = 1, .cookie = cookie++ };

		put_sock(&b, &s);
	}
	/* Past the cap: the known destination still counts, a new one does not. */
	for (uint32_t i = 0; i < 10; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 1,
				       .dst4 = 0x0a0a0a0a, .sport = (uint16_t)(41000 + i), .dport = 80,
				       .cookie = cookie++ };

		put_sock(&b, &s);
		s.dst4 = 0x0b0b0b0b;
		s.cookie = cookie++;
		put_sock(&b, &s);
	}
	put_done(&b);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, -1, -1);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 5 + cap + 20, "every socket is still seen");
	cr_assert_eq(ds.dests[0].port, 80);
	cr_assert_eq(ds.dests[0].total, 15);
	cr_assert_eq(ds.dests[1].total, 1);
	cr_assert_null(find_dest(&ds, AF_INET, "11.11.11.11", 80), "met after the cap: untallied");
	deep_sample_free(&ds);
	free(b.p);
}

Test(synthetic, synrecv_sorted_and_capped)
{
	const uint32_t cap = 4096;      /* DEEP_SYNRECV_MAX in deep.c */
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;
	uint64_t cookie = 1;

	/* Local ports in descending order, so every insert goes to the front. */
	for (uint32_t i = 0; i < cap + 100; i++) {
		struct sock_spec s = { .family = AF_INET, .state = TCP_SYN_RECV, .src4 = 0x7f000001,
				       .dst4 = 0x7f000001, .sport = (uint16_t)(60000 - i), .dport = 50000,
				       .cookie = cookie++ };

		put_sock(&b, &s);
		if (i == 7) {   /* a second request on one port */
			s.dport = 50001;
			s.cookie = cookie++;
			put_sock(&b, &s);
		}
	}
	put_done(&b);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, -1, -1);
	parse_ok(&b, &ds, 1);
	cr_assert_eq(ds.n_synrecv, cap);
	cr_assert_leq(ds.cap_synrecv, cap);
	for (size_t i = 1; i < ds.n_synrecv; i++)
		cr_assert_lt(ds.synrecv[i - 1].port, ds.synrecv[i].port);
	/* The first cap ports met are kept: 60000 down to 60000 - cap + 1. */
	cr_assert_eq(ds.synrecv[0].port, 60000 - cap + 1);
	cr_assert_eq(ds.synrecv[cap - 1].port, 60000);
	cr_assert_eq(ds.synrecv[cap - 1 - 7].count, 2);
	cr_assert_eq(ds.synrecv[cap - 1 - 6].count, 1);
	cr_assert_eq(ds.sockets_seen, cap + 101);
	deep_sample_free(&ds);
	free(b.p);
}

/*
 * A server that accepts and never reads: its sockets hold 64 KiB unread
 * each, its clients' sockets 2 MiB unsent each. The server's receive
 * queues rank first (they have an owner to name); the clients' only after.
 */
Test(synthetic, holders_unread_before_unsent)
{
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;

	for (size_t i = 0; i < 12; i++) {
		struct sock_spec cl = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 0x7f000001,
					.dst4 = 0x7f000001, .sport = (uint16_t)(40000 + i), .dport = 5000,
					.wq = 2u << 20, .inode = (uint32_t)(900 + i), .cookie = 900 + i };
		struct sock_spec sv = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 0x7f000001,
					.dst4 = 0x7f000001, .sport = 5000, .dport = (uint16_t)(40000 + i),
					.rq = 65536, .inode = (uint32_t)(700 + i), .cookie = 700 + i };

		put_sock(&b, &cl);
		put_sock(&b, &sv);
	}
	put_done(&b);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, -1, -1);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.n_holders, DEEP_TOP_HOLDERS);
	for (size_t i = 0; i < DEEP_TOP_HOLDERS; i++) {
		cr_assert_eq(ds.holders[i].lport, 5000, "holder %zu is a client's (port %u)", i,
			     ds.holders[i].lport);
		cr_assert_eq(ds.holders[i].rqueue, 65536);
	}
	deep_sample_free(&ds);
	free(b.p);
}

Test(synthetic, holders_top_ten)
{
	static const uint32_t rq[] = { 0, 10, 500, 20, 0, 30, 7000, 40, 500, 50, 60, 1, 70, 80, 90 };
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;
	size_t n = ARRAY_SIZE(rq);

	for (size_t i = 0; i < n; i++) {
		/* Socket 4 holds 100 unsent bytes and nothing unread. */
		struct sock_spec s = { .family = AF_INET, .state = TCP_CLOSE_WAIT, .src4 = 1, .dst4 = 2,
				       .sport = (uint16_t)(1000 + i), .dport = 80, .rq = rq[i],
				       .wq = i == 4 ? 100 : 0, .inode = (uint32_t)(500 + i),
				       .cookie = 100 + i };

		put_sock(&b, &s);
	}
	put_done(&b);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, -1, -1);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.n_holders, DEEP_TOP_HOLDERS);
	/*
	 * Unread bytes first: 7000, 500 (i=2, met first), 500 (i=8), 90, 80,
	 * 70, 60, 50, 40, 30. Socket 4's 100 unsent bytes rank below every
	 * unread byte: it is out.
	 */
	{
		static const uint16_t want_port[] = { 1006, 1002, 1008, 1014, 1013, 1012, 1010, 1009, 1007, 1005 };

		for (size_t i = 0; i < DEEP_TOP_HOLDERS; i++) {
			cr_assert_eq(ds.holders[i].lport, want_port[i], "holder %zu: port %u, want %u",
				     i, ds.holders[i].lport, want_port[i]);
			cr_assert_eq(ds.holders[i].state, TCP_CLOSE_WAIT);
			cr_assert_eq(ds.holders[i].inode, 500u + want_port[i] - 1000u);
		}
	}
	for (size_t i = 0; i < DEEP_TOP_HOLDERS; i++)
		cr_assert_eq(ds.holders[i].wqueue, 0, "the unsent-only socket outranked unread ones");
	deep_sample_free(&ds);
	free(b.p);
}

Test(synthetic, v4mapped_folded_and_cookie_zero)
{
	struct buf b = { NULL, 0, 0 };
	struct deep_sample ds;
	uint8_t mapped[16], local6[16], v6[16];
	struct sock_spec s4 = { .family = AF_INET, .state = TCP_ESTABLISHED, .src4 = 0x0a000002,
				.dst4 = 0x0a000001, .sport = 40000, .dport = 5432, .cookie = 1 };
	struct sock_spec s6 = { .family = AF_INET6, .state = TCP_TIME_WAIT, .sport = 40001,
				.dport = 5432, .cookie = 2 };

	ip(AF_INET6, "::ffff:10.0.0.1", mapped);
	ip(AF_INET6, "::ffff:10.0.0.2", local6);
	ip(AF_INET6, "2001:db8::1", v6);
	s6.src6 = local6;
	s6.dst6 = mapped;
	put_sock(&b, &s4);
	put_sock(&b, &s6);
	/* A true IPv6 destination stays apart. */
	s6.dst6 = v6;
	s6.cookie = 3;
	put_sock(&b, &s6);
	/* Cookie 0 is "none": never taken for a repeat. */
	s4.cookie = 0;
	put_sock(&b, &s4);
	put_sock(&b, &s4);
	put_done(&b);
	deep_sample_init(&ds);
	deep_sample_reset(&ds, 40000, 40001);
	parse_ok(&b, &ds, 1);
	deep_sample_finish(&ds);
	cr_assert_eq(ds.sockets_seen, 5);
	cr_assert_eq(ds.n_dests, 2);
	assert_dest(must_dest(&ds, AF_INET, "10.0.0.1", 5432), 4, 3, 1, 0, 0, 4);
	assert_dest(must_dest(&ds, AF_INET6, "2001:db8::1", 5432), 1, 0, 1, 0, 0, 1);
	deep_sample_free(&ds);
	free(b.p);
}

/* ---- the real kernel, in a network namespace of our own ---- */

/* The namespace's own ip_local_port_range, as the daemon would pass it. */
static void read_port_range(int64_t *lo, int64_t *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	long a, b;

	cr_assert(f);
	cr_assert_eq(fscanf(f, "%ld %ld", &a, &b), 2);
	fclose(f);
	*lo = a;
	*hi = b;
}

static socklen_t make_addr(int family, const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		return sizeof(*sin6);
	}
}

struct lopts {
	int defer;      /* TCP_DEFER_ACCEPT seconds */
	int rcvbuf;     /* SO_RCVBUFFORCE bytes */
};

static int tcp_listen(int family, const char *addr, uint16_t port, int backlog, struct lopts o)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(family, addr, port, &ss);
	int one = 1, zero = 0, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	cr_assert(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	if (family == AF_INET6)
		cr_assert(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0);
	if (o.defer)
		cr_assert(setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &o.defer, sizeof(o.defer)) == 0);
	if (o.rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof(o.rcvbuf)) < 0)
		cr_skip_test("SO_RCVBUFFORCE: %s (needs CAP_NET_ADMIN)", strerror(errno));
	cr_assert(bind(fd, (struct sockaddr *)&ss, sl) == 0, "bind %s:%u: %s", addr, port, strerror(errno));
	cr_assert(listen(fd, backlog) == 0);
	return fd;
}

static int tcp_connect(int family, const char *addr, uint16_t port, int nonblock)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(family, addr, port, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		cr_assert(nonblock && errno == EINPROGRESS, "connect %s:%u: %s", addr, port, strerror(errno));
	return fd;
}

/* Wait (2 s at most) for fd to become readable. */
static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	cr_assert_eq(poll(&p, 1, 2000), 1, "nothing to read within 2 s");
}

static int accept_one(int lfd)
{
	int fd;

	wait_readable(lfd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(fd >= 0, "accept: %s", strerror(errno));
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	cr_assert(getsockname(fd, (struct sockaddr *)&ss, &sl) == 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void deep_dump(struct sockdiag *sd, struct deep_sample *ds)
{
	int64_t lo, hi;
	int r;

	read_port_range(&lo, &hi);
	r = sockdiag_dump_deep(sd, ds, lo, hi);
	cr_assert_eq(r, 0, "sockdiag_dump_deep: %s", strerror(-r));
}

/* A: TCP_DEFER_ACCEPT, 5 silent IPv4 clients. B: the same on dual-stack [::]:7007, 2 IPv4 + 1 IPv6. */
static void scenario_defer(void)
{
	tcp_listen(AF_INET, "127.0.0.1", 7000, 16, (struct lopts){ .defer = 30 });
	for (int i = 0; i < 5; i++)
		tcp_connect(AF_INET, "127.0.0.1", 7000, 0);
	tcp_listen(AF_INET6, "::", 7007, 16, (struct lopts){ .defer = 30 });
	for (int i = 0; i < 2; i++)
		tcp_connect(AF_INET, "127.0.0.1", 7007, 0);
	tcp_connect(AF_INET6, "::1", 7007, 0);
}

/*
 * C: 300 IPv4 clients to 127.0.0.1:8000 and 4 IPv6 ones through
 * ::ffff:127.0.0.1, all accepted; the first 100 IPv4 clients close first,
 * the server closes back on EOF.
 */
static void scenario_time_wait(void)
{
	int srv = tcp_listen(AF_INET, "127.0.0.1", 8000, 512, (struct lopts){ 0 });
	int cli[300], acc[300];
	char c;

	for (int i = 0; i < 300; i++) {
		cli[i] = tcp_connect(AF_INET, "127.0.0.1", 8000, 0);
		acc[i] = accept_one(srv);
	}
	for (int i = 0; i < 4; i++) {
		tcp_connect(AF_INET6, "::ffff:127.0.0.1", 8000, 0);
		accept_one(srv);
	}
	for (int i = 0; i < 100; i++)
		close(cli[i]);
	for (int i = 0; i < 100; i++) {
		wait_readable(acc[i]);
		cr_assert_eq(read(acc[i], &c, 1), 0, "EOF expected");
		close(acc[i]);
	}
}

/* D: 1 MiB unread in an accepted socket. Return: the accepted fd; *peer the client's port. */
static int scenario_holder(uint16_t *peer)
{
	int srv = tcp_listen(AF_INET, "127.0.0.1", 9000, 4, (struct lopts){ .rcvbuf = 4 << 20 });
	int cli = tcp_connect(AF_INET, "127.0.0.1", 9000, 0);
	int acc = accept_one(srv);
	struct timeval tv = { .tv_sec = 5, .tv_usec = 0 };
	char *data = calloc(1, MIB);
	size_t sent = 0;
	int outq = -1;

	cr_assert(data);
	cr_assert(setsockopt(cli, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0);
	while (sent < MIB) {
		ssize_t n = send(cli, data + sent, MIB - sent, 0);

		cr_assert(n > 0, "send: %s", strerror(errno));
		sent += (size_t)n;
	}
	/* Until the peer has acknowledged it all: then it sits in the server's receive queue. */
	for (int i = 0; i < 100 && outq != 0; i++) {
		cr_assert(ioctl(cli, SIOCOUTQ, &outq) == 0);
		if (outq != 0)
			usleep(20 * 1000);
	}
	cr_assert_eq(outq, 0, "1 MiB not delivered within 2 s");
	free(data);
	*peer = local_port(cli);
	return acc;
}

/* E: listen(fd, 1), never accepted, 5 non-blocking connects: 2 queued, 3 SYN_SENT. */
static void scenario_syn_sent(void)
{
	tcp_listen(AF_INET, "127.0.0.1", 9500, 1, (struct lopts){ 0 });
	for (int i = 0; i < 5; i++)
		tcp_connect(AF_INET, "127.0.0.1", 9500, 1);
	usleep(300 * 1000);     /* handshakes done; the first SYN retry is at 1 s */
}

/* Dump until the 100 closed clients are all in TIME_WAIT (loopback: almost at once). */
static void dump_until_time_wait(struct sockdiag *sd, struct deep_sample *ds)
{
	const struct dest_count *d = NULL;

	for (int i = 0; i < 20; i++) {
		deep_dump(sd, ds);
		d = find_dest(ds, AF_INET, "127.0.0.1", 8000);
		if (d && d->time_wait == 100)
			return;
		usleep(100 * 1000);
	}
	cr_assert_fail("TIME_WAIT count %u after 2 s, want 100", d ? d->time_wait : 0);
}

Test(live, empty_namespace)
{
	struct deep_sample ds;
	struct sockdiag *sd;

	enter_netns();
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	deep_dump(sd, &ds);
	cr_assert_eq(ds.sockets_seen, 0);
	cr_assert_eq(ds.n_synrecv, 0);
	cr_assert_eq(ds.n_dests, 0);
	cr_assert_eq(ds.n_holders, 0);
	cr_assert_eq(ds.skipped, 0);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, defer_accept_requests_counted)
{
	struct deep_sample ds;
	struct sockdiag *sd;

	enter_netns();
	scenario_defer();
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	deep_dump(sd, &ds);
	/* 8 clients (ESTABLISHED) and 8 requests (SYN_RECV): the bare ACKs were dropped. */
	cr_assert_eq(ds.sockets_seen, 16);
	cr_assert_eq(ds.n_synrecv, 3);
	assert_synrecv(&ds.synrecv[0], AF_INET, "127.0.0.1", 7000, 5);
	assert_synrecv(&ds.synrecv[1], AF_INET6, "::1", 7007, 1);
	/* An IPv4 SYN to a dual-stack listener makes an AF_INET6 request on a mapped address. */
	assert_synrecv(&ds.synrecv[2], AF_INET6, "::ffff:127.0.0.1", 7007, 2);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 7000), 5, 5, 0, 0, 0, 5);
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 7007), 2, 2, 0, 0, 0, 2);
	assert_dest(must_dest(&ds, AF_INET6, "::1", 7007), 1, 1, 0, 0, 0, 1);
	cr_assert_eq(ds.n_holders, 0);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, closer_holds_time_wait)
{
	struct deep_sample ds;
	struct sockdiag *sd;

	enter_netns();
	scenario_time_wait();
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	dump_until_time_wait(sd, &ds);
	/* Client side: 204 ESTABLISHED (4 of them IPv6, folded) + 100 TIME_WAIT. */
	cr_assert_eq(ds.dests[0].port, 8000);
	cr_assert_eq(ds.dests[0].family, AF_INET);
	assert_dest(&ds.dests[0], 304, 204, 100, 0, 0, 304);
	/* Server side: 204 accepted sockets, each a destination of its own (a client's port). */
	cr_assert_eq(ds.sockets_seen, 304 + 204);
	for (size_t i = 1; i < ds.n_dests; i++) {
		cr_assert_eq(ds.dests[i].total, 1);
		cr_assert_eq(ds.dests[i].in_port_range, 0, "local port 8000 is not ephemeral");
	}
	/* A time-wait minisocket holds nothing: not a holder. */
	cr_assert_eq(ds.n_holders, 0);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, unread_mib_is_top_holder)
{
	struct deep_sample ds;
	struct sockdiag *sd;
	const struct mem_holder *h;
	struct stat st;
	uint16_t peer;
	uint8_t lo4[16];
	int acc;

	enter_netns();
	acc = scenario_holder(&peer);
	cr_assert(fstat(acc, &st) == 0);
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	deep_dump(sd, &ds);
	cr_assert_eq(ds.sockets_seen, 2);
	cr_assert_eq(ds.n_holders, 1);
	h = &ds.holders[0];
	ip(AF_INET, "127.0.0.1", lo4);
	cr_assert_eq(h->family, AF_INET);
	cr_assert_eq(h->state, TCP_ESTABLISHED);
	cr_assert_eq(h->lport, 9000);
	cr_assert_eq(h->rport, peer);
	cr_assert_eq(memcmp(h->laddr, lo4, 16), 0);
	cr_assert_eq(memcmp(h->raddr, lo4, 16), 0);
	cr_assert_eq(h->rqueue, MIB);
	cr_assert_eq(h->wqueue, 0);
	cr_assert_eq(h->inode, (uint32_t)st.st_ino);
	cr_assert_neq(h->cookie, 0);
	cr_assert_eq(h->pid, 0);
	cr_assert_str_eq(h->comm, "");
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, syn_sent_and_accept_queue)
{
	struct deep_sample ds;
	struct sockdiag *sd;

	enter_netns();
	scenario_syn_sent();
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	deep_dump(sd, &ds);
	/* 5 clients; the 2 queued connections' server halves (inode 0, not accepted yet). */
	cr_assert_eq(ds.sockets_seen, 7);
	assert_dest(&ds.dests[0], 5, 2, 0, 3, 0, 5);
	cr_assert_eq(ds.dests[0].port, 9500);
	/* Their SYN_SENT sockets have a byte queued each (the SYN): a handshake, not a holder. */
	cr_assert_eq(ds.n_holders, 0);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, same_scenario_as_the_fixtures)
{
	struct deep_sample ds;
	struct sockdiag *sd;
	uint16_t peer;

	enter_netns();
	scenario_defer();
	scenario_time_wait();
	scenario_holder(&peer);
	scenario_syn_sent();
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	dump_until_time_wait(sd, &ds);
	/* The numbers of tests/fixtures/deep/README, but for inodes, cookies and ports. */
	cr_assert_eq(ds.sockets_seen, 533);
	cr_assert_eq(ds.skipped, 0);
	cr_assert_eq(ds.n_synrecv, 3);
	assert_synrecv(&ds.synrecv[0], AF_INET, "127.0.0.1", 7000, 5);
	assert_synrecv(&ds.synrecv[1], AF_INET6, "::1", 7007, 1);
	assert_synrecv(&ds.synrecv[2], AF_INET6, "::ffff:127.0.0.1", 7007, 2);
	cr_assert_eq(ds.n_dests, DEEP_TOP_DESTS);
	assert_dests_ordered(&ds);
	assert_dest(&ds.dests[0], 304, 204, 100, 0, 0, 304);
	assert_dest(&ds.dests[1], 5, 5, 0, 0, 0, 5);
	cr_assert_eq(ds.dests[1].port, 7000);
	assert_dest(&ds.dests[2], 5, 2, 0, 3, 0, 5);
	cr_assert_eq(ds.dests[2].port, 9500);
	assert_dest(&ds.dests[3], 2, 2, 0, 0, 0, 2);
	cr_assert_eq(ds.dests[3].port, 7007);
	/*
	 * Not dests[4] for sure: connect() may give the same ephemeral port to
	 * clients of different servers (only the 4-tuple must be unique), and
	 * then two server-side sockets share a peer, a destination of total 2
	 * that sorts ahead of 9000. The recording happens to have none.
	 */
	assert_dest(must_dest(&ds, AF_INET, "127.0.0.1", 9000), 1, 1, 0, 0, 0, 1);
	cr_assert_eq(ds.n_holders, 1, "the SYN_SENT clients are no holders");
	cr_assert_eq(ds.holders[0].rqueue, MIB);
	cr_assert_eq(ds.holders[0].rport, peer);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

Test(live, shares_the_handle_with_the_listen_dump)
{
	struct listener_set ls;
	struct deep_sample ds;
	struct sockdiag *sd;
	void *priv;

	enter_netns();
	scenario_syn_sent();
	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&ls);
	deep_sample_init(&ds);
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(sockdiag_dump_listeners(sd, &ls), 0);
		cr_assert_eq(ls.count, 1);
		cr_assert_eq(ls.items[0].queue, 2);
		deep_dump(sd, &ds);
		cr_assert_eq(ds.sockets_seen, 7);
		if (round == 0)
			priv = ds.priv;
		cr_assert_eq(ds.priv, priv, "the sample's memory is reused");
	}
	listener_set_free(&ls);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

Test(live, five_thousand_clients_one_destination)
{
	enum { N = 5000, RUNS = 7 };
	struct listener_set ls;
	struct deep_sample ds;
	struct sockdiag *sd;
	struct rlimit rl;
	double t_deep[RUNS], t_listen[RUNS];
	int srv;

	enter_netns();
	/* 2 fds per connection here: stay under the hard limit (20000 on these hosts). */
	cr_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < 2 * N + 64) {
		if (rl.rlim_max < 2 * N + 64)
			cr_skip_test("RLIMIT_NOFILE hard limit %lu < %d", (unsigned long)rl.rlim_max, 2 * N + 64);
		rl.rlim_cur = 2 * N + 64;
		cr_assert(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	/* Port 8080 is outside the range: only the client halves are in_port_range. */
	srv = tcp_listen(AF_INET, "127.0.0.1", 8080, 4096, (struct lopts){ 0 });
	for (int i = 0; i < N; i++) {
		tcp_connect(AF_INET, "127.0.0.1", 8080, 0);
		accept_one(srv);
	}
	cr_assert_eq(sockdiag_open(&sd), 0);
	deep_sample_init(&ds);
	listener_set_init(&ls);
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_s();

		deep_dump(sd, &ds);
		t_deep[r] = now_s() - t0;
		t0 = now_s();
		cr_assert_eq(sockdiag_dump_listeners(sd, &ls), 0);
		t_listen[r] = now_s() - t0;
	}
	/*
	 * The client halves: remote 127.0.0.1:8080, all ESTABLISHED, local ports
	 * ephemeral. The server halves: remote = each client's port, so 5,000
	 * destinations of 1 each (local port 8080: not in range).
	 */
	cr_assert_eq(ds.sockets_seen, 2 * N);
	cr_assert_eq(ds.dests[0].family, AF_INET);
	cr_assert_eq(ds.dests[0].port, 8080);
	assert_dest(&ds.dests[0], N, N, 0, 0, 0, N);
	cr_assert_eq(ds.n_dests, DEEP_TOP_DESTS);
	for (size_t i = 1; i < ds.n_dests; i++) {
		cr_assert_eq(ds.dests[i].total, 1);
		cr_assert_eq(ds.dests[i].in_port_range, 0);
	}
	cr_assert_eq(ds.n_synrecv, 0);
	cr_assert_eq(ds.n_holders, 0);
	cr_assert_eq(ls.count, 1);

	qsort(t_deep, RUNS, sizeof(double), cmp_double);
	qsort(t_listen, RUNS, sizeof(double), cmp_double);
	fprintf(stderr, "deep dump of %d sockets: min %.2f ms, median %.2f ms, max %.2f ms; "
		"LISTEN dump: median %.3f ms\n", 2 * N, t_deep[0] * 1e3, t_deep[RUNS / 2] * 1e3,
		t_deep[RUNS - 1] * 1e3, t_listen[RUNS / 2] * 1e3);
	listener_set_free(&ls);
	deep_sample_free(&ds);
	sockdiag_close(sd);
}
