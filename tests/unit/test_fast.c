/* test_fast.c: sockdiag_dump_ports, the fast sample's one dump for several ports, live in a private netns, and its bytecode against the kernel's audit. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libmnl/libmnl.h>

#include "compat.h"
#include "listener.h"
#include "nl.h"
#include "sockdiag.h"
#include "probes/sockdiag_int.h"
#include "netns_fixture.h"

/* ---- the bytecode, as built: no kernel needed ---- */

static void assert_op(const struct inet_diag_bc_op *op, uint8_t code, uint8_t yes, uint16_t no)
{
	cr_assert_eq(op->code, code, "code %u, want %u", op->code, code);
	cr_assert_eq(op->yes, yes, "yes %u, want %u", op->yes, yes);
	cr_assert_eq(op->no, no, "no %u, want %u", op->no, no);
}

Test(bytecode, one_port)
{
	struct inet_diag_bc_op bc[SOCKDIAG_PORTS_BC_OPS(1)];
	const uint16_t ports[] = { 8080 };

	cr_assert_eq(sockdiag_ports_bytecode(ports, 1, bc), 8);
	/* A match runs off the end (kept), a miss lands 4 past it (dropped). */
	assert_op(&bc[0], INET_DIAG_BC_S_EQ, 8, 12);
	assert_op(&bc[1], 0, 0, 8080);
}

Test(bytecode, three_ports)
{
	struct inet_diag_bc_op bc[SOCKDIAG_PORTS_BC_OPS(3)];
	const uint16_t ports[] = { 80, 443, 65535 };

	cr_assert_eq(sockdiag_ports_bytecode(ports, 3, bc), 32);
	assert_op(&bc[0], INET_DIAG_BC_S_EQ, 8, 12);
	assert_op(&bc[1], 0, 0, 80);
	assert_op(&bc[2], INET_DIAG_BC_JMP, 4, 24);     /* from byte 8 to the end, 32 */
	assert_op(&bc[3], INET_DIAG_BC_S_EQ, 8, 12);
	assert_op(&bc[4], 0, 0, 443);
	assert_op(&bc[5], INET_DIAG_BC_JMP, 4, 12);     /* from byte 20 to 32 */
	assert_op(&bc[6], INET_DIAG_BC_S_EQ, 8, 12);
	assert_op(&bc[7], 0, 0, 65535);
}

Test(bytecode, request_carries_it)
{
	union {
		struct nlmsghdr nlh;
		char buf[SOCKDIAG_PORTS_REQ_SIZE];
	} u;
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	const struct inet_diag_req_v2 *req;
	const struct nlattr *attr;
	struct nlmsghdr *nlh;
	size_t want = SOCKDIAG_PORTS_BC_OPS(SOCKDIAG_MAX_PORTS) * sizeof(struct inet_diag_bc_op);

	for (size_t i = 0; i < SOCKDIAG_MAX_PORTS; i++)
		ports[i] = (uint16_t)(1000 + i);
	nlh = sockdiag_ports_request(u.buf, AF_INET6, ports, SOCKDIAG_MAX_PORTS);
	cr_assert_eq((void *)nlh, (void *)u.buf);
	cr_assert_eq(nlh->nlmsg_type, SOCK_DIAG_BY_FAMILY);
	cr_assert_eq(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	cr_assert_leq(nlh->nlmsg_len, SOCKDIAG_PORTS_REQ_SIZE);
	req = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(req->sdiag_family, AF_INET6);
	cr_assert_eq(req->sdiag_protocol, IPPROTO_TCP);
	cr_assert_eq(req->idiag_states, 1U << TCP_LISTEN);
	cr_assert_eq(req->id.idiag_sport, 0, "the bytecode filters, not idiag_sport");
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(*req));
	cr_assert(mnl_attr_ok(attr, (int)((const char *)mnl_nlmsg_get_payload_tail(nlh) - (const char *)attr)));
	cr_assert_eq(mnl_attr_get_type(attr), INET_DIAG_REQ_BYTECODE);
	cr_assert_eq(mnl_attr_get_payload_len(attr), want);
	cr_assert_eq(nlh->nlmsg_len, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*req)) + MNL_ATTR_HDRLEN + want);

	/* One port: the walk's own port test too, and the bytecode still. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports + 3, 1);
	req = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(req->sdiag_family, AF_INET);
	cr_assert_eq(req->id.idiag_sport, htons(1003));
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(*req));
	cr_assert_eq(mnl_attr_get_type(attr), INET_DIAG_REQ_BYTECODE);
	cr_assert_eq(mnl_attr_get_payload_len(attr), 8);
	cr_assert_eq(nlh->nlmsg_len, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*req)) + MNL_ATTR_HDRLEN + 8);
}

/* ---- the real kernel, in a network namespace of our own ---- */

static socklen_t fill_addr(struct sockaddr_storage *ss, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		return sizeof(*sin6);
	}
}

/*
 * Listen on 127.0.0.1 or ::1 at port; the socket stays open until the
 * test's process ends. Return: its inode.
 */
static uint32_t listen_on(int family, uint16_t port, int backlog, int reuseport)
{
	struct sockaddr_storage ss;
	socklen_t sl = fill_addr(&ss, family, port);
	struct stat st;
	int one = 1, fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	if (family == AF_INET6)
		cr_assert(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	if (reuseport)
		cr_assert(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0);
	cr_assert(bind(fd, (struct sockaddr *)&ss, sl) == 0, "bind %u: %s", port, strerror(errno));
	cr_assert(listen(fd, backlog) == 0);
	cr_assert(fstat(fd, &st) == 0);
	return (uint32_t)st.st_ino;
}

/* n connections left in the accept queue of the listener at family/port. */
static void connect_n(int family, uint16_t port, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl = fill_addr(&ss, family, port);

	for (int i = 0; i < n; i++) {
		int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		cr_assert(c >= 0);
		cr_assert(connect(c, (struct sockaddr *)&ss, sl) == 0 || errno == EINPROGRESS);
	}
}

static const struct listener *find(const struct listener_set *s, uint8_t family, uint16_t port)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->items[i].family == family && s->items[i].port == port)
			return &s->items[i];
	return NULL;
}

/*
 * Wait until the full dump (the oracle) shows queue connections waiting
 * on the listener at family/port: a handshake on lo completes in softirq,
 * not always before connect() returns.
 */
static void wait_queue(struct sockdiag *sd, int family, uint16_t port, uint32_t queue)
{
	struct listener_set all;
	const struct listener *l = NULL;

	listener_set_init(&all);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(sockdiag_dump_listeners(sd, &all), 0);
		l = find(&all, (uint8_t)family, port);
		cr_assert(l, "no listener %d/%u in the full dump", family, port);
		if (l->queue == queue)
			break;
		usleep(10 * 1000);
	}
	cr_assert_eq(l->queue, queue, "%d/%u: queue %u, want %u", family, port, l->queue, queue);
	listener_set_free(&all);
}

struct want {
	int family;
	uint16_t port;
	int backlog;
	int queue;
	uint32_t inode;
};

/*
 * The namespace of the live tests: four IPv4 listeners, three IPv6 ones
 * on ::1 (one on the port of an IPv4 listener), each with its own backlog
 * and some with connections waiting.
 */
static struct want listeners[] = {
	{ AF_INET, 5001, 3, 2, 0 },
	{ AF_INET, 5002, 5, 0, 0 },
	{ AF_INET, 5003, 7, 1, 0 },
	{ AF_INET, 5004, 9, 0, 0 },
	{ AF_INET6, 5001, 8, 1, 0 },
	{ AF_INET6, 6001, 4, 3, 0 },
	{ AF_INET6, 6002, 6, 0, 0 },
};
#define N_LISTENERS (ARRAY_SIZE(listeners))

static struct sockdiag *setup(void)
{
	struct sockdiag *sd;

	enter_netns();
	cr_assert_eq(sockdiag_open(&sd), 0);
	for (size_t i = 0; i < N_LISTENERS; i++) {
		struct want *w = &listeners[i];

		w->inode = listen_on(w->family, w->port, w->backlog, 0);
		connect_n(w->family, w->port, w->queue);
	}
	for (size_t i = 0; i < N_LISTENERS; i++)
		wait_queue(sd, listeners[i].family, listeners[i].port, (uint32_t)listeners[i].queue);
	return sd;
}

static bool port_in(uint16_t port, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* Dump ports and check that exactly the listeners on them came back, as set up. */
static void expect_ports(struct sockdiag *sd, const uint16_t *ports, size_t n)
{
	struct listener_set s;
	size_t want = 0;

	listener_set_init(&s);
	/* Left over from an earlier dump: must not survive. */
	cr_assert_not_null(listener_set_add(&s));
	s.skipped = 3;
	cr_assert_eq(sockdiag_dump_ports(sd, ports, n, &s), 0);
	cr_assert_eq(s.skipped, 0);
	for (size_t i = 0; i < N_LISTENERS; i++) {
		const struct want *w = &listeners[i];
		const struct listener *l = find(&s, (uint8_t)w->family, w->port);

		if (!port_in(w->port, ports, n)) {
			cr_assert_null(l, "%d/%u not asked for, but dumped", w->family, w->port);
			continue;
		}
		want++;
		cr_assert_not_null(l, "%d/%u asked for, not dumped", w->family, w->port);
		cr_assert_eq(l->backlog, (uint32_t)w->backlog, "%d/%u: backlog %u", w->family, w->port, l->backlog);
		cr_assert_eq(l->queue, (uint32_t)w->queue, "%d/%u: queue %u", w->family, w->port, l->queue);
		cr_assert_eq(l->inode, w->inode);
		cr_assert(l->has_drops);
		cr_assert_neq(l->cookie, 0);
	}
	cr_assert_eq(s.count, want, "%zu listeners dumped, want %zu", s.count, want);
	listener_set_free(&s);
}

Test(live, subset_of_ports)
{
	struct sockdiag *sd = setup();
	/* Two IPv4 ports, one of them with an IPv6 listener too, and an IPv6-only one. */
	const uint16_t ports[] = { 6001, 5003, 5001 };

	/* Twice on one handle: the second dump must not find the socket busy. */
	expect_ports(sd, ports, 3);
	expect_ports(sd, ports, 3);
	sockdiag_close(sd);
}

Test(live, all_ports_and_a_repeat)
{
	struct sockdiag *sd = setup();
	const uint16_t ports[] = { 5004, 5002, 6002, 5001, 6001, 5003, 5002, 7000 };

	expect_ports(sd, ports, ARRAY_SIZE(ports));
	sockdiag_close(sd);
}

Test(live, one_port)
{
	struct sockdiag *sd = setup();
	const uint16_t v4[] = { 5003 }, v6[] = { 6001 }, both[] = { 5001 };

	expect_ports(sd, v4, 1);
	expect_ports(sd, v6, 1);
	expect_ports(sd, both, 1);
	sockdiag_close(sd);
}

Test(live, port_without_listener_is_empty)
{
	struct sockdiag *sd = setup();
	/* Neighbours of listening ports, and 0, which idiag_sport alone would take for any port. */
	const uint16_t ports[] = { 5000, 5005, 6003, 0 };
	struct listener_set s;

	listener_set_init(&s);
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		cr_assert_not_null(listener_set_add(&s));
		cr_assert_eq(sockdiag_dump_ports(sd, &ports[i], 1, &s), 0, "port %u", ports[i]);
		cr_assert_eq(s.count, 0, "port %u: %zu listeners", ports[i], s.count);
	}
	cr_assert_not_null(listener_set_add(&s));
	cr_assert_eq(sockdiag_dump_ports(sd, ports, ARRAY_SIZE(ports), &s), 0);
	cr_assert_eq(s.count, 0);
	listener_set_free(&s);
	sockdiag_close(sd);
}

Test(live, n_out_of_range_is_einval)
{
	uint16_t ports[SOCKDIAG_MAX_PORTS + 1];
	struct sockdiag *sd;
	struct listener_set s;

	enter_netns();
	listen_on(AF_INET, 5001, 5, 0);
	for (size_t i = 0; i <= SOCKDIAG_MAX_PORTS; i++)
		ports[i] = 5001;
	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&s);

	cr_assert_not_null(listener_set_add(&s));
	cr_assert_eq(sockdiag_dump_ports(sd, ports, 0, &s), -EINVAL);
	cr_assert_eq(s.count, 0, "out is emptied on error");
	cr_assert_eq(sockdiag_dump_ports(sd, NULL, 0, &s), -EINVAL);
	cr_assert_not_null(listener_set_add(&s));
	cr_assert_eq(sockdiag_dump_ports(sd, ports, SOCKDIAG_MAX_PORTS + 1, &s), -EINVAL);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(sockdiag_dump_ports(sd, ports, SIZE_MAX, &s), -EINVAL);
	/* The bound itself is fine, and the handle is still usable. */
	cr_assert_eq(sockdiag_dump_ports(sd, ports, SOCKDIAG_MAX_PORTS, &s), 0);
	cr_assert_eq(s.count, 1);
	listener_set_free(&s);
	sockdiag_close(sd);
}

/* ---- the kernel's audit of the bytecode (inet_diag_bc_audit) ---- */

#define AUDIT_PORT0 7000
#define AUDIT_LISTENERS (SOCKDIAG_MAX_PORTS + 6)

/*
 * Every length of the bytecode, 1 to SOCKDIAG_MAX_PORTS ports, passes the
 * audit (which refuses a bad one with EINVAL before the walk starts) and
 * keeps exactly the listeners asked for. The ports are asked for from the
 * top down, so that neither end of the chain only ever holds the lowest.
 */
Test(audit, every_length_passes_and_matches)
{
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	struct listener_set s;
	struct sockdiag *sd;

	enter_netns();
	for (uint16_t p = 0; p < AUDIT_LISTENERS; p++)
		listen_on(p % 2 ? AF_INET6 : AF_INET, (uint16_t)(AUDIT_PORT0 + p), 1, 0);
	for (size_t i = 0; i < SOCKDIAG_MAX_PORTS; i++)
		ports[i] = (uint16_t)(AUDIT_PORT0 + AUDIT_LISTENERS - 2 - i);
	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&s);
	for (size_t n = 1; n <= SOCKDIAG_MAX_PORTS; n++) {
		cr_assert_eq(sockdiag_dump_ports(sd, ports, n, &s), 0, "%zu ports", n);
		cr_assert_eq(s.count, n, "%zu ports: %zu listeners", n, s.count);
		for (size_t i = 0; i < s.count; i++) {
			const struct listener *l = &s.items[i];

			cr_assert(port_in(l->port, ports, n), "%zu ports: %u not asked for", n, l->port);
			cr_assert_eq(l->family, (l->port - AUDIT_PORT0) % 2 ? AF_INET6 : AF_INET);
		}
	}
	listener_set_free(&s);
	sockdiag_close(sd);
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(unsigned *)data)++;
	return MNL_CB_OK;
}

/* The bytecode op at index k of a built request. */
static struct inet_diag_bc_op *req_op(struct nlmsghdr *nlh, size_t k)
{
	struct nlattr *attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct inet_diag_req_v2));

	return (struct inet_diag_bc_op *)mnl_attr_get_payload(attr) + k;
}

/* Send the request raw: 0 with the number of entries, or the kernel's -errno. */
static int send_raw(struct nlsock *nl, struct nlmsghdr *nlh, unsigned *n)
{
	*n = 0;
	return nlsock_dump(nl, nlh, count_cb, n);
}

/*
 * The audit is there to be passed: the same request with one jump broken
 * is refused with EINVAL, so the passes above show the bytecode sound, not
 * a kernel that takes anything.
 */
Test(audit, broken_bytecode_is_refused)
{
	union {
		struct nlmsghdr nlh;
		char buf[SOCKDIAG_PORTS_REQ_SIZE];
	} u;
	const uint16_t ports[] = { 5001, 5002, 5003 };
	struct nlmsghdr *nlh;
	struct nlsock nl;
	unsigned n;

	enter_netns();
	listen_on(AF_INET, 5002, 5, 0);
	listen_on(AF_INET, 5004, 5, 0);
	cr_assert_eq(nlsock_open(&nl, NETLINK_SOCK_DIAG), 0);

	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 3);
	cr_assert_eq(send_raw(&nl, nlh, &n), 0);
	cr_assert_eq(n, 1, "only 5002 is asked for and listening");

	/* The last miss 8 past the end, not 4. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 3);
	req_op(nlh, 6)->no = 16;
	cr_assert_eq(send_raw(&nl, nlh, &n), -EINVAL);
	cr_assert_eq(n, 0);

	/* A miss that lands on an operand, not on an op of the yes chain. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 3);
	req_op(nlh, 0)->no = 16;
	cr_assert_eq(send_raw(&nl, nlh, &n), -EINVAL);

	/* A yes that is not a multiple of 4. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 3);
	req_op(nlh, 2)->yes = 6;
	cr_assert_eq(send_raw(&nl, nlh, &n), -EINVAL);

	/* A port test cut off before its operand. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 1);
	{
		struct nlattr *attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct inet_diag_req_v2));

		attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + sizeof(struct inet_diag_bc_op));
		nlh->nlmsg_len = (uint32_t)((char *)attr - (char *)nlh) + attr->nla_len;
		req_op(nlh, 0)->no = 8;
	}
	cr_assert_eq(send_raw(&nl, nlh, &n), -EINVAL);

	/* After the refusals the socket still serves a sound request. */
	nlh = sockdiag_ports_request(u.buf, AF_INET, ports, 3);
	cr_assert_eq(send_raw(&nl, nlh, &n), 0);
	cr_assert_eq(n, 1);
	nlsock_close(&nl);
}

/* ---- many listeners on one port: a dump over several recv() ---- */

#define GROUP 300

/*
 * A reuseport group larger than one dump skb holds (about 32 KiB, some 200
 * entries): the dump takes several recv() and every listener comes back
 * once, as in the full dump.
 */
Test(live, reuseport_group_over_several_recvs)
{
	const uint16_t ports[] = { 5003, 5001 };
	struct listener_set s, all;
	struct sockdiag *sd;
	struct rlimit rl;
	size_t in_all = 0;

	cr_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < GROUP + 64) {
		if (rl.rlim_max < GROUP + 64)
			cr_skip_test("RLIMIT_NOFILE hard limit %lu < %d", (unsigned long)rl.rlim_max, GROUP + 64);
		rl.rlim_cur = GROUP + 64;
		cr_assert(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	enter_netns();
	for (int i = 0; i < GROUP; i++)
		listen_on(AF_INET, 5001, 4, 1);
	listen_on(AF_INET, 5002, 4, 0);
	listen_on(AF_INET6, 5001, 4, 0);
	cr_assert_eq(sockdiag_open(&sd), 0);
	listener_set_init(&s);
	listener_set_init(&all);
	cr_assert_eq(sockdiag_dump_ports(sd, ports, 2, &s), 0);
	cr_assert_eq(s.count, GROUP + 1);
	cr_assert_eq(s.skipped, 0);
	for (size_t i = 0; i < s.count; i++) {
		cr_assert_eq(s.items[i].port, 5001);
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(s.items[i].cookie, s.items[j].cookie, "listener dumped twice");
	}
	cr_assert_eq(sockdiag_dump_listeners(sd, &all), 0);
	for (size_t i = 0; i < all.count; i++)
		in_all += all.items[i].port == 5001;
	cr_assert_eq(in_all, s.count);
	listener_set_free(&all);
	listener_set_free(&s);
	sockdiag_close(sd);
}
