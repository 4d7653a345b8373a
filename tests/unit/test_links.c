/* test_links.c: the link counter probe: its parser on a recorded RTM_GETLINK dump and damaged copies, and live reads in a private netns (lo, veth pairs, exact rx drops, no allocation). */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <criterion/criterion.h>
#include <libmnl/libmnl.h>

#include "links.h"
#include "nl.h"
#include "buf_fixture.h"

/* Local experimental ethertypes (IEEE 802 "local experimental 1 and 2"). */
#define ETH_P_TEST_RX 0x88b5    /* a packet socket on vB takes these */
#define ETH_P_TEST_NONE 0x88b6  /* nobody takes these: the stack drops them */

/*
 * Allocation counting for the whole process. test_alloc.c's -Wl,--wrap
 * sees libbacklog.a only; the link probe's work is also in libmnl and in
 * libnl-3's parser, shared libraries. Defining malloc and friends here
 * interposes them for every object of the process (glibc supports replacing
 * malloc this way, as bench/tickbench does); the real work is glibc's own
 * allocator under its exported __libc_* names. Only this thread's calls
 * between count_start and count_stop are counted. Sanitizer builds own
 * malloc themselves: counting is off there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
#endif

static __thread bool counting;
static __thread unsigned long allocs;

#if COUNT_ALLOCS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
	if (counting)
		allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocs++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (counting && p)
		allocs++;       /* a free in a steady read means an allocation came before */
	__libc_free(p);
}
#endif

static void count_start(void)
{
	allocs = 0;
	counting = true;
}

static unsigned long count_stop(void)
{
	counting = false;
	return allocs;
}

/* ---- a recorded dump (tests/fixtures/links/README) and damaged copies ---- */

#define FIXDIR FIXTURES "/links/"
#define HDR ((size_t)MNL_NLMSG_HDRLEN)
#define IFI (sizeof(struct ifinfomsg))

/* The messages of links.bin, in order; DONE is message N_REC. */
enum { REC_LO, REC_VB, REC_VA, REC_PONM, REC_ABCD, N_REC };

/* Every fixture of this file is under FIXDIR. */
static struct buf load(const char *name)
{
	return buf_load(FIXDIR, name);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Offset of the first attribute of type inside a message copy. */
static size_t attr_off(const struct buf *m, uint16_t type)
{
	return attr_off_from(m, HDR + IFI, type);
}

/*
 * Cut attribute type's payload (the attributes start at start) to plen
 * bytes, the message shrinking with it, as an older kernel would send it.
 */
static void shrink_attr_from(struct buf *m, size_t start, uint16_t type, uint16_t plen)
{
	size_t off = attr_off_from(m, start, type);
	uint16_t alen = get16(m->p + off);
	size_t keep = MNL_ALIGN(4u + plen), gone;

	cr_assert(4u + plen <= alen);
	gone = MNL_ALIGN(alen) - keep;
	memmove(m->p + off + keep, m->p + off + keep + gone, m->len - (off + keep + gone));
	m->len -= gone;
	put16(m->p + off, (uint16_t)(4u + plen));
	put32(m->p, (uint32_t)m->len);
}

static void shrink_attr(struct buf *m, uint16_t type, uint16_t plen)
{
	shrink_attr_from(m, HDR + IFI, type, plen);
}

/* Append an attribute to a message copy (its length is already 4-aligned, as the kernel's are). */
static void add_attr(struct buf *m, uint16_t type, const void *p, uint16_t plen)
{
	uint8_t hdr[4], pad[4] = { 0 };

	cr_assert_eq(m->len % 4, 0);
	put16(hdr, (uint16_t)(4u + plen));
	put16(hdr + 2, type);
	append(m, hdr, sizeof(hdr));
	append(m, p, plen);
	append(m, pad, MNL_ALIGN(plen) - plen);
	put32(m->p, (uint32_t)m->len);
}

static const struct link_stat *find_link(const struct link_table *t, int ifindex)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->items[i].ifindex == ifindex)
			return &t->items[i];
	return NULL;
}

/* The link of ifindex, which must be there. */
__attribute__((returns_nonnull))
static const struct link_stat *link_at(const struct link_table *t, int ifindex)
{
	const struct link_stat *s = find_link(t, ifindex);

	cr_assert(s, "ifindex %d not in the table", ifindex);
	return s;
}

static void assert_sorted(const struct link_table *t)
{
	for (size_t i = 1; i < t->count; i++)
		cr_assert_lt(t->items[i - 1].ifindex, t->items[i].ifindex, "sorted by ifindex");
}

/* Parse b with parse into a fresh table; expect ret and exactly the links (by ifindex) of the mask's bits. */
static struct link_table expect_with(int (*parse)(const void *, size_t, struct link_table *),
				     const struct buf *b, int ret, unsigned ifindex_mask)
{
	struct link_table t;
	size_t want = 0;

	memset(&t, 0x5a, sizeof(t));
	t.count = 0;
	cr_assert_eq(parse(b->p, b->len, &t), ret);
	assert_sorted(&t);
	for (int ifindex = 1; ifindex <= N_REC; ifindex++) {
		bool in = (ifindex_mask >> ifindex) & 1;

		want += in;
		cr_assert_eq(find_link(&t, ifindex) != NULL, in, "ifindex %d %s", ifindex,
			     in ? "missing" : "should be skipped");
	}
	cr_assert_eq(t.count, want, "count %zu, want %zu", t.count, want);
	return t;
}

static struct link_table expect(const struct buf *b, int ret, unsigned ifindex_mask)
{
	return expect_with(links_parse, b, ret, ifindex_mask);
}

#define ALL_RECORDED (0x3eu)    /* ifindexes 1..5 */
#define BUT(ifindex) (ALL_RECORDED & ~(1u << (ifindex)))

/* The whole table of links.bin, as its README lists it. */
static void assert_recorded(const struct link_table *t)
{
	static const struct {
		int ifindex;
		const char *name;
		uint64_t rx_packets, rx_dropped;
	} want[] = {
		{ 1, "lo", 4, 0 },
		{ 2, "vB", 5, 12 },
		{ 3, "vA", 0, 0 },
		{ 4, "ponmlkjihgfedcb", 0, 0 },
		{ 5, "abcdefghijklmno", 0, 0 },
	};

	cr_assert_eq(t->count, 5);
	for (size_t i = 0; i < t->count; i++) {
		const struct link_stat *s = &t->items[i];

		cr_assert_eq(s->ifindex, want[i].ifindex);
		cr_assert_str_eq(s->name, want[i].name);
		cr_assert_eq(s->rx_packets, want[i].rx_packets, "%s", s->name);
		cr_assert_eq(s->rx_dropped, want[i].rx_dropped, "%s", s->name);
		cr_assert_eq(s->rx_missed_errors, 0);
		cr_assert_eq(s->rx_fifo_errors, 0);
	}
}

Test(fixture, recorded_dump)
{
	struct buf b = load("links.bin");
	struct link_table t = expect(&b, 1, ALL_RECORDED);

	assert_recorded(&t);
	free(b.p);
}

/* A dump comes in several recv(): the pieces add up to the same table. */
Test(fixture, fed_in_pieces)
{
	struct buf b = load("links.bin");
	size_t cut1 = msg_off(&b, REC_VB), cut2 = msg_off(&b, REC_PONM);
	struct link_table t;

	t.count = 0;
	cr_assert_eq(links_parse(b.p, cut1, &t), 0);
	cr_assert_eq(t.count, 1);
	cr_assert_eq(links_parse(b.p + cut1, cut2 - cut1, &t), 0);
	cr_assert_eq(t.count, 3);
	cr_assert_eq(links_parse(b.p + cut2, b.len - cut2, &t), 1);
	assert_recorded(&t);
	/* The same dump again updates the links in place: no link twice. */
	cr_assert_eq(links_parse(b.p, b.len, &t), 1);
	assert_recorded(&t);
	free(b.p);
}

Test(fixture, unaligned_buffer)
{
	struct buf b = load("links.bin");
	uint8_t *odd = malloc(b.len + 1);
	struct link_table t;

	cr_assert(odd);
	memcpy(odd + 1, b.p, b.len);
	t.count = 0;
	cr_assert_eq(links_parse(odd + 1, b.len, &t), 1);
	assert_recorded(&t);
	free(odd);
	free(b.p);
}

/* Each counter comes from its own field, all 64 bits of it. */
Test(fixture, stats64_fields)
{
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_VA), v;
	size_t st = attr_off(&m, IFLA_STATS64) + 4;
	const struct link_stat *s;
	struct link_table t;

	put64(m.p + st + offsetof(struct rtnl_link_stats64, rx_packets), 0x100000001ULL);
	put64(m.p + st + offsetof(struct rtnl_link_stats64, rx_dropped), 0x200000002ULL);
	put64(m.p + st + offsetof(struct rtnl_link_stats64, rx_missed_errors), 0x300000003ULL);
	put64(m.p + st + offsetof(struct rtnl_link_stats64, rx_fifo_errors), 0x400000004ULL);
	/* Fields not read stay out of it. */
	put64(m.p + st + offsetof(struct rtnl_link_stats64, tx_dropped), 99);
	put64(m.p + st + offsetof(struct rtnl_link_stats64, rx_over_errors), 98);
	v = with_msg(&b, REC_VA, &m);
	t = expect(&v, 1, ALL_RECORDED);
	s = link_at(&t, 3);
	cr_assert_str_eq(s->name, "vA");
	cr_assert_eq(s->rx_packets, 0x100000001ULL);
	cr_assert_eq(s->rx_dropped, 0x200000002ULL);
	cr_assert_eq(s->rx_missed_errors, 0x300000003ULL);
	cr_assert_eq(s->rx_fifo_errors, 0x400000004ULL);
	free(v.p);
	free(m.p);
	free(b.p);
}

/* IFLA_STATS64 wins over IFLA_STATS; without it, the 32-bit counters are read; without both, zeros. */
Test(fixture, stats32_fallback)
{
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_VB), v;
	size_t st32 = attr_off(&m, IFLA_STATS) + 4, a64 = attr_off(&m, IFLA_STATS64);
	const struct link_stat *s;
	struct link_table t;

	put32(m.p + st32 + offsetof(struct rtnl_link_stats, rx_packets), 11);
	put32(m.p + st32 + offsetof(struct rtnl_link_stats, rx_dropped), 22);
	put32(m.p + st32 + offsetof(struct rtnl_link_stats, rx_missed_errors), 33);
	put32(m.p + st32 + offsetof(struct rtnl_link_stats, rx_fifo_errors), 44);
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, ALL_RECORDED);
	s = link_at(&t, 2);
	cr_assert_eq(s->rx_packets, 5, "STATS64 first");
	cr_assert_eq(s->rx_dropped, 12);
	free(v.p);

	/* A type no kernel sends (above what the probe reads): STATS64 is gone. */
	put16(m.p + a64 + 2, 0x3ff0);
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, ALL_RECORDED);
	s = link_at(&t, 2);
	cr_assert_str_eq(s->name, "vB");
	cr_assert_eq(s->rx_packets, 11);
	cr_assert_eq(s->rx_dropped, 22);
	cr_assert_eq(s->rx_missed_errors, 33);
	cr_assert_eq(s->rx_fifo_errors, 44);
	free(v.p);

	/* Neither: the link is listed with no counters, as libnl-route's cache did. */
	put16(m.p + st32 - 4 + 2, 0x3ff1);
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, ALL_RECORDED);
	s = link_at(&t, 2);
	cr_assert_str_eq(s->name, "vB");
	cr_assert_eq(s->rx_packets, 0);
	cr_assert_eq(s->rx_dropped, 0);
	free(v.p);
	free(m.p);
	free(b.p);
}

/*
 * An older kernel's stats struct is shorter (no rx_nohandler, no
 * rx_otherhost_dropped): taken as long as it holds the fields read, a byte
 * shorter is malformed and its link skipped.
 */
Test(fixture, stats_length_policy)
{
	static const size_t need64 = offsetof(struct rtnl_link_stats64, rx_missed_errors) + 8;
	static const size_t need32 = offsetof(struct rtnl_link_stats, rx_missed_errors) + 4;
	struct buf b = load("links.bin"), m, v;
	struct link_table t;

	/* The original struct rtnl_link_stats64 of 23 counters: fine. */
	m = msg_copy(&b, REC_VB);
	shrink_attr(&m, IFLA_STATS64, 23 * 8);
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, ALL_RECORDED);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	free(v.p);
	free(m.p);

	/* Exactly the fields read: fine. */
	m = msg_copy(&b, REC_VB);
	shrink_attr(&m, IFLA_STATS64, (uint16_t)need64);
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, ALL_RECORDED);
	cr_assert_eq(link_at(&t, 2)->rx_packets, 5);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	free(v.p);
	free(m.p);

	/* One byte short of rx_missed_errors: vB is skipped, the others are whole. */
	m = msg_copy(&b, REC_VB);
	shrink_attr(&m, IFLA_STATS64, (uint16_t)(need64 - 1));
	v = with_msg(&b, REC_VB, &m);
	t = expect(&v, 1, BUT(2));
	assert_sorted(&t);
	free(v.p);
	free(m.p);

	/* Empty STATS64, and a short IFLA_STATS: skipped as well. */
	m = msg_copy(&b, REC_VB);
	shrink_attr(&m, IFLA_STATS64, 0);
	v = with_msg(&b, REC_VB, &m);
	expect(&v, 1, BUT(2));
	free(v.p);
	free(m.p);
	m = msg_copy(&b, REC_VA);
	shrink_attr(&m, IFLA_STATS, (uint16_t)(need32 - 4));
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);
	free(b.p);
}

/* Names: cut to LINK_NAME_MAX - 1, always terminated; one not NUL-terminated is malformed. */
Test(fixture, names)
{
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_LO), v;
	size_t a = attr_off(&m, IFLA_IFNAME);
	struct link_table t;

	cr_assert_eq(get16(m.p + a), 4 + 3, "\"lo\\0\"");
	m.p[a + 4 + 2] = 'x';
	v = with_msg(&b, REC_LO, &m);
	expect(&v, 1, BUT(1));
	free(v.p);

	/* An empty string ("\0"), and no name at all: the link stays, nameless. */
	m.p[a + 4] = '\0';
	m.p[a + 4 + 2] = '\0';
	v = with_msg(&b, REC_LO, &m);
	t = expect(&v, 1, ALL_RECORDED);
	cr_assert_str_eq(link_at(&t, 1)->name, "");
	cr_assert_eq(link_at(&t, 1)->rx_packets, 4);
	free(v.p);
	put16(m.p + a + 2, 0x3ff2);
	v = with_msg(&b, REC_LO, &m);
	t = expect(&v, 1, ALL_RECORDED);
	cr_assert_str_eq(link_at(&t, 1)->name, "");
	free(v.p);
	free(m.p);

	/* Longer than the kernel allows (a future kernel): cut, terminated. The last of two counts. */
	m = msg_copy(&b, REC_ABCD);
	add_attr(&m, IFLA_IFNAME, "abcdefghijklmnopqrstuvw", 24);
	v = with_msg(&b, REC_ABCD, &m);
	t = expect(&v, 1, ALL_RECORDED);
	cr_assert_str_eq(link_at(&t, 5)->name, "abcdefghijklmno");
	cr_assert_eq(strlen(link_at(&t, 5)->name), LINK_NAME_MAX - 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

/* A payload shorter than ifinfomsg, or a link the kernel could not have numbered. */
Test(fixture, short_payload_and_bad_ifindex)
{
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_VA), v;
	struct ifinfomsg ifi;

	m.len = HDR + IFI - 4;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	/* The header alone. */
	m.len = HDR;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);

	m = msg_copy(&b, REC_VA);
	memcpy(&ifi, m.p + HDR, sizeof(ifi));
	ifi.ifi_index = 0;
	memcpy(m.p + HDR, &ifi, sizeof(ifi));
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	ifi.ifi_index = -3;
	memcpy(m.p + HDR, &ifi, sizeof(ifi));
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);
	free(b.p);
}

/* Attribute lengths that do not add up: the message is skipped, never read past. */
Test(fixture, bad_attribute_lengths)
{
	struct buf b = load("links.bin"), m, v;
	size_t first = HDR + IFI;

	/* The first attribute runs past the message: nothing after it would be seen. */
	m = msg_copy(&b, REC_VA);
	put16(m.p + first, 0xfff0);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);

	/* Shorter than its own header. */
	m = msg_copy(&b, REC_VA);
	put16(m.p + first, 2);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);

	/* STATS64 four bytes longer than it is: the stream is off from there on. */
	m = msg_copy(&b, REC_VA);
	put16(m.p + attr_off(&m, IFLA_STATS64), (uint16_t)(get16(m.p + attr_off(&m, IFLA_STATS64)) + 4));
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);

	/* A message that ends in the middle of STATS64 (nlmsg_len says so). */
	m = msg_copy(&b, REC_VA);
	m.len = attr_off(&m, IFLA_STATS64) + 100;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);
	free(b.p);
}

/* Messages of other types in the stream are not links. */
Test(fixture, other_message_types_ignored)
{
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_VA), v;

	put16(m.p + 4, RTM_NEWADDR);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	put16(m.p + 4, RTM_DELLINK);
	v = with_msg(&b, REC_VA, &m);
	expect(&v, 1, BUT(3));
	free(v.p);
	free(m.p);
	free(b.p);
}

/* A recording cut inside the last link: the links before it, and more expected. */
Test(fixture, cut_recording)
{
	struct buf b = load("links.bin");

	expect(&(struct buf){ .p = b.p, .len = msg_off(&b, REC_ABCD) + 100 }, 0, BUT(5));
	expect(&(struct buf){ .p = b.p, .len = msg_off(&b, N_REC) }, 0, ALL_RECORDED);
	free(b.p);
}

static struct buf error_msg(int error, uint16_t type)
{
	uint8_t raw[HDR + sizeof(struct nlmsgerr)];
	struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)raw;
	struct buf m = { .p = NULL };

	memset(raw, 0, sizeof(raw));
	nlh->nlmsg_len = type == NLMSG_DONE ? (uint32_t)(HDR + 4) : (uint32_t)sizeof(raw);
	nlh->nlmsg_type = type;
	put32(raw + HDR, (uint32_t)error);
	append(&m, raw, nlh->nlmsg_len);
	return m;
}

Test(errors, nlmsg_error_done_error_interrupted_not_netlink)
{
	static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct buf b = load("links.bin"), e, v = { .p = NULL };
	struct link_table t;

	e = error_msg(-EPERM, NLMSG_ERROR);
	append(&v, b.p, msg_off(&b, REC_VA));
	append(&v, e.p, e.len);
	expect(&v, -EPERM, 0x6);        /* what came before the error: links_read empties it */
	free(v.p);
	free(e.p);

	/* A dump the kernel cut short ends in a DONE carrying the error. */
	v = (struct buf){ .p = NULL };
	e = error_msg(-EMSGSIZE, NLMSG_DONE);
	append(&v, b.p, msg_off(&b, REC_VA));
	append(&v, e.p, e.len);
	expect(&v, -EMSGSIZE, 0x6);
	free(v.p);
	free(e.p);

	put16(b.p + msg_off(&b, REC_VA) + 6, NLM_F_MULTI | NLM_F_DUMP_INTR);
	expect(&b, -EINTR, 0x6);

	t.count = 0;
	cr_assert_eq(links_parse(text, sizeof(text) - 1, &t), -EBADMSG);
	cr_assert_eq(links_parse(text, 7, &t), -EBADMSG);
	cr_assert_eq(links_parse(text, 0, &t), 0);
	cr_assert_eq(t.count, 0);
	free(b.p);
}

/*
 * More links than LINKS_MAX, in any order: the lowest ifindexes stay,
 * sorted. Made from vA's message, renumbered.
 */
Test(fixture, more_than_links_max_in_any_order)
{
	enum { N = LINKS_MAX + 10, BASE = 100 };
	struct buf b = load("links.bin"), m = msg_copy(&b, REC_VA), v = { .p = NULL };
	struct link_table t;
	struct ifinfomsg ifi;

	memcpy(&ifi, m.p + HDR, sizeof(ifi));
	for (int i = 0; i < N; i++) {
		ifi.ifi_index = BASE + (i * 5) % N;     /* 5 and N = 74 share no factor: a permutation */
		memcpy(m.p + HDR, &ifi, sizeof(ifi));
		append(&v, m.p, m.len);
	}
	append(&v, b.p + msg_off(&b, N_REC), HDR + 4);
	t.count = 0;
	cr_assert_eq(links_parse(v.p, v.len, &t), 1);
	cr_assert_eq(t.count, LINKS_MAX);
	for (size_t i = 0; i < LINKS_MAX; i++) {
		cr_assert_eq(t.items[i].ifindex, BASE + (int)i);
		cr_assert_str_eq(t.items[i].name, "vA");
	}
	free(v.p);
	free(m.p);
	free(b.p);
}

/* ---- live: the real kernel, in a namespace of the test's own ---- */

/* ---- a recorded stats dump (stats.bin): a steady read's counters, no names ---- */

#define IFSM (sizeof(struct if_stats_msg))

/* stats.bin's messages are links.bin's links, in the same order. */
static struct link_table expect_stats(const struct buf *b, int ret, unsigned ifindex_mask)
{
	struct link_table t = expect_with(links_parse_stats, b, ret, ifindex_mask);

	for (size_t i = 0; i < t.count; i++)
		cr_assert_str_eq(t.items[i].name, "", "a stats dump names nothing");
	return t;
}

static size_t stats_attr_off(const struct buf *m)
{
	return attr_off_from(m, HDR + IFSM, IFLA_STATS_LINK_64);
}

/* The same links and the same four counters as the link dump's, ifindex for ifindex. */
Test(stats, recorded_dump)
{
	struct buf b = load("stats.bin"), l = load("links.bin");
	struct link_table t = expect_stats(&b, 1, ALL_RECORDED), want = expect(&l, 1, ALL_RECORDED);

	for (size_t i = 0; i < t.count; i++) {
		cr_assert_eq(t.items[i].ifindex, want.items[i].ifindex);
		cr_assert_eq(t.items[i].rx_packets, want.items[i].rx_packets);
		cr_assert_eq(t.items[i].rx_dropped, want.items[i].rx_dropped);
		cr_assert_eq(t.items[i].rx_missed_errors, want.items[i].rx_missed_errors);
		cr_assert_eq(t.items[i].rx_fifo_errors, want.items[i].rx_fifo_errors);
	}
	cr_assert_eq(link_at(&t, 1)->rx_packets, 4);
	cr_assert_eq(link_at(&t, 2)->rx_packets, 5);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	/* Neither parser takes the other's messages. */
	expect(&b, 1, 0);
	expect_stats(&l, 1, 0);
	free(l.p);
	free(b.p);
}

/* In pieces, from an odd address, twice over: the same table. */
Test(stats, pieces_unaligned_and_fed_twice)
{
	struct buf b = load("stats.bin");
	size_t cut = msg_off(&b, REC_VA);
	uint8_t *odd = malloc(b.len + 1);
	struct link_table t;

	cr_assert(odd);
	memcpy(odd + 1, b.p, b.len);
	t.count = 0;
	cr_assert_eq(links_parse_stats(odd + 1, cut, &t), 0);
	cr_assert_eq(t.count, 2);
	cr_assert_eq(links_parse_stats(odd + 1 + cut, b.len - cut, &t), 1);
	cr_assert_eq(t.count, 5);
	cr_assert_eq(links_parse_stats(b.p, b.len, &t), 1);
	cr_assert_eq(t.count, 5);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	free(odd);
	free(b.p);
}

/* vA's message made malformed by damage: vA alone is skipped. */
static void expect_va_skipped(const struct buf *b, const struct buf *m)
{
	struct buf v = with_msg(b, REC_VA, m);

	expect_stats(&v, 1, BUT(3));
	free(v.p);
}

Test(stats, short_payload_bad_ifindex_other_types)
{
	struct buf b = load("stats.bin"), m = msg_copy(&b, REC_VA);
	struct if_stats_msg ifsm;

	m.len = HDR + IFSM - 4;
	put32(m.p, (uint32_t)m.len);
	expect_va_skipped(&b, &m);
	m.len = HDR;
	put32(m.p, (uint32_t)m.len);
	expect_va_skipped(&b, &m);
	free(m.p);

	m = msg_copy(&b, REC_VA);
	memcpy(&ifsm, m.p + HDR, sizeof(ifsm));
	ifsm.ifindex = 0;
	memcpy(m.p + HDR, &ifsm, sizeof(ifsm));
	expect_va_skipped(&b, &m);
	ifsm.ifindex = 0x80000000u;     /* an int below 0 */
	memcpy(m.p + HDR, &ifsm, sizeof(ifsm));
	expect_va_skipped(&b, &m);
	free(m.p);

	m = msg_copy(&b, REC_VA);
	put16(m.p + 4, RTM_NEWLINK);
	expect_va_skipped(&b, &m);
	put16(m.p + 4, RTM_DELLINK);
	expect_va_skipped(&b, &m);
	free(m.p);
	free(b.p);
}

Test(stats, bad_attribute_lengths)
{
	struct buf b = load("stats.bin"), m;
	size_t first = HDR + IFSM;

	m = msg_copy(&b, REC_VA);
	put16(m.p + first, 0xfff0);             /* runs past the message */
	expect_va_skipped(&b, &m);
	put16(m.p + first, 2);                  /* shorter than its own header */
	expect_va_skipped(&b, &m);
	put16(m.p + first, 4 + 200 + 4);        /* four bytes longer than it is */
	expect_va_skipped(&b, &m);
	free(m.p);

	/* The message ends in the middle of the counters. */
	m = msg_copy(&b, REC_VA);
	m.len = stats_attr_off(&m) + 100;
	put32(m.p, (uint32_t)m.len);
	expect_va_skipped(&b, &m);
	free(m.p);

	/* Four zero bytes after the last attribute: not an attribute. */
	m = msg_copy(&b, REC_VA);
	append(&m, "\0\0\0\0", 4);
	put32(m.p, (uint32_t)m.len);
	expect_va_skipped(&b, &m);
	free(m.p);
	free(b.p);
}

/*
 * The counters must hold rx_missed_errors, the last field read, and need
 * no more (an older kernel's struct is shorter); without them the message
 * has nothing asked for.
 */
Test(stats, counters_length_and_presence)
{
	struct buf b = load("stats.bin"), m, v;
	uint16_t need = (uint16_t)(offsetof(struct rtnl_link_stats64, rx_missed_errors) + 8);
	struct link_table t;

	m = msg_copy(&b, REC_VB);
	shrink_attr_from(&m, HDR + IFSM, IFLA_STATS_LINK_64, need);
	v = with_msg(&b, REC_VB, &m);
	t = expect_stats(&v, 1, ALL_RECORDED);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	free(v.p);
	free(m.p);

	m = msg_copy(&b, REC_VA);
	shrink_attr_from(&m, HDR + IFSM, IFLA_STATS_LINK_64, (uint16_t)(need - 4));
	expect_va_skipped(&b, &m);
	free(m.p);

	/* Only a type this parser does not read (IFLA_STATS_LINK_XSTATS). */
	m = msg_copy(&b, REC_VA);
	put16(m.p + stats_attr_off(&m) + 2, IFLA_STATS_LINK_XSTATS);
	expect_va_skipped(&b, &m);
	free(m.p);
	free(b.p);
}

/* The kernel's 64-bit alignment padding before the counters, and a newer kernel's attribute after them, are passed over. */
Test(stats, padding_and_unknown_attributes)
{
	struct buf b = load("stats.bin"), m = msg_copy(&b, REC_VB), p = { .p = NULL }, v;
	static const uint8_t pad[4] = { 4, 0, IFLA_STATS_UNSPEC, 0 };
	static const uint8_t junk[3] = { 0xff, 0xff, 0xff };
	struct link_table t;

	append(&p, m.p, HDR + IFSM);
	append(&p, pad, sizeof(pad));
	append(&p, m.p + HDR + IFSM, m.len - HDR - IFSM);
	put32(p.p, (uint32_t)p.len);
	add_attr(&p, 42, junk, sizeof(junk));
	v = with_msg(&b, REC_VB, &p);
	t = expect_stats(&v, 1, ALL_RECORDED);
	cr_assert_eq(link_at(&t, 2)->rx_packets, 5);
	cr_assert_eq(link_at(&t, 2)->rx_dropped, 12);
	free(v.p);
	free(p.p);
	free(m.p);
	free(b.p);
}

Test(stats, error_interrupted_cut)
{
	struct buf b = load("stats.bin"), e, v = { .p = NULL };

	e = error_msg(-EPERM, NLMSG_ERROR);
	append(&v, b.p, msg_off(&b, REC_VA));
	append(&v, e.p, e.len);
	expect_stats(&v, -EPERM, 0x6);
	free(v.p);
	free(e.p);
	expect_stats(&(struct buf){ .p = b.p, .len = msg_off(&b, REC_ABCD) + 100 }, 0, BUT(5));
	put16(b.p + msg_off(&b, REC_VA) + 6, NLM_F_MULTI | NLM_F_DUMP_INTR);
	expect_stats(&b, -EINTR, 0x6);
	free(b.p);
}

/*
 * A fresh namespace with lo up and IPv6 off, so that no neighbour
 * discovery or MLD frame crosses the veth pair and the counts are exact.
 * Criterion runs each test in its own process: the unshare is contained,
 * and the namespace's sysctls are its own.
 */
static void enter_netns(void)
{
	FILE *f;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s (needs root or user namespaces)", strerror(errno));
	if (system("ip -V >/dev/null 2>&1") != 0)
		cr_skip_test("iproute2's ip is not installed");
	for (int i = 0; i < 2; i++) {
		f = fopen(i ? "/proc/sys/net/ipv6/conf/default/disable_ipv6"
			    : "/proc/sys/net/ipv6/conf/all/disable_ipv6", "we");
		if (!f)
			continue;       /* no IPv6 at all: nothing to silence */
		fputs("1\n", f);
		fclose(f);
	}
	cr_assert_eq(system("ip link set lo up"), 0);
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

/*
 * A veth pair, or skip: veth may be a module this kernel lacks (no module
 * loading here). Only the first pair of a test goes through this: once one
 * is made, a failure to make the next is a failure.
 */
static void add_veth(const char *a, const char *b)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s", a, b);
	if (system(cmd) != 0)
		cr_skip_test("%s failed: no veth in this kernel?", cmd);
}

static void veth_pair(void)
{
	add_veth("vA", "vB");
	sh("ip link set vA up");
	sh("ip link set vB up");
}

static const struct link_stat *must_find(const struct link_table *t, const char *name)
{
	const struct link_stat *s = find_link(t, (int)if_nametoindex(name));

	cr_assert(s, "%s not in the table", name);
	return s;
}

static struct link_stat must_link(struct links *lk, const char *name)
{
	struct link_table t;
	const struct link_stat *s;
	int ifindex = (int)if_nametoindex(name);

	cr_assert_gt(ifindex, 0, "no interface %s", name);
	cr_assert_eq(links_read(lk, &t), 0);
	s = find_link(&t, ifindex);
	cr_assert(s, "%s (ifindex %d) not in the table", name, ifindex);
	return *s;
}

/* A raw socket that sends frames out of ifname, past the qdisc. */
static int frame_sender(const char *ifname)
{
	struct sockaddr_ll sll;
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "AF_PACKET: %s", strerror(errno));
	/*
	 * Straight to the driver: right after "up", the qdisc may still be the
	 * no-op one until linkwatch runs, and would drop frames of its own.
	 */
	cr_assert(setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) == 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	cr_assert(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	return fd;
}

/* A packet socket on ifname that takes frames of ethertype proto: they have a handler. */
static int frame_receiver(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));

	cr_assert(fd >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	cr_assert(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	return fd;
}

/* Send n broadcast frames of len bytes and ethertype proto. Return: how many the stack refused. */
static int send_frames(int fd, uint16_t proto, size_t len, int n)
{
	uint8_t frame[2048];
	int refused = 0;

	cr_assert(len >= ETH_HLEN && len <= sizeof(frame));
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, ETH_ALEN);                        /* broadcast */
	memcpy(frame + ETH_ALEN, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	frame[12] = (uint8_t)(proto >> 8);
	frame[13] = (uint8_t)proto;
	for (int i = 0; i < n; i++) {
		if (send(fd, frame, len, 0) == (ssize_t)len)
			continue;
		/* veth drops a frame its peer cannot take and says so as ENOBUFS. */
		cr_assert_eq(errno, ENOBUFS, "send: %s", strerror(errno));
		refused++;
	}
	return refused;
}

/*
 * Wait (1 s at most) until vB's counters reach the wanted values: a frame
 * nobody takes is dropped in the receive softirq, which may run just after
 * send() returns.
 */
static struct link_stat wait_counts(struct links *lk, uint64_t rx_packets, uint64_t rx_dropped)
{
	struct link_stat s;

	for (int i = 0; i < 100; i++) {
		s = must_link(lk, "vB");
		if (s.rx_packets >= rx_packets && s.rx_dropped >= rx_dropped)
			break;
		usleep(10 * 1000);
	}
	return s;
}

Test(links, lo_and_veth_found)
{
	struct link_table t;
	struct links *lk;
	const struct link_stat *s;
	int ia, ib;

	enter_netns();
	veth_pair();
	ia = (int)if_nametoindex("vA");
	ib = (int)if_nametoindex("vB");
	cr_assert(ia > 0 && ib > 0);

	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t), 0);
	cr_assert_eq(t.count, 3, "lo, vA, vB: got %zu", t.count);
	for (size_t i = 1; i < t.count; i++)
		cr_assert_lt(t.items[i - 1].ifindex, t.items[i].ifindex, "sorted by ifindex");

	s = find_link(&t, 1);
	cr_assert(s, "lo is ifindex 1 in every namespace");
	cr_assert_str_eq(s->name, "lo");
	s = find_link(&t, ia);
	cr_assert(s);
	cr_assert_str_eq(s->name, "vA");
	s = find_link(&t, ib);
	cr_assert(s);
	cr_assert_str_eq(s->name, "vB");
	/* A new veth has received nothing, and has no ring to miss or overrun. */
	for (size_t i = 0; i < t.count; i++) {
		cr_assert_eq(t.items[i].rx_dropped, 0, "%s", t.items[i].name);
		cr_assert_eq(t.items[i].rx_missed_errors, 0);
		cr_assert_eq(t.items[i].rx_fifo_errors, 0);
	}
	cr_assert_eq(must_find(&t, "vB")->rx_packets, 0, "IPv6 is off: nothing crossed the pair yet");
	links_close(lk);
	links_close(NULL);
}

Test(links, rx_packets_and_drops_exact)
{
	struct links *lk;
	struct link_stat s0, s;
	int tx, rx;
	uint8_t got[2048];
	int received = 0;

	enter_netns();
	veth_pair();
	/* vB takes at most 1000-byte frames; vA sends up to 1500. */
	sh("ip link set vB mtu 1000");
	tx = frame_sender("vA");
	rx = frame_receiver("vB", ETH_P_TEST_RX);
	cr_assert_eq(links_open(&lk), 0);
	s0 = must_link(lk, "vB");

	/* 1. Frames with a taker: received, not dropped. */
	cr_assert_eq(send_frames(tx, ETH_P_TEST_RX, 100, 5), 0);
	s = wait_counts(lk, s0.rx_packets + 5, 0);
	cr_assert_eq(s.rx_packets, s0.rx_packets + 5);
	cr_assert_eq(s.rx_dropped, s0.rx_dropped);
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = rx, .events = POLLIN };

		cr_assert_eq(poll(&p, 1, 1000), 1);
		cr_assert_eq(recv(rx, got, sizeof(got), 0), 100);
		received++;
	}
	cr_assert_eq(received, 5);

	/* 2. Frames over vB's MTU: veth drops them at vB's door (rx_dropped), never received. */
	cr_assert_eq(send_frames(tx, ETH_P_TEST_RX, 1400, 7), 7);
	s = wait_counts(lk, s0.rx_packets + 5, s0.rx_dropped + 7);
	cr_assert_eq(s.rx_packets, s0.rx_packets + 5);
	cr_assert_eq(s.rx_dropped, s0.rx_dropped + 7);

	/* 3. Frames nobody takes: received by the device, then dropped by the stack. */
	cr_assert_eq(send_frames(tx, ETH_P_TEST_NONE, 100, 3), 0);
	s = wait_counts(lk, s0.rx_packets + 8, s0.rx_dropped + 10);
	cr_assert_eq(s.rx_packets, s0.rx_packets + 8);
	cr_assert_eq(s.rx_dropped, s0.rx_dropped + 10);
	cr_assert_eq(s.rx_missed_errors, 0);
	cr_assert_eq(s.rx_fifo_errors, 0);

	/* The sender's side received nothing. */
	s = must_link(lk, "vA");
	cr_assert_eq(s.rx_packets, 0);
	cr_assert_eq(s.rx_dropped, 0);
	close(tx);
	close(rx);
	links_close(lk);
}

Test(links, reads_are_monotonic_and_see_new_links)
{
	struct link_table t1, t2;
	struct links *lk;
	int tx;

	enter_netns();
	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t1), 0);
	cr_assert_eq(t1.count, 1, "only lo");
	/* Links made after open show up: each read refills the cache. */
	veth_pair();
	tx = frame_sender("vA");
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(links_read(lk, &t1), 0);
		cr_assert_eq(t1.count, 3);
		send_frames(tx, ETH_P_TEST_NONE, 64, 4);
		usleep(20 * 1000);
		cr_assert_eq(links_read(lk, &t2), 0);
		cr_assert_eq(t2.count, 3);
		for (size_t i = 0; i < t2.count; i++) {
			cr_assert_eq(t1.items[i].ifindex, t2.items[i].ifindex);
			cr_assert_geq(t2.items[i].rx_packets, t1.items[i].rx_packets);
			cr_assert_geq(t2.items[i].rx_dropped, t1.items[i].rx_dropped);
		}
		cr_assert_eq(must_find(&t2, "vB")->rx_packets, must_find(&t1, "vB")->rx_packets + 4);
	}
	/* A link that goes away goes from the table too. */
	sh("ip link del vA");
	cr_assert_eq(links_read(lk, &t2), 0);
	cr_assert_eq(t2.count, 1);
	cr_assert_str_eq(t2.items[0].name, "lo");
	close(tx);
	links_close(lk);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

Test(links, more_than_links_max_keeps_the_lowest_ifindexes)
{
	enum { PAIRS = LINKS_MAX / 2 + 3 };        /* 2 * 35 veths + lo = 71 links */
	int idx[2 * PAIRS + 1], n = 0;
	struct link_table t;
	struct links *lk;
	FILE *f;
	char name[IF_NAMESIZE];

	enter_netns();
	add_veth("a0", "b0");
	/* One ip process for all the others, its batch on stdin. */
	f = popen("ip -batch -", "we");
	cr_assert(f);
	for (int i = 1; i < PAIRS; i++)
		fprintf(f, "link add a%d type veth peer name b%d\n", i, i);
	cr_assert_eq(pclose(f), 0, "ip -batch failed");
	idx[n++] = 1;
	for (int i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		idx[n++] = (int)if_nametoindex(name);
		snprintf(name, sizeof(name), "b%d", i);
		idx[n++] = (int)if_nametoindex(name);
	}
	qsort(idx, (size_t)n, sizeof(idx[0]), cmp_int);

	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t), 0);
	cr_assert_eq(t.count, LINKS_MAX);
	for (size_t i = 0; i < LINKS_MAX; i++)
		cr_assert_eq(t.items[i].ifindex, idx[i], "slot %zu: ifindex %d, want %d",
			     i, t.items[i].ifindex, idx[i]);
	links_close(lk);
}

Test(links, long_names_fit)
{
	struct link_table t;
	struct links *lk;

	enter_netns();
	/* IFNAMSIZ - 1 = 15 characters, the longest the kernel allows. */
	add_veth("abcdefghijklmno", "ponmlkjihgfedcb");
	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t), 0);
	cr_assert_eq(t.count, 3);
	cr_assert_str_eq(must_find(&t, "abcdefghijklmno")->name, "abcdefghijklmno");
	cr_assert_str_eq(must_find(&t, "ponmlkjihgfedcb")->name, "ponmlkjihgfedcb");
	links_close(lk);
}

/* Send n UDP datagrams over lo to a socket of ours. Return: the receiving socket. */
static int udp_over_lo(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(r >= 0 && s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(r, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(r, (struct sockaddr *)&a, &alen), 0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1,
			     "sendto: %s", strerror(errno));
	close(s);
	return r;
}

/* lo alone, in every namespace: its counters follow the traffic on it, exactly. */
Test(links, lo_counters_move)
{
	struct links *lk;
	struct link_stat s0, s;
	char got[8];
	int r;

	enter_netns();
	cr_assert_eq(links_open(&lk), 0);
	s0 = must_link(lk, "lo");
	cr_assert_eq(s0.ifindex, 1, "lo is ifindex 1 in every namespace");
	cr_assert_str_eq(s0.name, "lo");

	r = udp_over_lo(10);
	/* Bounded: 1 s at most for the receive path to count them. */
	for (int i = 0; i < 100; i++) {
		s = must_link(lk, "lo");
		if (s.rx_packets >= s0.rx_packets + 10)
			break;
		usleep(10 * 1000);
	}
	cr_assert_eq(s.rx_packets, s0.rx_packets + 10, "IPv6 is off: only our datagrams");
	cr_assert_eq(s.rx_dropped, s0.rx_dropped, "every datagram had a taker");
	cr_assert_eq(s.rx_missed_errors, 0);
	cr_assert_eq(s.rx_fifo_errors, 0);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(recv(r, got, sizeof(got), MSG_DONTWAIT), 1);
	close(r);
	links_close(lk);
}

/*
 * The issue this probe was rewritten for: a steady read allocates nothing,
 * in the whole process (libmnl and libnl-3 included), with a veth pair as
 * well when there can be one.
 */
Test(links, steady_reads_allocate_nothing)
{
	struct link_table t;
	struct links *lk;
	unsigned long n;
	size_t want = 1;
	int rc[5];

	if (!COUNT_ALLOCS)
		cr_skip_test("sanitizer build: ASan owns malloc (test_alloc covers libbacklog.a)");
	/* The counter sees allocations inside shared libraries: fopen's FILE, in libc. */
	count_start();
	fclose(fopen("/dev/null", "re"));
	cr_assert_geq(count_stop(), 2, "fopen and fclose were not seen: no counting");

	enter_netns();
	if (system("ip link add vA type veth peer name vB") == 0)
		want = 3;
	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t), 0);
	count_start();
	for (int i = 0; i < 5; i++)
		rc[i] = links_read(lk, &t);
	n = count_stop();
	for (int i = 0; i < 5; i++)
		cr_assert_eq(rc[i], 0, "read %d: %s", i, strerror(-rc[i]));
	cr_assert_eq(n, 0, "%lu allocations or frees in 5 steady reads", n);
	cr_assert_eq(t.count, want);
	cr_assert_str_eq(t.items[0].name, "lo");
	links_close(lk);
}

/* ---- the names: a steady read is a stats dump, named from the last link dump ---- */

static struct link_table read_links(struct links *lk)
{
	struct link_table t;
	int r = links_read(lk, &t);

	cr_assert_eq(r, 0, "links_read: %s", strerror(-r));
	assert_sorted(&t);
	return t;
}

/* The name the read gave ifindex, which must be in it. */
static const char *name_of(const struct link_table *t, int ifindex)
{
	return link_at(t, ifindex)->name;
}

Test(names, one_link_dump_in_names_every_reads)
{
	struct link_table t;
	struct links *lk;

	enter_netns();
	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_link_dumps(lk), 0);
	for (int i = 0; i < LINKS_NAMES_EVERY; i++) {
		t = read_links(lk);
		cr_assert_eq(t.count, 1);
		cr_assert_str_eq(t.items[0].name, "lo", "read %d", i);
	}
	cr_assert_eq(links_link_dumps(lk), 1, "the first read alone dumps links");
	t = read_links(lk);
	cr_assert_str_eq(t.items[0].name, "lo");
	cr_assert_eq(links_link_dumps(lk), 2);
	links_close(lk);
}

Test(names, a_link_that_comes_or_goes_is_read_at_once)
{
	struct link_table t;
	struct links *lk;

	enter_netns();
	cr_assert_eq(links_open(&lk), 0);
	read_links(lk);
	veth_pair();
	t = read_links(lk);
	cr_assert_eq(t.count, 3);
	cr_assert_eq(links_link_dumps(lk), 2, "a new ifindex: a link dump names it");
	cr_assert_str_eq(must_find(&t, "vA")->name, "vA");
	cr_assert_str_eq(must_find(&t, "vB")->name, "vB");
	t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), 2, "nothing moved: a stats dump");
	cr_assert_str_eq(must_find(&t, "vA")->name, "vA");
	cr_assert_str_eq(must_find(&t, "vB")->name, "vB");
	sh("ip link del vA");
	t = read_links(lk);
	cr_assert_eq(t.count, 1);
	cr_assert_str_eq(t.items[0].name, "lo");
	cr_assert_eq(links_link_dumps(lk), 3);
	links_close(lk);
}

/*
 * A rename keeps the ifindex and the counters: nothing in a stats dump
 * tells it. The periodic link dump names it right.
 */
Test(names, a_renamed_link_is_renamed_at_the_next_link_dump)
{
	struct link_table t;
	struct links *lk;
	int ia;

	enter_netns();
	veth_pair();
	ia = (int)if_nametoindex("vA");
	cr_assert_eq(links_open(&lk), 0);
	t = read_links(lk);
	cr_assert_str_eq(name_of(&t, ia), "vA");
	sh("ip link set vA down && ip link set vA name vC && ip link set vC up");
	for (int i = 1; i < LINKS_NAMES_EVERY; i++)
		t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), 1);
	t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), 2);
	cr_assert_str_eq(name_of(&t, ia), "vC");
	cr_assert_eq(t.count, 3);
	links_close(lk);
}

/*
 * A pair replaced by another under the same two ifindexes: the set is
 * the same. With counters as low as the old ones' (0), the periodic link
 * dump names the new pair; when a counter falls, the very next read does.
 */
Test(names, a_reused_ifindex_is_renamed)
{
	struct link_table t;
	struct links *lk;
	unsigned long dumps;
	int tx;

	enter_netns();
	if (system("ip link add vA index 40 type veth peer name vB index 41") != 0)
		cr_skip_test("no veth in this kernel, or no ifindex of choice");
	sh("ip link set vA up && ip link set vB up");
	cr_assert_eq(links_open(&lk), 0);
	t = read_links(lk);
	cr_assert_str_eq(name_of(&t, 41), "vB");
	sh("ip link del vA && ip link add vX index 40 type veth peer name vY index 41");
	sh("ip link set vX up && ip link set vY up");
	for (int i = 1; i < LINKS_NAMES_EVERY; i++)
		t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), 1);
	t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), 2);
	cr_assert_str_eq(name_of(&t, 40), "vX");
	cr_assert_str_eq(name_of(&t, 41), "vY");

	/* vY receives 4 frames; then a new pair, its counters at 0, takes 40 and 41. */
	tx = frame_sender("vX");
	send_frames(tx, ETH_P_TEST_NONE, 64, 4);
	close(tx);
	for (int i = 0; i < 20 && link_at(&t, 41)->rx_packets < 4; i++) {
		usleep(20 * 1000);
		t = read_links(lk);
	}
	cr_assert_eq(link_at(&t, 41)->rx_packets, 4);
	cr_assert_str_eq(name_of(&t, 41), "vY");
	dumps = links_link_dumps(lk);
	cr_assert_eq(dumps, 2, "steady reads in between");
	sh("ip link del vX && ip link add vP index 40 type veth peer name vQ index 41");
	t = read_links(lk);
	cr_assert_eq(links_link_dumps(lk), dumps + 1, "a counter fell: a link dump");
	cr_assert_str_eq(name_of(&t, 40), "vP");
	cr_assert_str_eq(name_of(&t, 41), "vQ");
	cr_assert_eq(link_at(&t, 41)->rx_packets, 0);
	links_close(lk);
}

/* ---- the kernel's extended ACK, kept by the transport ---- */

static int ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/*
 * inet_diag gives no extended-ACK message on any path, but rtnetlink's
 * strict dump checks do: a link dump filtered by ifindex is refused with
 * one, at the end of the dump (NLMSG_DONE, not NLMSG_ERROR).
 */
Test(live, ext_ack_from_the_kernel)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))] __attribute__((aligned(4)));
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct nlsock nl;
	int one = 1, r;

	enter_netns();
	cr_assert_eq(nlsock_open(&nl, NETLINK_ROUTE), 0);
	if (mnl_socket_setsockopt(nl.mnl, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
		cr_skip_test("NETLINK_GET_STRICT_CHK: %s (a kernel before 4.20)", strerror(errno));
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 1;
	r = nlsock_dump(&nl, nlh, ignore_cb, NULL);
	cr_assert_eq(r, -EINVAL, "%d", r);
	cr_assert_not_null(strstr(nlsock_ext_ack(&nl), "device index"), "ext ack \"%s\"",
			   nlsock_ext_ack(&nl));
	/* The next dump starts with none: the message belongs to the request it explains. */
	ifi->ifi_index = 0;
	cr_assert_eq(nlsock_dump(&nl, nlh, ignore_cb, NULL), 0);
	cr_assert_str_eq(nlsock_ext_ack(&nl), "");
	nlsock_close(&nl);
}

/* ---- message lengths that would lead the walk astray (found by fuzz_links) ---- */

/*
 * A DONE carrying an error and an extended-ACK message, its nlmsg_len odd
 * and the buffer ending there, without the padding the kernel always puts:
 * libmnl would walk the attributes up to the aligned end, past the buffer
 * (ASan saw strnlen read 3 bytes beyond). Such a message is not whole.
 */
Test(lengths, unpadded_last_message_is_not_read)
{
	const size_t len = HDR + 4 + 4 + 5;   /* header, status, TLV header, "abcde" */
	uint8_t *b = malloc(len);             /* exactly len: ASan sees any read past it */
	struct link_table t;
	int32_t status = -EPERM;

	cr_assert_not_null(b);
	memset(&t, 0, sizeof(t));
	put32(b, (uint32_t)len);
	put16(b + 4, NLMSG_DONE);
	put16(b + 6, NLM_F_MULTI | NLM_F_ACK_TLVS);
	put32(b + 8, 1);
	put32(b + 12, 0);
	memcpy(b + HDR, &status, sizeof(status));
	put16(b + HDR + 4, 4 + 8);            /* claims 8 bytes: 3 of them past the buffer */
	put16(b + HDR + 6, 1);                /* NLMSGERR_ATTR_MSG */
	memcpy(b + HDR + 8, "abcde", 5);
	cr_assert_eq(links_parse(b, len, &t), -EBADMSG, "a message cut before its padding is not read");
	cr_assert_eq(t.count, 0);
	free(b);
}

/* A length of 2^32 - 1 rounds up to 0: the walk must stop, not stay on the message forever. */
Test(lengths, huge_length_ends_the_walk, .timeout = 10)
{
	uint8_t b[2 * 16] = { 0 };
	struct link_table t;

	memset(&t, 0, sizeof(t));
	put32(b, 16);
	put16(b + 4, NLMSG_NOOP);
	put32(b + 16, 0xffffffffu);
	put16(b + 20, RTM_NEWLINK);
	(void)links_parse(b, sizeof(b), &t);
	cr_assert_eq(t.count, 0);
}
