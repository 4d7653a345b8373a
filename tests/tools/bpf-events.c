/*
 * bpf-events.c: the eBPF tier's events of this network namespace, one line
 * each, for tests/integ/bpf-events.sh.
 *
 *   bpf-events SECONDS [--ready FILE] [--batch N] [-v]
 *
 * Opens the tier, watches its own namespace (/proc/self/ns/net), writes
 * "ready PARTS" to FILE once the programs run, then prints for SECONDS
 *   KIND FAMILY PEER LOCAL cookie=N queue=Q/B
 * (KIND syn_overflow, ack_overflow, cookie_overflow, refused; FAMILY inet
 * or inet6; PEER and LOCAL ADDR:PORT, [ADDR]:PORT for IPv6) and at the end
 *   lost=N unwatched=N bad=N parts=PARTS
 * --batch N reads at most N events a call (64; 1 to 64): a read that stops
 * with events still waiting must lose none. -v: libbpf's messages.
 * Exits 77 with the tier's reason on stderr when the tier cannot run.
 */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf_tier.h"
#include "log.h"

static const char *const kind_name[] = {
	[DROP_SYN_OVERFLOW] = "syn_overflow",
	[DROP_ACK_OVERFLOW] = "ack_overflow",
	[DROP_COOKIE_OVERFLOW] = "cookie_overflow",
	[DROP_REFUSED] = "refused",
};

static void endpoint(char *out, size_t len, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void print_event(const struct drop_event *e)
{
	char peer[64], local[64];

	endpoint(peer, sizeof(peer), e->family, e->paddr, e->pport);
	endpoint(local, sizeof(local), e->family, e->laddr, e->lport);
	printf("%s %s %s %s cookie=%llu queue=%u/%u\n", kind_name[e->kind], e->family == AF_INET6 ? "inet6" : "inet",
	       peer, local, (unsigned long long)e->cookie, e->queue, e->backlog);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print the events until the deadline. Return: 0, or 1 on a read error. */
static int follow(struct bpf_tier *t, int64_t end, size_t batch, unsigned *bad)
{
	struct drop_event ev[64];
	struct epoll_event ee = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, bpf_tier_fd(t), &ee) < 0) {
		perror("bpf-events: epoll");
		return 1;
	}
	for (int64_t left; (left = end - now_ms()) >= 0;) {
		int n;

		epoll_wait(ep, &ee, 1, (int)(left > 100 ? 100 : left));
		while ((n = bpf_tier_read(t, ev, batch, bad)) > 0)
			for (int i = 0; i < n; i++)
				print_event(&ev[i]);
		if (n < 0) {
			fprintf(stderr, "bpf-events: read: %s\n", strerror(-n));
			return 1;
		}
		fflush(stdout);
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	struct bpf_tier *t;
	struct bpf_tier_counts c;
	struct stat st;
	char why[512];
	unsigned bad = 0;
	int err, rc;
	long secs, batch = 64;

	if (argc < 2 || (secs = strtol(argv[1], NULL, 10)) <= 0 || secs > 600) {
		fprintf(stderr, "usage: bpf-events SECONDS [--ready FILE] [--batch N] [-v]\n");
		return 2;
	}
	log_init(0, false);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-v"))
			log_init(1, false);
	}
	if (batch < 1 || batch > 64) {
		fprintf(stderr, "bpf-events: --batch 1 to 64\n");
		return 2;
	}
	err = bpf_tier_open(&t, why, sizeof(why));
	if (err) {
		fprintf(stderr, "bpf-events: the eBPF tier cannot run: %s (%s)\n", why, strerror(-err));
		return 77;
	}
	if (why[0])
		fprintf(stderr, "bpf-events: parts missing: %s\n", why);
	if (stat("/proc/self/ns/net", &st) < 0 || (err = bpf_tier_watch(t, st.st_ino, true)) < 0) {
		fprintf(stderr, "bpf-events: cannot watch this namespace\n");
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f || fprintf(f, "ready %s\n", bpf_tier_parts(t)) < 0 || fclose(f)) {
			perror("bpf-events: ready file");
			return 1;
		}
	}
	rc = follow(t, now_ms() + secs * 1000, (size_t)batch, &bad);
	bpf_tier_counts(t, &c);
	printf("lost=%llu unwatched=%llu bad=%u parts=%s\n", (unsigned long long)c.lost,
	       (unsigned long long)c.unwatched, bad, bpf_tier_parts(t));
	bpf_tier_close(t);
	return rc;
}
