/* test_kmsg.c: /dev/kmsg record parser on recorded and source-built records, reading through FIFOs and files, and the live device. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "kmsg.h"

#define KMSG_FIXTURES FIXTURES "/kmsg"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct rec {
	const char *p;
	size_t len;
};

/*
 * Split a fixture into records as read() returned them: a header line plus
 * its " KEY=VALUE" continuation lines.
 */
static size_t split(const char *buf, size_t len, struct rec *out, size_t max)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end) {
		const char *q = memchr(p, '\n', (size_t)(end - p));

		q = q ? q + 1 : end;
		while (q < end && *q == ' ') {
			const char *nl = memchr(q, '\n', (size_t)(end - q));

			q = nl ? nl + 1 : end;
		}
		cr_assert_lt(n, max);
		out[n].p = p;
		out[n].len = (size_t)(q - p);
		n++;
		p = q;
	}
	return n;
}

static int parse_str(const char *s, struct kmsg_event *ev)
{
	return kmsg_parse_record(s, strlen(s), ev);
}

/* Recorded: one listener each, v4/v6, cookies on/off, bound and wildcard. */
Test(kmsg, syn_flood_recorded)
{
	static const struct {
		uint64_t seq, ts;
		const char *addr;
		uint16_t port;
		bool cookies;
	} want[] = {
		{ 357, 2440947543, "127.0.0.1", 54591, true },
		{ 358, 2441584899, "::1", 59545, true },
		{ 359, 2442225421, "127.0.0.1", 45293, false },
		{ 360, 2442865803, "::1", 41457, false },
		{ 361, 2445569269, "0.0.0.0", 47865, true },
		{ 362, 2446218406, "::", 41045, true },
	};
	struct rec recs[16];
	size_t len, n;
	char *buf = slurp(KMSG_FIXTURES "/syn-flood.txt", &len);

	n = split(buf, len, recs, 16);
	cr_assert_eq(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		struct kmsg_event ev;

		memset(&ev, 0xa5, sizeof(ev));
		cr_assert_eq(kmsg_parse_record(recs[i].p, recs[i].len, &ev), 1, "record %zu", i);
		cr_assert_eq(ev.kind, KMSG_SYN_FLOOD);
		cr_assert_eq(ev.seq, want[i].seq);
		cr_assert_eq(ev.ts_usec, want[i].ts);
		cr_assert_str_eq(ev.addr, want[i].addr);
		cr_assert_eq(ev.port, want[i].port);
		cr_assert_eq(ev.cookies, want[i].cookies);
	}
	free(buf);
}

/* Made from the kernel's format strings (see the fixtures README): these cannot be provoked here. */
Test(kmsg, from_source)
{
	static const struct {
		enum kmsg_kind kind;
		uint64_t seq;
		uint16_t port;
		bool cookies;
	} want[] = {
		{ KMSG_CONNTRACK_FULL, 1001, 0, false },
		{ KMSG_TCP_OOM, 1002, 0, false },
		{ KMSG_ORPHANS, 1003, 0, false },
		{ KMSG_SYN_FLOOD, 1004, 8080, true },   /* older kernels: port only */
		{ KMSG_SYN_FLOOD, 1005, 7001, false },
		{ KMSG_CONNTRACK_FULL, 1006, 0, false }, /* module name once, caller= field */
	};
	struct rec recs[16];
	size_t len, n;
	char *buf = slurp(KMSG_FIXTURES "/from-source.txt", &len);

	n = split(buf, len, recs, 16);
	cr_assert_eq(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		struct kmsg_event ev;

		cr_assert_eq(kmsg_parse_record(recs[i].p, recs[i].len, &ev), 1, "record %zu", i);
		cr_assert_eq(ev.kind, want[i].kind, "record %zu", i);
		cr_assert_eq(ev.seq, want[i].seq);
		cr_assert_eq(ev.ts_usec, 5000000000ULL + (want[i].seq - 1000));
		cr_assert_eq(ev.port, want[i].port);
		cr_assert_str_eq(ev.addr, "");
		cr_assert_eq(ev.cookies, want[i].cookies);
	}
	free(buf);
}

/* Real records of other kinds: continuation lines, escapes, user space. None is a cause. */
Test(kmsg, framing_recorded)
{
	struct rec recs[16];
	size_t len, n;
	char *buf = slurp(KMSG_FIXTURES "/framing.txt", &len);

	n = split(buf, len, recs, 16);
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		struct kmsg_event ev;

		cr_assert_eq(kmsg_parse_record(recs[i].p, recs[i].len, &ev), 0,
			     "%.*s", (int)recs[i].len, recs[i].p);
	}
	free(buf);
}

Test(kmsg, header_fields)
{
	struct kmsg_event ev;

	/* more header fields after FLAGS are skipped, as the ABI asks */
	cr_assert_eq(parse_str("6,7,8,-,caller=T42,future=1;TCP: too many orphaned sockets\n", &ev), 1);
	cr_assert_eq(ev.kind, KMSG_ORPHANS);
	cr_assert_eq(ev.seq, 7);
	cr_assert_eq(ev.ts_usec, 8);
	/* a continuation fragment ('c') is a record like any other */
	cr_assert_eq(parse_str("4,9,10,c;nf_conntrack: table full, dropping packet\n", &ev), 1);
	cr_assert_eq(ev.kind, KMSG_CONNTRACK_FULL);
	/* a record whose newline a caller cut off */
	cr_assert_eq(parse_str("6,1,2,-;TCP: out of memory -- consider tuning tcp_mem", &ev), 1);
	cr_assert_eq(ev.kind, KMSG_TCP_OOM);
	/* continuation lines do not belong to the message */
	cr_assert_eq(parse_str("6,1,2,-;TCP: too many orphaned sockets\n SUBSYSTEM=net\n", &ev), 1);
	/* 64-bit sequence numbers and timestamps */
	cr_assert_eq(parse_str("6,18446744073709551615,18446744073709551615,-;TCP: too many orphaned sockets\n",
			       &ev), 1);
	cr_assert_eq(ev.seq, UINT64_MAX);
	cr_assert_eq(ev.ts_usec, UINT64_MAX);
}

/*
 * User space can write to /dev/kmsg but never with facility 0 (the kernel
 * forces LOG_USER): the same text from user space is no cause.
 */
Test(kmsg, user_space_is_not_kernel)
{
	struct kmsg_event ev;

	cr_assert_eq(parse_str("12,5,6,-;nf_conntrack: nf_conntrack: table full, dropping packet\n", &ev), 0);
	cr_assert_eq(parse_str("14,5,6,-;TCP: too many orphaned sockets\n", &ev), 0);
	cr_assert_eq(parse_str("2047,5,6,-;TCP: request_sock_TCP: Possible SYN flooding on port "
			       "127.0.0.1:80. Sending cookies.\n", &ev), 0);
}

/*
 * The kernel's lines for a process it killed, as 6.x prints them (x86
 * show_signal_msg with the VMA and CPU appended, traps.c, oom_kill.c) and
 * as 4.x printed the OOM victim on its own line.
 */
Test(kmsg, deaths)
{
	static const struct {
		const char *rec;
		enum kmsg_kind kind;
		int pid;
		const char *comm, *sig;
	} deaths[] = {
		{ "6,1234,5678901,-;redis-server[4242]: segfault at ffffffffffffffff ip 000055d0c0a1b2c3 "
		  "sp 00007ffd1234abcd error 7 in redis-server[55d0c0800000+2a0000] likely on CPU 1 "
		  "(core 1, socket 0)\n", KMSG_SEGFAULT, 4242, "redis-server", "SIGSEGV" },
		{ "6,1,2,-;a[b[99]: segfault at 0 ip 0 sp 0 error 4\n", KMSG_SEGFAULT, 99, "a[b", "SIGSEGV" },
		{ "6,1,2,-;a\x7f" "b[12]: segfault at 0 ip 0 sp 0 error 4\n", KMSG_SEGFAULT, 12, "a?b", "SIGSEGV" },
		{ "6,1,2,-;averyveryverylongname[7]: segfault at 0 ip 0 sp 0 error 4\n", KMSG_SEGFAULT, 7,
		  "averyveryverylo", "SIGSEGV" },
		{ "6,1235,5678902,-;traps: node[777] general protection fault ip:55d0 sp:7ffd error:0 in "
		  "node[55d0+1000]\n", KMSG_TRAP, 777, "node", "SIGSEGV" },
		{ "6,1,2,-;traps: a.out[31337] trap divide error ip:401136 sp:7ffc error:0 in "
		  "a.out[401000+1000]\n", KMSG_TRAP, 31337, "a.out", "SIGFPE" },
		{ "6,1,2,-;traps: x[] y[5] trap invalid opcode ip:1 sp:2 error:0\n", KMSG_TRAP, 5, "x[] y",
		  "SIGILL" },
		{ "6,1,2,-;traps: srv[8] trap something new ip:1 sp:2 error:0\n", KMSG_TRAP, 8, "srv", "" },
		{ "3,2000,6000000,-;Out of memory: Killed process 4242 (redis-server) total-vm:1048576kB, "
		  "anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:110 pgtables:2000kB "
		  "oom_score_adj:0\n", KMSG_OOM_KILL, 4242, "redis-server", "SIGKILL" },
		{ "3,2001,6000001,-;Memory cgroup out of memory: Killed process 4243 (java) "
		  "total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB "
		  "oom_score_adj:0\n", KMSG_OOM_KILL, 4243, "java", "SIGKILL" },
		{ "3,1,1,-;Killed process 4244 (mysqld) total-vm:1kB, anon-rss:1kB, file-rss:0kB\n",
		  KMSG_OOM_KILL, 4244, "mysqld", "SIGKILL" },
		{ "3,1,1,-;Out of memory: Killed process 5 (a) b) total-vm:1kB\n", KMSG_OOM_KILL, 5,
		  "a) b", "SIGKILL" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(deaths); i++) {
		struct kmsg_event ev;

		cr_assert_eq(parse_str(deaths[i].rec, &ev), 1, "%s", deaths[i].rec);
		cr_assert_eq(ev.kind, deaths[i].kind, "%s", deaths[i].rec);
		cr_assert(kmsg_is_death(ev.kind));
		cr_assert_eq(ev.pid, deaths[i].pid, "%s", deaths[i].rec);
		cr_assert_str_eq(ev.comm, deaths[i].comm, "%s", deaths[i].rec);
		cr_assert_str_eq(ev.signal, deaths[i].sig, "%s", deaths[i].rec);
	}
}

/* Near misses of the death lines, and the same text from user space. */
Test(kmsg, not_deaths)
{
	static const char *const other[] = {
		"6,1,2,-;oom_reaper: reaped process 4242 (redis-server), now anon-rss:0kB, file-rss:0kB\n",
		"3,1,2,-;Out of memory: Kill process 4242 (redis-server) score 900 or sacrifice child\n",
		"3,1,2,-;mydriver: Killed process 12 (x) total-vm:1kB\n",
		"3,1,2,-;Out of memory: Killed process 0 (x) total-vm:1kB\n",
		"3,1,2,-;Out of memory: Killed process 99999999999 (x) total-vm:1kB\n",
		"3,1,2,-;Out of memory: Killed process 12 () total-vm:1kB\n",
		"6,1,2,-;x[abc]: segfault at 0 ip 0 sp 0 error 4\n",
		"6,1,2,-;[12]: segfault at 0 ip 0 sp 0 error 4\n",
		"6,1,2,-;traps: nobody here\n",
		"6,1,2,-;traps: srv[12]trap int3\n",
		"14,1,2,-;redis-server[4242]: segfault at 0 ip 0 sp 0 error 7\n",
		"11,1,2,-;Out of memory: Killed process 4242 (redis-server) total-vm:1kB\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		struct kmsg_event ev;

		cr_assert_eq(parse_str(other[i], &ev), 0, "%s", other[i]);
	}
}

/* Near misses of the cause texts are other messages. */
Test(kmsg, not_causes)
{
	static const char *const other[] = {
		"6,1,2,-;TCP: out of memory -- consider tuning tcp_mem now\n",
		"6,1,2,-;TCP: too many orphaned sockets!\n",
		"6,1,2,-;tcp: too many orphaned sockets\n",
		"6,1,2,-; TCP: too many orphaned sockets\n",
		"6,1,2,-;nf_conntrack: nf_conntrack: table full\n",
		"6,1,2,-;nf_conntrack: nf_conntrack: nf_conntrack: table full, dropping packet\n",
		"6,1,2,-;mydriver: Possible SYN flooding on port 127.0.0.1:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN floods on port 80. Sending cookies.\n",
		"6,1,2,-;\n",
		"6,1,2,-;\\x00\n",
		"6,1,2,-;TCP\\x3a too many orphaned sockets\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		struct kmsg_event ev;

		cr_assert_eq(parse_str(other[i], &ev), 0, "%s", other[i]);
	}
}

Test(kmsg, malformed_records)
{
	static const char *const bad[] = {
		"",
		"\n",
		"garbage\n",
		";TCP: too many orphaned sockets\n",
		"6;TCP: too many orphaned sockets\n",
		"6,1;TCP: too many orphaned sockets\n",
		"6,1,2;TCP: too many orphaned sockets\n",          /* no FLAGS */
		"6,1,2,;TCP: too many orphaned sockets\n",         /* empty FLAGS */
		"6,1,2,,x;TCP: too many orphaned sockets\n",
		"x,1,2,-;TCP: too many orphaned sockets\n",
		"6,x,2,-;TCP: too many orphaned sockets\n",
		"6,1,-2,-;TCP: too many orphaned sockets\n",
		"-6,1,2,-;TCP: too many orphaned sockets\n",
		" 6,1,2,-;TCP: too many orphaned sockets\n",
		"6,18446744073709551616,2,-;TCP: too many orphaned sockets\n",
		"6,1,2,-\n;TCP: too many orphaned sockets\n",      /* newline inside the header */
		"6,1,2,-TCP: too many orphaned sockets\n",         /* no ';' */
		/* truncated and broken SYN flood lines */
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port \n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:80\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:80. \n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:80. Sending cook\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:80. Maybe later.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:65536. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:99999999999. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:-1. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port 999.0.0.1:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port :80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port [::1]80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port [::1:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port []:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port [::g]:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port [127.0.0.1]:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCPv6: Possible SYN flooding on port "
		"[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb]:80. Sending cookies.\n",
		"6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port eighty. Sending cookies.\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct kmsg_event ev;

		cr_assert_eq(parse_str(bad[i], &ev), -EINVAL, "%s", bad[i]);
	}
}

Test(kmsg, nul_bytes)
{
	const char in_msg[] = "6,1,2,-;TCP: too many\0 orphaned sockets\n";
	const char in_hdr[] = "6,1\0,2,-;TCP: too many orphaned sockets\n";
	const char in_cont[] = "6,1,2,-;TCP: too many orphaned sockets\n K=\0\n";
	struct kmsg_event ev;

	cr_assert_eq(kmsg_parse_record(in_msg, sizeof(in_msg) - 1, &ev), -EINVAL);
	cr_assert_eq(kmsg_parse_record(in_hdr, sizeof(in_hdr) - 1, &ev), -EINVAL);
	/* a NUL in a continuation line does not touch the message */
	cr_assert_eq(kmsg_parse_record(in_cont, sizeof(in_cont) - 1, &ev), 1);
	cr_assert_eq(kmsg_parse_record("\0\0\0", 3, &ev), -EINVAL);
}

/* The length is honoured: no reading past it, even without a NUL or newline. */
Test(kmsg, length_bound)
{
	static const char rec[] = "6,1,2,-;TCP: too many orphaned sockets\n";
	struct kmsg_event ev;
	char *exact = malloc(sizeof(rec) - 1);

	cr_assert_not_null(exact);
	memcpy(exact, rec, sizeof(rec) - 1);    /* no terminator: ASan sees any overread */
	cr_assert_eq(kmsg_parse_record(exact, sizeof(rec) - 1, &ev), 1);
	cr_assert_eq(kmsg_parse_record(exact, sizeof(rec) - 3, &ev), 0, "cut message");
	cr_assert_eq(kmsg_parse_record(exact, 5, &ev), -EINVAL, "cut header");
	free(exact);
}

Test(kmsg, overlong_record)
{
	size_t n = 20000;
	char *big = malloc(n);
	struct kmsg_event ev;
	int len;

	cr_assert_not_null(big);
	len = snprintf(big, n, "6,1,2,-;TCP: request_sock_TCP: Possible SYN flooding on port ");
	memset(big + len, '1', n - (size_t)len - 1);
	big[n - 1] = '\n';
	cr_assert_eq(kmsg_parse_record(big, n, &ev), -EINVAL);
	memset(big, 'x', n);
	cr_assert_eq(kmsg_parse_record(big, n, &ev), -EINVAL);
	free(big);
}

Test(kmsg, open_errors)
{
	struct kmsg *k = NULL;

	cr_assert_eq(kmsg_open(&k, "/nonexistent/backlogd/kmsg"), -ENOENT);
	cr_assert_null(k);
	kmsg_close(NULL);
}

static char dir[] = "/tmp/backlogd-kmsg-XXXXXX";
static char fifo[300];

static void fifo_setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/kmsg", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
}

static void fifo_teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		cr_assert_gt(w, 0, "write: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

static void write_fixture(int fd, const char *name)
{
	char path[300];
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", KMSG_FIXTURES, name);
	buf = slurp(path, &len);
	write_all(fd, buf, len);
	free(buf);
}

/*
 * A FIFO stands in for /dev/kmsg (kmsg_open tolerates its ESPIPE): a pipe
 * hands out bytes, not records, so this also covers records that span
 * reads. All three fixtures in one stream: 6 + 6 events, 5 others.
 */
Test(kmsg, fifo_events, .init = fifo_setup, .fini = fifo_teardown)
{
	struct kmsg_event ev[32];
	unsigned dropped = 99, lost = 99;
	struct kmsg *k;
	int w;

	cr_assert_eq(kmsg_open(&k, fifo), 0);
	cr_assert_geq(kmsg_fd(k), 0);
	/* nothing written yet: returns at once */
	cr_assert_eq(kmsg_read(k, ev, 32, &dropped, &lost), 0);
	cr_assert_eq(dropped, 0);
	cr_assert_eq(lost, 0);

	w = open(fifo, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(w, 0);
	write_fixture(w, "framing.txt");
	write_fixture(w, "syn-flood.txt");
	write_fixture(w, "from-source.txt");
	cr_assert_eq(kmsg_read(k, ev, 32, &dropped, &lost), 12);
	cr_assert_eq(dropped, 0);
	cr_assert_eq(lost, 0);
	cr_assert_eq(ev[0].kind, KMSG_SYN_FLOOD);
	cr_assert_eq(ev[0].seq, 357);
	cr_assert_eq(ev[0].port, 54591);
	cr_assert_eq(ev[6].kind, KMSG_CONNTRACK_FULL);
	cr_assert_eq(ev[11].seq, 1006);
	/* the writer still open, nothing more: EAGAIN, not a block */
	cr_assert_eq(kmsg_read(k, ev, 32, &dropped, &lost), 0);

	/* more than max: the rest is counted, not stored */
	write_fixture(w, "syn-flood.txt");
	write_fixture(w, "from-source.txt");
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 4);
	cr_assert_eq(dropped, 8);
	cr_assert_eq(ev[3].seq, 360);
	/* max 0 and NULL counters are allowed */
	write_fixture(w, "syn-flood.txt");
	cr_assert_eq(kmsg_read(k, NULL, 0, NULL, NULL), 0);
	close(w);
	/* no writer left: EOF, still no block */
	cr_assert_eq(kmsg_read(k, ev, 32, &dropped, &lost), 0);
	/* and no hang-up reported for ever, which would spin the daemon's loop */
	{
		struct pollfd p = { .fd = kmsg_fd(k), .events = POLLIN };

		cr_assert_eq(poll(&p, 1, 0), 0, "revents 0x%x after the writer left", p.revents);
	}
	kmsg_close(k);
}

/* A record written in two pieces is parsed once, whole. */
Test(kmsg, fifo_split_record, .init = fifo_setup, .fini = fifo_teardown)
{
	static const char rec[] = "6,360,2442865803,-;TCP: request_sock_TCPv6: Possible SYN "
				  "flooding on port [::1]:41457. Dropping request.\n SUBSYSTEM=x\n";
	struct kmsg_event ev[4];
	unsigned dropped, lost;
	struct kmsg *k;
	int w;

	cr_assert_eq(kmsg_open(&k, fifo), 0);
	w = open(fifo, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(w, 0);
	write_all(w, rec, 40);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 0);
	write_all(w, rec + 40, 50);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 0);
	write_all(w, rec + 90, sizeof(rec) - 1 - 90);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 1);
	cr_assert_str_eq(ev[0].addr, "::1");
	cr_assert_eq(ev[0].port, 41457);
	cr_assert(!ev[0].cookies);
	close(w);
	kmsg_close(k);
}

/* A line longer than any record is skipped to its end; what follows still reads. */
Test(kmsg, fifo_overlong_line, .init = fifo_setup, .fini = fifo_teardown)
{
	static const char rec[] = "6,1,2,-;TCP: too many orphaned sockets\n";
	struct kmsg_event ev[4];
	unsigned dropped, lost;
	size_t n = 40000;
	char *junk = malloc(n);
	struct kmsg *k;
	int w;

	cr_assert_not_null(junk);
	memcpy(junk, rec, sizeof(rec) - 1);   /* looks like a record, then never ends */
	memset(junk + sizeof(rec) - 2, 'x', n - (sizeof(rec) - 2));
	cr_assert_eq(kmsg_open(&k, fifo), 0);
	w = open(fifo, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(w, 0);
	write_all(w, junk, n);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 0);
	write_all(w, "tail of the junk\n", 17);
	write_all(w, rec, sizeof(rec) - 1);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 1);
	cr_assert_eq(ev[0].kind, KMSG_ORPHANS);
	free(junk);
	close(w);
	kmsg_close(k);
}

/* Garbage and NUL bytes in the stream cost only their own lines. */
Test(kmsg, fifo_garbage, .init = fifo_setup, .fini = fifo_teardown)
{
	static const char stream[] = "garbage\n\0\0\0\n;;;\n 6,1,2,-;not a header\n"
				     "6,1,2,-;TCP: too many orphaned sockets\n\xff\xfe\n";
	struct kmsg_event ev[4];
	unsigned dropped, lost;
	struct kmsg *k;
	int w;

	cr_assert_eq(kmsg_open(&k, fifo), 0);
	w = open(fifo, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(w, 0);
	write_all(w, stream, sizeof(stream) - 1);
	cr_assert_eq(kmsg_read(k, ev, 4, &dropped, &lost), 1);
	cr_assert_eq(ev[0].kind, KMSG_ORPHANS);
	close(w);
	kmsg_close(k);
}

/* A regular file: opened at its end, so what it held before is not news. */
Test(kmsg, regular_file_starts_at_end, .init = fifo_setup, .fini = fifo_teardown)
{
	char path[400];
	struct kmsg_event ev[16];
	unsigned dropped, lost;
	struct kmsg *k;
	int w;

	snprintf(path, sizeof(path), "%s/file", dir);
	w = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(w, 0);
	write_fixture(w, "from-source.txt");
	cr_assert_eq(kmsg_open(&k, path), 0);
	cr_assert_eq(kmsg_read(k, ev, 16, &dropped, &lost), 0);
	write_fixture(w, "syn-flood.txt");
	cr_assert_eq(kmsg_read(k, ev, 16, &dropped, &lost), 6);
	cr_assert_eq(ev[0].seq, 357);
	close(w);
	kmsg_close(k);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct kmsg *open_dev_or_skip(void)
{
	struct kmsg *k = NULL;
	int r = kmsg_open(&k, "/dev/kmsg");

	if (r == -EPERM || r == -EACCES || r == -ENOENT)
		cr_skip_test("/dev/kmsg: %s (needs CAP_SYSLOG)", strerror(-r));
	cr_assert_eq(r, 0, "kmsg_open: %s", strerror(-r));
	return k;
}

/* The real device: opened at the end, read without blocking. */
Test(kmsg, live_device)
{
	struct kmsg_event ev[64];
	unsigned dropped, lost;
	struct kmsg *k = open_dev_or_skip();
	double t0 = now();
	int r;

	r = kmsg_read(k, ev, 64, &dropped, &lost);
	cr_assert_geq(r, 0, "kmsg_read: %s", strerror(-r));
	/* the boot log is not replayed: at most what was logged this instant */
	r = kmsg_read(k, ev, 64, &dropped, &lost);
	cr_assert_geq(r, 0);
	cr_assert_lt(now() - t0, 5.0, "kmsg_read blocked");
	kmsg_close(k);
}

/* Bring lo up in this test's own network namespace. */
static void lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/*
 * Fill one listener's SYN queue: TCP_DEFER_ACCEPT drops the clients' bare
 * third ACKs, so on loopback the requests stay in SYN_RECV and the queue
 * (sized by the backlog) fills. Return: the listener's port; *fds holds
 * every socket to close.
 */
static uint16_t syn_flood_once(int *fds, size_t *nfds)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	int defer = 30, l;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(l, 0);
	fds[(*nfds)++] = l;
	cr_assert_eq(setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)), 0);
	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l, 4), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sa, &slen), 0);
	for (int i = 0; i < 16; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		cr_assert_geq(c, 0);
		fds[(*nfds)++] = c;
		(void)connect(c, (struct sockaddr *)&sa, sizeof(sa));  /* EINPROGRESS */
	}
	return ntohs(sa.sin_port);
}

/*
 * End to end against the live kernel, in this test's own network namespace
 * (Criterion runs each test in its own process): a real SYN flood, and
 * kmsg_read hands back the kernel's record for exactly that listener. The
 * kernel logs once per listener through the host-wide net_ratelimit (10
 * per 5 s), so a record another process's burst crowded out is retried
 * with a fresh listener, three times at most.
 */
Test(kmsg, live_syn_flood)
{
	struct kmsg_event ev[64];
	unsigned dropped, lost;
	struct kmsg *k;
	int fds[64];
	size_t nfds = 0;
	bool seen = false;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s (needs CAP_SYS_ADMIN)", strerror(errno));
	lo_up();
	k = open_dev_or_skip();
	for (int attempt = 0; attempt < 3 && !seen; attempt++) {
		uint16_t port = syn_flood_once(fds, &nfds);
		double t0 = now();

		while (!seen && now() - t0 < 2.0) {
			struct pollfd pfd = { .fd = kmsg_fd(k), .events = POLLIN };
			int r;

			(void)poll(&pfd, 1, 200);
			r = kmsg_read(k, ev, 64, &dropped, &lost);
			cr_assert_geq(r, 0);
			for (int i = 0; i < r; i++) {
				if (ev[i].kind != KMSG_SYN_FLOOD || ev[i].port != port)
					continue;
				/* a new namespace starts with tcp_syncookies = 1 */
				cr_assert_str_eq(ev[i].addr, "127.0.0.1");
				cr_assert(ev[i].cookies);
				cr_assert_gt(ev[i].seq, 0);
				seen = true;
			}
		}
	}
	cr_assert(seen, "no \"Possible SYN flooding\" record for our listener in 3 tries");
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	kmsg_close(k);
}

/*
 * /dev/kmsg's EPIPE is one event however many records the ring overwrote:
 * the lost count is the gap between the last record read and the next.
 */
Test(kmsg, lost_records_from_the_sequence_gap)
{
	struct kmsg_seq s = { 0 };

	cr_assert_eq(kmsg_seq_note(&s, 100), 0);
	cr_assert_eq(kmsg_seq_note(&s, 101), 0);
	/* One EPIPE, 57 records gone: 102..158. */
	kmsg_seq_overrun(&s);
	cr_assert_eq(kmsg_seq_note(&s, 159), 57);
	cr_assert_eq(kmsg_seq_note(&s, 160), 0);
	/* Two EPIPEs before the next record still measure one gap. */
	kmsg_seq_overrun(&s);
	kmsg_seq_overrun(&s);
	cr_assert_eq(kmsg_seq_note(&s, 1160), 999);
	/* An EPIPE whose resumption loses nothing counts nothing. */
	kmsg_seq_overrun(&s);
	cr_assert_eq(kmsg_seq_note(&s, 1161), 0);
	/* Without an EPIPE a jump is no loss (a stream of concatenated recordings). */
	cr_assert_eq(kmsg_seq_note(&s, 5000), 0);
	/* A gap too large for the count is clamped, never wrapped. */
	kmsg_seq_overrun(&s);
	cr_assert_eq(kmsg_seq_note(&s, UINT64_MAX), UINT_MAX);
}

Test(kmsg, overrun_before_any_record_is_at_least_one)
{
	struct kmsg_seq s = { 0 };

	kmsg_seq_overrun(&s);
	cr_assert_eq(kmsg_seq_note(&s, 42), 1);
	cr_assert_eq(kmsg_seq_note(&s, 43), 0);
}
