/* test_drop_event.c: drop_event_decode takes the eBPF tier's records of every kind and family, and refuses the malformed. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <criterion/criterion.h>

#include "drop_event.h"
#include "probes/bpf/drop_wire.h"

/* A record as drops.bpf.c writes it: ports in network order. */
static struct drop_wire wire(uint32_t kind, uint16_t family, const char *peer, uint16_t pport,
			     const char *local, uint16_t lport)
{
	struct drop_wire w;

	memset(&w, 0, sizeof(w));
	w.mono_ns = 123456789012ULL;
	w.netns = 4026532247ULL;
	w.cookie = kind == DROP_WIRE_REFUSED ? 0 : 0x1122334455ULL;
	w.kind = kind;
	w.family = family;
	w.pport = htons(pport);
	w.lport = htons(lport);
	cr_assert_eq(inet_pton(family, peer, w.paddr), 1);
	cr_assert_eq(inet_pton(family, local, w.laddr), 1);
	if (kind != DROP_WIRE_REFUSED) {
		w.queue = 5;
		w.backlog = 4;
	}
	return w;
}

static void check_decoded(const struct drop_wire *w, const struct drop_event *e, int family)
{
	uint8_t addr[16] = { 0 };

	cr_assert_eq(e->mono_ns, 123456789012ULL);
	cr_assert_eq(e->netns, 4026532247ULL);
	cr_assert_eq(e->cookie, w->cookie);
	cr_assert_eq((uint32_t)e->kind, w->kind);
	cr_assert_eq(e->family, family);
	cr_assert_eq(e->pport, ntohs(w->pport), "peer port in host order");
	cr_assert_eq(e->lport, ntohs(w->lport), "local port in host order");
	cr_assert_eq(e->queue, w->queue);
	cr_assert_eq(e->backlog, w->backlog);
	memcpy(addr, w->paddr, family == AF_INET ? 4 : 16);
	cr_assert_arr_eq(e->paddr, addr, 16);
	memset(addr, 0, sizeof(addr));
	memcpy(addr, w->laddr, family == AF_INET ? 4 : 16);
	cr_assert_arr_eq(e->laddr, addr, 16);
}

static const uint32_t kinds[] = { DROP_WIRE_SYN_OVERFLOW, DROP_WIRE_ACK_OVERFLOW, DROP_WIRE_COOKIE_OVERFLOW,
				  DROP_WIRE_REFUSED };

Test(drop_event, ipv4_every_kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct drop_wire w = wire(kinds[i], DROP_WIRE_INET, "127.0.0.11", 40001, "127.0.0.1", 8080);
		struct drop_event e;

		memset(&e, 0xa5, sizeof(e));
		cr_assert_eq(drop_event_decode(&w, sizeof(w), &e), 0, "kind %u", kinds[i]);
		check_decoded(&w, &e, AF_INET);
		cr_assert_eq(e.pport, 40001);
		cr_assert_eq(e.lport, 8080);
		cr_assert_eq(e.paddr[0], 127);
		cr_assert_eq(e.paddr[3], 11);
	}
}

Test(drop_event, ipv6_every_kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct drop_wire w = wire(kinds[i], DROP_WIRE_INET6, "fd00::11", 50000, "fd00::1", 443);
		struct drop_event e;

		cr_assert_eq(drop_event_decode(&w, sizeof(w), &e), 0, "kind %u", kinds[i]);
		check_decoded(&w, &e, AF_INET6);
		cr_assert_eq(e.pport, 50000);
		cr_assert_eq(e.lport, 443);
		cr_assert_eq(e.paddr[0], 0xfd);
		cr_assert_eq(e.paddr[15], 0x11);
	}
}

/* Bytes past an IPv4 address's four are not the address: the event has zeros there. */
Test(drop_event, ipv4_tail_is_zero)
{
	struct drop_wire w = wire(DROP_WIRE_SYN_OVERFLOW, DROP_WIRE_INET, "10.0.0.5", 1, "10.0.0.1", 80);
	struct drop_event e;
	const uint8_t zero[12] = { 0 };

	memset(w.paddr + 4, 0xee, 12);
	memset(w.laddr + 4, 0xee, 12);
	cr_assert_eq(drop_event_decode(&w, sizeof(w), &e), 0);
	cr_assert_arr_eq(e.paddr + 4, zero, 12);
	cr_assert_arr_eq(e.laddr + 4, zero, 12);
}

/* The record comes from a ring buffer: it need not sit where a struct drop_wire may. */
Test(drop_event, unaligned_record)
{
	struct drop_wire w = wire(DROP_WIRE_ACK_OVERFLOW, DROP_WIRE_INET, "127.0.0.12", 2, "127.0.0.1", 3);
	unsigned char buf[sizeof(w) + 1];
	struct drop_event e;

	memcpy(buf + 1, &w, sizeof(w));
	cr_assert_eq(drop_event_decode(buf + 1, sizeof(w), &e), 0);
	check_decoded(&w, &e, AF_INET);
}

Test(drop_event, refuses_wrong_sizes)
{
	struct drop_wire w = wire(DROP_WIRE_SYN_OVERFLOW, DROP_WIRE_INET, "127.0.0.11", 1, "127.0.0.1", 2);
	unsigned char big[sizeof(w) + 8] = { 0 };
	struct drop_event e;

	memcpy(big, &w, sizeof(w));
	cr_assert_eq(drop_event_decode(&w, 0, &e), -EINVAL);
	cr_assert_eq(drop_event_decode(&w, sizeof(w) - 1, &e), -EINVAL, "short");
	cr_assert_eq(drop_event_decode(&w, 8, &e), -EINVAL, "short");
	cr_assert_eq(drop_event_decode(big, sizeof(big), &e), -EINVAL, "long");
	cr_assert_eq(drop_event_decode(NULL, sizeof(w), &e), -EINVAL);
}

Test(drop_event, refuses_unknown_kinds)
{
	const uint32_t bad[] = { 0, 5, 6, 0x80000001u, UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct drop_wire w = wire(DROP_WIRE_SYN_OVERFLOW, DROP_WIRE_INET, "127.0.0.11", 1, "127.0.0.1", 2);
		struct drop_event e;

		w.kind = bad[i];
		cr_assert_eq(drop_event_decode(&w, sizeof(w), &e), -EINVAL, "kind %u", bad[i]);
	}
}

Test(drop_event, refuses_unknown_families)
{
	const uint16_t bad[] = { 0, 1, 3, 17 /* AF_PACKET */, 0x0200, UINT16_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct drop_wire w = wire(DROP_WIRE_REFUSED, DROP_WIRE_INET, "127.0.0.13", 1, "127.0.0.1", 2);
		struct drop_event e;

		w.family = bad[i];
		cr_assert_eq(drop_event_decode(&w, sizeof(w), &e), -EINVAL, "family %u", bad[i]);
	}
}
