/* test_sockdiag.c: the inet_diag parser on recorded kernel dumps and damaged copies of them, plus a live dump in a private netns. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "listener.h"
#include "nl.h"
#include "sockdiag.h"
#include "netns_fixture.h"
#include "buf_fixture.h"

#define FIXDIR FIXTURES "/sockdiag/"

/* Sizes of one recorded entry (6.18 kernel, INFO + SKMEMINFO asked). */
#define HDR ((size_t)MNL_NLMSG_HDRLEN)
#define DIAG (sizeof(struct inet_diag_msg))

/* Every fixture of this file is under FIXDIR. */
static struct buf load(const char *name)
{
	return buf_load(FIXDIR, name);
}

/* Offset of the first attribute of TYPE inside a message copy. */
static size_t attr_off(const struct buf *m, uint16_t type)
{
	return attr_off_from(m, HDR + DIAG, type);
}

static const struct listener *find(const struct listener_set *s, uint8_t family, uint16_t port)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->items[i].family == family && s->items[i].port == port)
			return &s->items[i];
	return NULL;
}

static const struct listener *must_find(const struct listener_set *s, uint8_t family, uint16_t port)
{
	const struct listener *l = find(s, family, port);

	cr_assert(l, "no listener family %u port %u", family, port);
	return l;
}

static void assert_name(const struct listener *l, const char *want)
{
	char name[LISTENER_NAME_MAX];

	cr_assert_str_eq(listener_name(l, name, sizeof(name)), want);
}

/* The message of the 9090 listener in listeners-inet.bin (the full one). */
#define INET_FULL_IDX 2

/* ---- recorded dumps ---- */

Test(fixture, ipv4_listeners)
{
	struct buf b = load("listeners-inet.bin");
	struct listener_set s;
	const struct listener *l;

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	cr_assert_eq(s.count, 3);
	cr_assert_eq(s.skipped, 0);

	l = must_find(&s, AF_INET, 8080);
	assert_name(l, "127.0.0.1:8080");
	cr_assert_eq(l->backlog, 128);
	cr_assert_eq(l->queue, 0);
	cr_assert(l->has_drops);
	cr_assert_eq(l->drops, 0);
	cr_assert_eq(l->inode, 16331);
	cr_assert_eq(l->uid, 0);
	cr_assert_eq(l->cookie, 2);
	cr_assert_eq(l->cgroup_id, 1);

	l = must_find(&s, AF_INET, 2222);
	assert_name(l, "0.0.0.0:2222");
	cr_assert_eq(l->backlog, 16);
	cr_assert_eq(l->queue, 0);
	cr_assert_eq(l->inode, 16332);

	/* listen(fd, 2), six connects: queue holds backlog + 1, the rest dropped. */
	l = must_find(&s, AF_INET, 9090);
	assert_name(l, "127.0.0.1:9090");
	cr_assert_eq(l->backlog, 2);
	cr_assert_eq(l->queue, 3);
	cr_assert(l->has_drops);
	cr_assert_gt(l->drops, 0);
	cr_assert_eq(l->drops, 3);
	cr_assert_eq(l->inode, 16333);

	listener_set_free(&s);
	free(b.p);
}

Test(fixture, ipv6_listeners)
{
	struct buf b = load("listeners-inet6.bin");
	struct listener_set s;
	const struct listener *l;
	char addr[INET6_ADDRSTRLEN];

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	cr_assert_eq(s.count, 4);
	cr_assert_eq(s.skipped, 0);
	for (size_t i = 0; i < s.count; i++)
		cr_assert_eq(s.items[i].family, AF_INET6);

	l = must_find(&s, AF_INET6, 443);
	assert_name(l, "[::1]:443");
	cr_assert_str_eq(listener_addr(l, addr, sizeof(addr)), "::1");
	cr_assert_eq(l->backlog, 64);
	cr_assert_eq(l->inode, 16334);

	/* listen(fd, 10000) in a fresh netns: clamped to somaxconn 4096. */
	l = must_find(&s, AF_INET6, 8443);
	assert_name(l, "[::]:8443");
	cr_assert_eq(l->backlog, 4096);

	/* An IPv6 socket on a v4-mapped address stays IPv6, in brackets. */
	l = must_find(&s, AF_INET6, 7070);
	assert_name(l, "[::ffff:127.0.0.1]:7070");
	cr_assert_eq(l->backlog, 8);

	l = must_find(&s, AF_INET6, 9443);
	assert_name(l, "[::1]:9443");
	cr_assert_eq(l->backlog, 1);
	cr_assert_eq(l->queue, 2);
	cr_assert_eq(l->drops, 2);

	listener_set_free(&s);
	free(b.p);
}

Test(fixture, empty_dump)
{
	struct buf b = load("empty-inet.bin");
	struct listener_set s;

	cr_assert_eq(b.len, HDR + sizeof(int));
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(s.skipped, 0);
	listener_set_free(&s);
	free(b.p);
}

static void assert_many(const struct listener_set *s)
{
	cr_assert_eq(s->count, 300);
	cr_assert_eq(s->skipped, 0);
	for (unsigned i = 0; i < 300; i++) {
		const struct listener *l = must_find(s, AF_INET, (uint16_t)(20000 + i));

		cr_assert_eq(l->backlog, 100 + i, "port %u", 20000 + i);
		cr_assert_eq(l->queue, 0);
	}
}

Test(fixture, many_listeners_over_several_recvs)
{
	struct buf b = load("many-inet.bin");
	struct listener_set s;

	/* 300 entries of 448 bytes: more than one NL_RECV_BUF worth. */
	cr_assert_gt(b.len, (size_t)NL_RECV_BUF);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	assert_many(&s);
	listener_set_free(&s);
	free(b.p);
}

Test(fixture, many_listeners_fed_in_pieces)
{
	struct buf b = load("many-inet.bin");
	struct listener_set s;
	size_t cut1 = msg_off(&b, 100), cut2 = msg_off(&b, 250);

	/* As the daemon would see it: several buffers, DONE only in the last. */
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, cut1, &s), 0);
	cr_assert_eq(s.count, 100);
	cr_assert_eq(sockdiag_parse(b.p + cut1, cut2 - cut1, &s), 0);
	cr_assert_eq(sockdiag_parse(b.p + cut2, b.len - cut2, &s), 1);
	assert_many(&s);
	listener_set_free(&s);
	free(b.p);
}

Test(fixture, unaligned_buffer)
{
	struct buf b = load("listeners-inet.bin");
	uint8_t *odd = malloc(b.len + 1);
	struct listener_set s;

	cr_assert(odd);
	memcpy(odd + 1, b.p, b.len);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(odd + 1, b.len, &s), 1);
	cr_assert_eq(s.count, 3);
	listener_set_free(&s);
	free(odd);
	free(b.p);
}

/* ---- damaged copies of a recorded dump ---- */

/* Parse b; expect ret, count entries and skipped malformed ones. */
static void expect(const struct buf *b, int ret, size_t count, unsigned skipped)
{
	struct listener_set s;

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b->p, b->len, &s), ret);
	cr_assert_eq(s.count, count, "count %zu, want %zu", s.count, count);
	cr_assert_eq(s.skipped, skipped, "skipped %u, want %u", s.skipped, skipped);
	listener_set_free(&s);
}

Test(malformed, truncated_mid_message)
{
	struct buf b = load("listeners-inet.bin");

	/* Cut half-way through the second entry: one entry, one skipped, no DONE. */
	b.len = msg_off(&b, 1) + 200;
	expect(&b, 0, 1, 1);
	/* Cut inside the second entry's header. */
	b.len = msg_off(&b, 1) + 10;
	expect(&b, 0, 1, 1);
	free(b.p);
}

Test(malformed, nlmsg_len_too_small_for_inet_diag_msg)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, 0), v;

	/* A whole message, but its payload ends inside struct inet_diag_msg. */
	m.len = HDR + DIAG - 8;
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 2, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

/* libmnl's own check reads nlmsg_len as an int: 2^31 and more must not pass as a length. */
Test(malformed, nlmsg_len_over_2g)
{
	struct buf b = load("listeners-inet.bin");
	size_t off = msg_off(&b, 1);

	put32(b.p + off, 0x80000000u + (uint32_t)(msg_off(&b, 2) - off));
	expect(&b, 0, 1, 1);
	put32(b.p + off, 0xffffffffu);
	expect(&b, 0, 1, 1);
	free(b.p);
}

static void bad_attr_len(uint16_t type, uint16_t nla_len)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, 0), v;

	put16(m.p + attr_off(&m, type), nla_len);
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 2, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(malformed, skmeminfo_not_whole_u32s)
{
	bad_attr_len(INET_DIAG_SKMEMINFO, 4 + 35);
}

Test(malformed, attr_runs_past_message)
{
	bad_attr_len(INET_DIAG_SKMEMINFO, 0xfff0);
}

Test(malformed, attr_shorter_than_its_header)
{
	bad_attr_len(INET_DIAG_SKMEMINFO, 2);
}

Test(malformed, cgroup_id_wrong_size)
{
	bad_attr_len(BACKLOGD_INET_DIAG_CGROUP_ID, 4 + 4);
}

Test(malformed, unknown_family_skipped)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, 0), v;

	m.p[HDR] = AF_UNIX;      /* idiag_family */
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 2, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(malformed, unknown_message_type_skipped)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, 0), v;

	put16(m.p + 4, 99);      /* nlmsg_type */
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 2, 1);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(malformed, non_listen_state_ignored_not_skipped)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, 0), v;

	m.p[HDR + 1] = 1;        /* idiag_state = TCP_ESTABLISHED */
	v = with_msg(&b, 0, &m);
	expect(&v, 1, 2, 0);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(attrs, unknown_attribute_ignored)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, INET_FULL_IDX), v;
	uint8_t extra[8];
	struct listener_set s;
	const struct listener *l;

	/* A newer kernel's attribute, type 200, appended to the full listener. */
	put16(extra, sizeof(extra));
	put16(extra + 2, 200);
	put32(extra + 4, 0xdeadbeef);
	append(&m, extra, sizeof(extra));
	put32(m.p, (uint32_t)m.len);
	v = with_msg(&b, INET_FULL_IDX, &m);

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), 1);
	cr_assert_eq(s.count, 3);
	cr_assert_eq(s.skipped, 0);
	l = must_find(&s, AF_INET, 9090);
	cr_assert_eq(l->queue, 3);
	cr_assert_eq(l->drops, 3);
	listener_set_free(&s);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(attrs, short_skmeminfo_means_no_drops)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, INET_FULL_IDX), v, shrunk = { .p = NULL };
	size_t a = attr_off(&m, INET_DIAG_SKMEMINFO);
	uint16_t alen = get16(m.p + a);
	struct listener_set s;
	const struct listener *l;

	/* A pre-4.7 kernel: SKMEMINFO one u32 short of SK_MEMINFO_DROPS. */
	cr_assert_eq(alen, 4 + (SK_MEMINFO_DROPS + 1) * 4);
	put16(m.p + a, (uint16_t)(alen - 4));
	append(&shrunk, m.p, a + alen - 4);
	append(&shrunk, m.p + a + alen, m.len - a - alen);
	put32(shrunk.p, (uint32_t)shrunk.len);
	v = with_msg(&b, INET_FULL_IDX, &shrunk);

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), 1);
	cr_assert_eq(s.count, 3);
	cr_assert_eq(s.skipped, 0);
	l = must_find(&s, AF_INET, 9090);
	cr_assert_not(l->has_drops);
	cr_assert_eq(l->drops, 0);
	cr_assert_eq(l->queue, 3);
	listener_set_free(&s);
	free(v.p);
	free(shrunk.p);
	free(m.p);
	free(b.p);
}

Test(attrs, missing_skmeminfo_means_no_drops)
{
	struct buf b = load("listeners-inet.bin"), m = msg_copy(&b, INET_FULL_IDX), v;
	struct listener_set s;

	/* Renamed to a type nobody knows: as if the kernel had not sent it. */
	put16(m.p + attr_off(&m, INET_DIAG_SKMEMINFO) + 2, 201);
	v = with_msg(&b, INET_FULL_IDX, &m);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), 1);
	cr_assert_not(must_find(&s, AF_INET, 9090)->has_drops);
	cr_assert(must_find(&s, AF_INET, 8080)->has_drops);
	listener_set_free(&s);
	free(v.p);
	free(m.p);
	free(b.p);
}

Test(dedup, same_message_twice_keeps_the_later)
{
	struct buf b = load("listeners-inet.bin"), older = msg_copy(&b, INET_FULL_IDX);
	struct buf v = { .p = NULL };
	struct listener_set s;
	size_t full = msg_off(&b, INET_FULL_IDX);

	/* The same socket (same cookie) seen in two recv() rounds, queue 1 then 3. */
	put32(older.p + HDR + offsetof(struct inet_diag_msg, idiag_rqueue), 1);
	append(&v, b.p, full);
	append(&v, older.p, older.len);
	append(&v, b.p + full, b.len - full);

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), 1);
	cr_assert_eq(s.count, 3);
	cr_assert_eq(s.skipped, 0);
	cr_assert_eq(must_find(&s, AF_INET, 9090)->queue, 3);
	listener_set_free(&s);
	free(v.p);
	free(older.p);
	free(b.p);
}

Test(dedup, across_parse_calls)
{
	struct buf b = load("listeners-inet.bin");
	struct listener_set s;

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), 1);
	cr_assert_eq(s.count, 3);
	listener_set_free(&s);
	free(b.p);
}

static struct buf error_msg(int32_t error, uint32_t len)
{
	struct buf m = { .p = NULL };
	uint8_t raw[HDR + sizeof(struct nlmsgerr)];
	struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)raw;

	memset(raw, 0, sizeof(raw));
	nlh->nlmsg_len = len;
	nlh->nlmsg_type = NLMSG_ERROR;
	put32(raw + HDR, (uint32_t)error);
	append(&m, raw, len);
	return m;
}

Test(errors, nlmsg_error_returns_errno)
{
	struct buf b = load("listeners-inet.bin"), e = error_msg(-EINVAL, (uint32_t)(HDR + sizeof(struct nlmsgerr)));
	struct buf v = { .p = NULL };
	struct listener_set s;

	append(&v, b.p, msg_off(&b, 1));
	append(&v, e.p, e.len);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), -EINVAL);
	listener_set_free(&s);
	free(v.p);
	free(e.p);
	free(b.p);
}

/* A dump the kernel cut short ends in an NLMSG_DONE carrying the error: it is no whole dump. */
Test(errors, done_carrying_an_error_is_that_error)
{
	struct buf b = load("listeners-inet.bin"), e = error_msg(-ENOBUFS, (uint32_t)(HDR + 4));
	struct buf v = { .p = NULL };
	struct listener_set s;

	((struct nlmsghdr *)(void *)e.p)->nlmsg_type = NLMSG_DONE;
	append(&v, b.p, msg_off(&b, 1));
	append(&v, e.p, e.len);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(v.p, v.len, &s), -ENOBUFS);
	listener_set_free(&s);
	free(v.p);
	free(e.p);
	free(b.p);
}

Test(errors, short_nlmsg_error)
{
	struct buf e = error_msg(-EINVAL, (uint32_t)(HDR + 4));

	expect(&e, -EBADMSG, 0, 0);
	free(e.p);
}

Test(errors, interrupted_dump)
{
	struct buf b = load("listeners-inet.bin");
	struct listener_set s;

	put16(b.p + msg_off(&b, 1) + 6, NLM_F_MULTI | NLM_F_DUMP_INTR);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(b.p, b.len, &s), -EINTR);
	listener_set_free(&s);
	free(b.p);
}

Test(errors, not_netlink)
{
	static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct listener_set s;

	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(text, sizeof(text) - 1, &s), -EBADMSG);
	cr_assert_eq(sockdiag_parse(text, 7, &s), -EBADMSG);
	cr_assert_eq(sockdiag_parse(text, 0, &s), 0);
	cr_assert_eq(s.count, 0);
	listener_set_free(&s);
}

/* ---- listener set and names ---- */

Test(listener, names)
{
	struct listener l;
	char buf[LISTENER_NAME_MAX], tiny[6];

	memset(&l, 0, sizeof(l));
	l.family = AF_INET;
	l.port = 8080;
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.1", l.addr), 1);
	assert_name(&l, "127.0.0.1:8080");
	cr_assert_str_eq(listener_addr(&l, buf, sizeof(buf)), "127.0.0.1");
	/* Too small: truncated, still terminated. */
	cr_assert_str_eq(listener_name(&l, tiny, sizeof(tiny)), "127.0");

	l.family = AF_INET6;
	l.port = 443;
	cr_assert_eq(inet_pton(AF_INET6, "::1", l.addr), 1);
	assert_name(&l, "[::1]:443");
	cr_assert_eq(inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", l.addr), 1);
	l.port = 65535;
	assert_name(&l, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:10.0.0.1", l.addr), 1);
	l.port = 80;
	assert_name(&l, "[::ffff:10.0.0.1]:80");

	l.family = 0;
	assert_name(&l, "?:80");
}

Test(listener, set_grows_clears_frees)
{
	struct listener_set s;
	struct listener *l;
	size_t cap;

	listener_set_init(&s);
	for (unsigned i = 0; i < 1000; i++) {
		l = listener_set_add(&s);
		cr_assert(l);
		cr_assert_eq(l->cookie, 0);
		l->cookie = i + 1;
	}
	cr_assert_eq(s.count, 1000);
	cr_assert_eq(s.items[999].cookie, 1000);
	cap = s.cap;
	s.skipped = 4;
	listener_set_clear(&s);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(s.skipped, 0);
	cr_assert_eq(s.cap, cap);
	l = listener_set_add(&s);
	cr_assert_eq(l->cookie, 0, "a reused slot must come back zeroed");
	listener_set_free(&s);
	cr_assert_null(s.items);
	listener_set_free(&s);
}

/* ---- the real kernel, in a network namespace of our own ---- */

/* Listen on ADDR, port chosen by the kernel. Return: the fd; *port, *inode set. */
static int live_listen(int family, const char *addr, int backlog, uint16_t *port, uint32_t *inode)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct stat st;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		sl = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	cr_assert(bind(fd, (struct sockaddr *)&ss, sl) == 0, "bind %s: %s", addr, strerror(errno));
	cr_assert(listen(fd, backlog) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&ss, &sl) == 0);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	cr_assert(fstat(fd, &st) == 0);
	*inode = (uint32_t)st.st_ino;
	return fd;
}

/* Non-blocking connects: the SYNs past a full accept queue are dropped. */
static void live_flood(uint16_t port, int n)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		cr_assert(c >= 0);
		cr_assert(connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0 || errno == EINPROGRESS);
		/* Left open on purpose: the connection must stay in the queue. */
	}
}

Test(live, dump_finds_v4_and_v6_listeners)
{
	struct listener_set s;
	struct sockdiag *sd;
	const struct listener *l;
	uint16_t p4, p6;
	uint32_t i4, i6;
	char want[LISTENER_NAME_MAX];

	enter_netns();
	live_listen(AF_INET, "127.0.0.1", 5, &p4, &i4);
	live_listen(AF_INET6, "::1", 5, &p6, &i6);

	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&s);
	/* Twice on one handle: the second dump must not find the socket busy. */
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(sockdiag_dump_listeners(sd, &s), 0);
		cr_assert_eq(s.count, 2);
		cr_assert_eq(s.skipped, 0);

		l = must_find(&s, AF_INET, p4);
		cr_assert_eq(l->backlog, 5);
		cr_assert_eq(l->queue, 0);
		cr_assert_eq(l->inode, i4);
		cr_assert_eq(l->uid, getuid());
		cr_assert(l->has_drops);
		snprintf(want, sizeof(want), "127.0.0.1:%u", p4);
		assert_name(l, want);

		l = must_find(&s, AF_INET6, p6);
		cr_assert_eq(l->backlog, 5);
		cr_assert_eq(l->inode, i6);
		snprintf(want, sizeof(want), "[::1]:%u", p6);
		assert_name(l, want);
	}
	listener_set_free(&s);
	sockdiag_close(sd);
}

/* The raw dump (the monitor's) finds the same listeners with the same numbers, only without the dedup pass. */
Test(live, raw_dump_matches_the_deduplicated_one)
{
	struct listener_set a, b;
	struct sockdiag *sd;
	uint16_t port[6];
	uint32_t inode[6];

	enter_netns();
	for (int i = 0; i < 6; i++)
		live_listen(i % 2 ? AF_INET6 : AF_INET, i % 2 ? "::1" : "127.0.0.1", 5 + i, &port[i],
			    &inode[i]);
	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&a);
	listener_set_init(&b);
	cr_assert_eq(sockdiag_dump_listeners(sd, &a), 0);
	cr_assert_eq(sockdiag_dump_listeners_raw(sd, &b), 0);
	cr_assert_eq(a.count, 6);
	cr_assert_eq(b.count, 6, "nothing repeated in a quiet dump, nothing lost");
	for (int i = 0; i < 6; i++) {
		const struct listener *x = must_find(&a, i % 2 ? AF_INET6 : AF_INET, port[i]);
		const struct listener *y = must_find(&b, i % 2 ? AF_INET6 : AF_INET, port[i]);

		cr_assert_eq(x->cookie, y->cookie);
		cr_assert_eq(y->inode, inode[i]);
		cr_assert_eq(y->backlog, (uint32_t)(5 + i));
	}
	listener_set_free(&a);
	listener_set_free(&b);
	sockdiag_close(sd);
}

Test(live, full_queue_shows_drops)
{
	struct listener_set s;
	struct sockdiag *sd;
	const struct listener *l;
	uint16_t port;
	uint32_t inode;

	enter_netns();
	live_listen(AF_INET, "127.0.0.1", 2, &port, &inode);
	live_flood(port, 6);
	usleep(200 * 1000);

	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&s);
	cr_assert_eq(sockdiag_dump_listeners(sd, &s), 0);
	l = must_find(&s, AF_INET, port);
	cr_assert_eq(l->backlog, 2);
	cr_assert_eq(l->queue, 3);
	cr_assert(l->has_drops);
	cr_assert_gt(l->drops, 0);
	listener_set_free(&s);
	sockdiag_close(sd);
}

/* A raw LISTEN dump request for nlsock_dump tests, family chosen by the caller. */
static struct nlmsghdr *listen_req(char *buf, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1U << TCP_LISTEN;
	return nlh;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(unsigned *)data)++;
	return MNL_CB_OK;
}

static int give_up_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(unsigned *)data)++;
	errno = ECANCELED;
	return MNL_CB_ERROR;
}

Test(live, kernel_error_then_socket_still_usable)
{
	char buf[256];	/* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct nlsock nl;
	unsigned n = 0;
	uint16_t port;
	uint32_t inode;

	enter_netns();
	live_listen(AF_INET, "127.0.0.1", 5, &port, &inode);
	cr_assert_eq(nlsock_open(&nl, NETLINK_SOCK_DIAG), 0);
	/* A family past AF_MAX: sock_diag answers NLMSG_ERROR EINVAL. */
	cr_assert_eq(nlsock_dump(&nl, listen_req(buf, 200), count_cb, &n), -EINVAL);
	cr_assert_eq(n, 0);
	/* inet_diag sets no extended-ACK message on any path (6.18): there is none to keep. */
	cr_assert_str_eq(nlsock_ext_ack(&nl), "");
	cr_assert_eq(nlsock_dump(&nl, listen_req(buf, AF_INET), count_cb, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(nlsock_reopen(&nl), 0);
	n = 0;
	cr_assert_eq(nlsock_dump(&nl, listen_req(buf, AF_INET), count_cb, &n), 0);
	cr_assert_eq(n, 1);
	nlsock_close(&nl);
	nlsock_close(&nl);
}

Test(live, callback_error_drains_the_dump)
{
	char buf[256];	/* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct nlsock nl;
	unsigned n = 0;
	uint16_t port;
	uint32_t inode;

	enter_netns();
	/* Enough listeners for several datagrams, so the dump is left mid-way. */
	for (int i = 0; i < 1000; i++)
		live_listen(AF_INET, "127.0.0.1", 1, &port, &inode);
	cr_assert_eq(nlsock_open(&nl, NETLINK_SOCK_DIAG), 0);
	cr_assert_eq(nlsock_dump(&nl, listen_req(buf, AF_INET), give_up_cb, &n), -ECANCELED);
	cr_assert_eq(n, 1);
	n = 0;
	/* Not EBUSY, and no stale message taken for part of this dump. */
	cr_assert_eq(nlsock_dump(&nl, listen_req(buf, AF_INET), count_cb, &n), 0);
	cr_assert_eq(n, 1000);
	nlsock_close(&nl);
}

/* ---- the extended ACK of an error, hand-built as the kernel lays it out ---- */

/* The bytes of the refused request the kernel echoes back unless NLM_F_CAPPED: not TLVs. */
#define ECHOED_PAYLOAD 24

/*
 * An NLMSG_ERROR carrying error for a request of ECHOED_PAYLOAD bytes (its
 * header only when capped), then the TLVs: msg when not NULL, offs when
 * not negative.
 */
static struct nlmsghdr *ack_error_msg(char *buf, int error, bool capped, const char *msg, long offs)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *err;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0);
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = error;
	err->msg.nlmsg_len = sizeof(err->msg);
	if (!capped) {
		/* Bytes that would read as a TLV were the echoed request taken for one. */
		memset(mnl_nlmsg_put_extra_header(nlh, ECHOED_PAYLOAD), 0x08, ECHOED_PAYLOAD);
		err->msg.nlmsg_len += ECHOED_PAYLOAD;
	}
	if (msg)
		mnl_attr_put_strz(nlh, BACKLOGD_NLMSGERR_ATTR_MSG, msg);
	if (offs >= 0)
		mnl_attr_put_u32(nlh, BACKLOGD_NLMSGERR_ATTR_OFFS, (uint32_t)offs);
	return nlh;
}

/* The kernel's message ends in a log line: control characters and DEL become '?'. */
#define HOSTILE_MSG "bad\x1b[31m\tbyte\x7f\xc3\xa9\n"
/* Controls become ?; valid UTF-8 (é) stays, as everywhere outside text is shown. */
#define HOSTILE_MSG_KEPT "bad?[31m?byte?\xc3\xa9?"

Test(ext_ack, message_and_offset_neutralised)
{
	char buf[512] __attribute__((aligned(4)));
	struct nlsock_ext_ack ack;

	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, -EINVAL, false, HOSTILE_MSG, 20), &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, HOSTILE_MSG_KEPT);
	cr_assert_eq(ack.offset, 20);
	/* Capped: the TLVs follow the request's header at once. */
	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, -EOPNOTSUPP, true, HOSTILE_MSG, -1), &ack),
		     -EOPNOTSUPP);
	cr_assert_str_eq(ack.msg, HOSTILE_MSG_KEPT);
	cr_assert_eq(ack.offset, -1);
}

Test(ext_ack, none_given)
{
	char buf[512] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nlsock_ext_ack ack;

	/* Only the offset. */
	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, -EINVAL, false, NULL, 4), &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, "");
	cr_assert_eq(ack.offset, 4);
	/* TLVs present, but the flag that says so is not: none are read. */
	nlh = ack_error_msg(buf, -EINVAL, false, "unflagged", 4);
	nlh->nlmsg_flags = 0;
	cr_assert_eq(nlsock_msg_status(nlh, &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, "");
	cr_assert_eq(ack.offset, -1);
	/* A plain ACK: no error, nothing to explain. */
	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, 0, true, NULL, -1), &ack), 0);
	cr_assert_str_eq(ack.msg, "");
	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, -EINVAL, true, "ignored", -1), NULL), -EINVAL);
}

Test(ext_ack, bounded)
{
	char buf[1024] __attribute__((aligned(4))), msg[400];
	struct nlsock_ext_ack ack;
	struct nlmsghdr *nlh;
	struct nlattr *attr;

	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	cr_assert_eq(nlsock_msg_status(ack_error_msg(buf, -EINVAL, false, msg, -1), &ack), -EINVAL);
	cr_assert_eq(strlen(ack.msg), NL_EXT_ACK_MAX - 1);
	/* A message without its NUL is read up to the attribute's end, no further. */
	nlh = ack_error_msg(buf, -EINVAL, true, "abcd", -1);
	attr = (struct nlattr *)((char *)nlh + nlh->nlmsg_len - MNL_ALIGN(MNL_ATTR_HDRLEN + 5));
	attr->nla_len = MNL_ATTR_HDRLEN + 3;
	cr_assert_eq(nlsock_msg_status(nlh, &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, "abc");
	/* A TLV that claims more than the message holds is not read. */
	attr->nla_len = 200;
	cr_assert_eq(nlsock_msg_status(nlh, &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, "");
	/* An error too short to hold its errno. */
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	cr_assert_eq(nlsock_msg_status(nlh, &ack), -EBADMSG);
}

Test(ext_ack, done_of_a_failed_dump)
{
	char buf[512] __attribute__((aligned(4)));
	struct nlsock_ext_ack ack;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct listener_set s;
	int status = -EINVAL;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(status)), &status, sizeof(status));
	mnl_attr_put_strz(nlh, BACKLOGD_NLMSGERR_ATTR_MSG, HOSTILE_MSG);
	cr_assert_eq(nlsock_msg_status(nlh, &ack), -EINVAL);
	cr_assert_str_eq(ack.msg, HOSTILE_MSG_KEPT);
	/* The walk of a recorded dump reports the same error. */
	listener_set_init(&s);
	cr_assert_eq(sockdiag_parse(buf, nlh->nlmsg_len, &s), -EINVAL);
	listener_set_free(&s);
}
