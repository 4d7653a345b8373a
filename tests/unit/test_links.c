/* test_links.c: the link counter probe against the real kernel, in a private netns with a veth pair and exact rx drops. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "links.h"

/* Local experimental ethertypes (IEEE 802 "local experimental 1 and 2"). */
#define ETH_P_TEST_RX 0x88b5    /* a packet socket on vB takes these */
#define ETH_P_TEST_NONE 0x88b6  /* nobody takes these: the stack drops them */

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

static void veth_pair(void)
{
	sh("ip link add vA type veth peer name vB");
	sh("ip link set vA up");
	sh("ip link set vB up");
}

static const struct link_stat *find_link(const struct link_table *t, int ifindex)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->items[i].ifindex == ifindex)
			return &t->items[i];
	return NULL;
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
	/* One ip process for all of them, its batch on stdin. */
	f = popen("ip -batch -", "we");
	cr_assert(f);
	for (int i = 0; i < PAIRS; i++)
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
	sh("ip link add abcdefghijklmno type veth peer name ponmlkjihgfedcb");
	cr_assert_eq(links_open(&lk), 0);
	cr_assert_eq(links_read(lk, &t), 0);
	cr_assert_eq(t.count, 3);
	cr_assert_str_eq(must_find(&t, "abcdefghijklmno")->name, "abcdefghijklmno");
	cr_assert_str_eq(must_find(&t, "ponmlkjihgfedcb")->name, "ponmlkjihgfedcb");
	links_close(lk);
}
