/*
 * cookie-ack.c: syncookie ACKs that find the accept queue full, for
 * tests/integ/bpf-events.sh (the eBPF tier's cookie_overflow). IPv4 only.
 *
 *   cookie-ack SRC DST PORT COUNT FILL_SRC FILL
 *
 * With net.ipv4.tcp_syncookies = 2 the listener answers every SYN with a
 * cookie and keeps nothing. COUNT SYNs go out from SRC through a raw socket
 * (the accept queue still has room, so no SYN is dropped) and their cookies
 * are read from the SYN-ACKs; then FILL ordinary clients from FILL_SRC fill
 * the accept queue; then the COUNT ACKs go out, each one's cookie valid, and
 * the kernel drops each on the full queue (ListenOverflows, drop reason
 * NO_SOCKET). Prints "synacks=N acks=N filled=N". Bounded: 1 s per wait.
 */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_COUNT 64
#define BASE_PORT 41000

static struct in_addr src, dst;
static uint16_t port;

static uint16_t checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One bare TCP segment from src:sport to dst:port; the kernel adds the IP header. */
static int send_segment(int fd, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct tcphdr th = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };
	struct { uint32_t s, d; uint8_t zero, proto; uint16_t len; struct tcphdr th; } ph;

	th.source = htons(sport);
	th.dest = htons(port);
	th.seq = htonl(seq);
	th.ack_seq = htonl(ack);
	th.doff = 5;
	((uint8_t *)&th)[13] = flags;
	th.window = htons(65535);
	ph = (typeof(ph)){ src.s_addr, dst.s_addr, 0, IPPROTO_TCP, htons(sizeof(th)), th };
	th.check = htons(checksum(&ph, sizeof(ph), 0));
	return sendto(fd, &th, sizeof(th), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(th) ? 0 : -1;
}

/* Read the SYN-ACKs answering our SYNs: cookie[i] for port BASE_PORT + i. Return: how many. */
static int read_synacks(int fd, uint32_t *cookie, int count)
{
	uint8_t buf[1500];
	int got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < count && poll(&p, 1, 1000) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const struct iphdr *ip = (const void *)buf;
		const struct tcphdr *th;
		int i;

		if (n < (ssize_t)sizeof(*ip) || n < ip->ihl * 4 + (ssize_t)sizeof(*th))
			continue;
		th = (const void *)(buf + ip->ihl * 4);
		i = ntohs(th->dest) - BASE_PORT;
		if (ip->saddr != dst.s_addr || ntohs(th->source) != port || !th->syn || !th->ack || i < 0 ||
		    i >= count || cookie[i])
			continue;
		cookie[i] = ntohl(th->seq);
		got++;
	}
	return got;
}

/* FILL connections from fill_src, each completed (the listener never accepts). Return: how many. */
static int fill_queue(const char *fill_src, int fill)
{
	int done = 0;

	for (int i = 0; i < fill; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET }, b = { .sin_family = AF_INET, .sin_port = htons(port) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		b.sin_addr = dst;
		inet_pton(AF_INET, fill_src, &a.sin_addr);
		/* A blocking connect on loopback: done once the handshake is (kept open until exit). */
		if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
		    !connect(fd, (struct sockaddr *)&b, sizeof(b)))
			done++;
	}
	return done;
}

int main(int argc, char **argv)
{
	uint32_t cookie[MAX_COUNT] = { 0 };
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd, count, fill, synacks, acks = 0, filled;

	if (argc != 7 || inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &dst) != 1 ||
	    (count = atoi(argv[4])) < 1 || count > MAX_COUNT || (fill = atoi(argv[6])) < 0 || fill > 1000) {
		fprintf(stderr, "usage: cookie-ack SRC DST PORT COUNT(1-64) FILL_SRC FILL\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[3]);
	me.sin_addr = src;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("cookie-ack: raw socket");
		return 1;
	}
	for (int i = 0; i < count; i++)
		if (send_segment(fd, (uint16_t)(BASE_PORT + i), 1000u * (unsigned)i, 0, TH_SYN) < 0)
			perror("cookie-ack: SYN");
	synacks = read_synacks(fd, cookie, count);
	filled = fill_queue(argv[5], fill);
	for (int i = 0; i < count; i++)
		if (cookie[i] && !send_segment(fd, (uint16_t)(BASE_PORT + i), 1000u * (unsigned)i + 1, cookie[i] + 1, TH_ACK))
			acks++;
	usleep(200 * 1000);	/* the ACKs are handled by now (loopback): the counters have them */
	printf("synacks=%d acks=%d filled=%d\n", synacks, acks, filled);
	return 0;
}
