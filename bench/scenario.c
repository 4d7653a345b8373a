/* scenario.c: builds a bench scenario (N listeners, M established connections, a steady overflow, listeners to restart on a signal) in the current network namespace and holds it until killed. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The open-file limit here is 20,000 per process (hard): every process of
 * the scenario keeps below this many descriptors, with room for stdio, the
 * inherited target listeners and the pipes.
 */
#define FDS_PER_PROC 18000
/* Established connections per worker: two descriptors each (client and server end). */
#define CONNS_PER_WORKER (FDS_PER_PROC / 2 - 100)
/* Listening ports the connections are spread over (all accept): few enough to
 * inherit into every worker, enough that no (source, destination) pair runs
 * short of ephemeral ports. */
#define MAX_TARGETS 64
/* Source addresses 127.0.0.2 ... for the clients, for the same reason. */
#define CLIENT_ADDRS 200
#define MAX_OVERFLOW 16
/* Listeners that SIGUSR2 closes and opens again, one per signal in turn. */
#define MAX_GAP 16
/* Connect attempts the overflow client keeps open per listener: older ones are
 * closed, so that retransmitted SYNs stay a bounded part of the drops. */
#define OVERFLOW_RING 16
#define MAX_PROCS 256

struct opts {
	unsigned listeners;       /* total listening sockets, the targets included */
	unsigned conns;           /* established connections */
	unsigned targets;         /* of the listeners, how many the connections go to */
	unsigned overflow;        /* extra listeners with backlog 4 that never accept */
	unsigned overflow_hz;     /* connects per second to each of them */
	unsigned v6_every;        /* every Nth plain listener is on [::1] (0: none) */
	unsigned port_base;
	unsigned overflow_port;
	bool overflow_paused;     /* no overflow connects until SIGUSR1: a quiet host first */
	unsigned gap_listeners;   /* listeners of the leader that SIGUSR2 restarts, in turn */
	unsigned gap_port;        /* the first of them */
	unsigned gap_ms;          /* how long each stays closed */
	const char *gap_marker;   /* where each restart is told, with its times */
	unsigned lifetime;        /* seconds; the scenario ends by itself after this */
	const char *ready;
};

static volatile sig_atomic_t stopping;
/* --overflow-paused: the overflow client waits for SIGUSR1 (sent to the scenario, passed on). */
static volatile sig_atomic_t overflow_go = 1;
/* SIGUSR2s not yet served: each restarts the next gap listener. */
static volatile sig_atomic_t gaps_asked;
static pid_t procs[MAX_PROCS];
static size_t nprocs;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void on_go(int sig)
{
	(void)sig;
	overflow_go = 1;
}

static void on_gap(int sig)
{
	(void)sig;
	gaps_asked++;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
	fprintf(stderr, "scenario: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void diex(const char *what)
{
	fprintf(stderr, "scenario: %s\n", what);
	exit(1);
}

/* A child must not outlive the scenario: a killed leader takes every child with it. */
static void child_setup(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die("prctl");
	/* The parent may have died between fork() and prctl(). */
	if (getppid() == 1)
		_exit(1);
}

static void hold_until_stopped(void)
{
	while (!stopping)
		pause();
}

/* Return: a listening socket on ADDR:port, or -1 with errno (EADDRNOTAVAIL: no IPv6). */
static int make_listener(int family, unsigned port, int backlog)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int one = 1, fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a6.sin6_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0)
			goto fail;
	} else {
		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0)
			goto fail;
	}
	if (listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail: {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
}

/* Tell the leader this part is built: one byte, or a failure it reports. */
static void report_ready(int wfd, char status)
{
	if (write(wfd, &status, 1) != 1)
		_exit(1);
	close(wfd);
}

/* Wait for one child's status byte. Return: true when it built its part. */
static bool wait_part(int rfd, const char *what)
{
	char c = 0;
	ssize_t n;

	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR && !stopping);
	close(rfd);
	if (n != 1 || c != 'y') {
		fprintf(stderr, "scenario: %s failed\n", what);
		return false;
	}
	return true;
}

static pid_t spawn(int *rfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	if (nprocs == MAX_PROCS)
		diex("too many processes");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		child_setup();
		*rfd = p[1];
		return 0;
	}
	close(p[1]);
	procs[nprocs++] = pid;
	*rfd = p[0];
	return pid;
}

/* Plain listeners [first, first + count) of the port range; every v6_every-th on [::1]. */
static void holder_main(const struct opts *o, unsigned first, unsigned count, int wfd)
{
	static bool no_v6;
	unsigned i;

	for (i = first; i < first + count; i++) {
		int family = o->v6_every && i % o->v6_every == 0 && !no_v6 ? AF_INET6 : AF_INET;
		int fd = make_listener(family, o->port_base + i, 128);

		/* A namespace without IPv6 on lo: the rest go to IPv4, the count stays right. */
		if (fd < 0 && family == AF_INET6 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
			no_v6 = true;
			fd = make_listener(AF_INET, o->port_base + i, 128);
		}
		if (fd < 0) {
			fprintf(stderr, "scenario: listener on port %u: %s\n", o->port_base + i,
				strerror(errno));
			report_ready(wfd, 'n');
			_exit(1);
		}
	}
	report_ready(wfd, 'y');
	hold_until_stopped();
	_exit(0);
}

/* Wait until fd is readable, at most ms. Return: true when it is. */
static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR && !stopping);
	return r > 0;
}

/*
 * count connections, client and server end in this process. Clients bind to
 * 127.0.0.X with IP_BIND_ADDRESS_NO_PORT, so the kernel picks the port per
 * 4-tuple at connect() time: 200,000 connections over the default
 * ip_local_port_range do not run out. SO_LINGER 0 makes the teardown a RST:
 * no TIME_WAIT is left behind to weigh on the next scenario.
 */
static void worker_main(const int *tfd, const unsigned *tport, unsigned ntargets,
			unsigned start, unsigned count, int wfd)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	unsigned i;
	int one = 1;

	for (i = 0; i < count && !stopping; i++) {
		unsigned k = start + i, t = k % ntargets;
		struct sockaddr_in src = { .sin_family = AF_INET };
		struct sockaddr_in dst = { .sin_family = AF_INET };
		int c, s;

		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (k / ntargets) % CLIENT_ADDRS);
		dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		dst.sin_port = htons((uint16_t)tport[t]);
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0)
			goto fail;
		(void)setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		(void)setsockopt(c, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		if (bind(c, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
		/* On loopback a blocking connect returns once the handshake is done. */
		if (connect(c, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			goto fail;
		/* Workers run one at a time, so what is queued on the target is ours. */
		if (!wait_readable(tfd[t], 5000)) {
			errno = ETIMEDOUT;
			goto fail;
		}
		s = accept4(tfd[t], NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			goto fail;
		(void)setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	}
	report_ready(wfd, 'y');
	hold_until_stopped();
	_exit(0);
fail:
	fprintf(stderr, "scenario: connection %u: %s\n", start + i, strerror(errno));
	report_ready(wfd, 'n');
	_exit(1);
}

/*
 * The steady overflow: each overflow listener gets a connect overflow_hz
 * times a second. Once its queue holds backlog + 1 handshakes, each new
 * SYN is dropped (and the older attempts' retransmissions too): a steady
 * trickle of drops on a few listeners, as a slow consumer gives.
 */
static void overflow_client_main(const struct opts *o, int wfd)
{
	int ring[MAX_OVERFLOW][OVERFLOW_RING];
	unsigned slot = 0, j;
	int64_t next = mono_ms(), period = 1000 / (o->overflow_hz ? o->overflow_hz : 1);

	memset(ring, -1, sizeof(ring));
	report_ready(wfd, 'y');
	while (!stopping && !overflow_go)
		usleep(10000);
	next = mono_ms();
	while (!stopping) {
		for (j = 0; j < o->overflow; j++) {
			struct sockaddr_in dst = { .sin_family = AF_INET };
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (ring[j][slot] >= 0)
				close(ring[j][slot]);
			ring[j][slot] = fd;
			if (fd < 0)
				continue;
			dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			dst.sin_port = htons((uint16_t)(o->overflow_port + j));
			(void)connect(fd, (struct sockaddr *)&dst, sizeof(dst));
		}
		slot = (slot + 1) % OVERFLOW_RING;
		next += period;
		while (!stopping && mono_ms() < next)
			usleep(10000);
	}
	_exit(0);
}

static void stop_all(void)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		kill(procs[i], SIGTERM);
	for (i = 0; i < nprocs; i++)
		while (waitpid(procs[i], NULL, 0) < 0 && errno == EINTR)
			;
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 10000000UL) {
		fprintf(stderr, "scenario: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

static void usage(FILE *f)
{
	fputs("usage: scenario [--listeners N] [--conns M] [--overflow K] [--overflow-hz HZ]\n"
	      "                [--targets T] [--v6-every N] [--port-base P] [--overflow-port P]\n"
	      "                [--lifetime SECS] [--ready FILE] [--overflow-paused]\n"
	      "                [--gap-listeners G] [--gap-port P] [--gap-ms MS] [--gap-marker FILE]\n"
	      "Builds N listeners (every v6-every-th on [::1]), M established connections to\n"
	      "T of them (spread over processes of at most 18,000 descriptors), and K more\n"
	      "listeners with backlog 4 that never accept and get HZ connects a second.\n"
	      "Writes \"ready PID build_ms=MS\" to FILE once built; holds until SIGTERM.\n"
	      "--overflow-paused: no overflow connects until the scenario gets SIGUSR1.\n"
	      "G more listeners on 127.0.0.1:P... held by the scenario itself: each SIGUSR2\n"
	      "closes the next of them, waits MS (2000), listens there again, and writes\n"
	      "\"gap seq=N port=P state=closed|open closed_ns=T reopened_ns=T\" to FILE.\n", f);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "listeners", required_argument, NULL, 'l' },
		{ "conns", required_argument, NULL, 'c' },
		{ "targets", required_argument, NULL, 't' },
		{ "overflow", required_argument, NULL, 'o' },
		{ "overflow-hz", required_argument, NULL, 'z' },
		{ "v6-every", required_argument, NULL, '6' },
		{ "port-base", required_argument, NULL, 'p' },
		{ "overflow-port", required_argument, NULL, 'P' },
		{ "overflow-paused", no_argument, NULL, 'Z' },
		{ "gap-listeners", required_argument, NULL, 'g' },
		{ "gap-port", required_argument, NULL, 'G' },
		{ "gap-ms", required_argument, NULL, 'M' },
		{ "gap-marker", required_argument, NULL, 'k' },
		{ "lifetime", required_argument, NULL, 'L' },
		{ "ready", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .listeners = 1000, .overflow = 3, .overflow_hz = 5, .v6_every = 4,
			    .port_base = 20000, .overflow_port = 19000, .lifetime = 900,
			    .targets = MAX_TARGETS, .gap_port = 18500, .gap_ms = 2000 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->listeners = parse_uint(optarg, "--listeners"); break;
		case 'c': o->conns = parse_uint(optarg, "--conns"); break;
		case 't': o->targets = parse_uint(optarg, "--targets"); break;
		case 'o': o->overflow = parse_uint(optarg, "--overflow"); break;
		case 'z': o->overflow_hz = parse_uint(optarg, "--overflow-hz"); break;
		case '6': o->v6_every = parse_uint(optarg, "--v6-every"); break;
		case 'p': o->port_base = parse_uint(optarg, "--port-base"); break;
		case 'P': o->overflow_port = parse_uint(optarg, "--overflow-port"); break;
		case 'Z': o->overflow_paused = true; break;
		case 'g': o->gap_listeners = parse_uint(optarg, "--gap-listeners"); break;
		case 'G': o->gap_port = parse_uint(optarg, "--gap-port"); break;
		case 'M': o->gap_ms = parse_uint(optarg, "--gap-ms"); break;
		case 'k': o->gap_marker = optarg; break;
		case 'L': o->lifetime = parse_uint(optarg, "--lifetime"); break;
		case 'r': o->ready = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o->targets == 0 || o->targets > MAX_TARGETS)
		o->targets = MAX_TARGETS;
	if (o->targets > o->listeners)
		o->targets = o->listeners;
	if (o->conns && o->targets == 0)
		diex("connections need at least one listener");
	if (o->overflow > MAX_OVERFLOW)
		diex("at most 16 overflow listeners");
	if (o->port_base + o->listeners > 65535 || o->overflow_port + o->overflow > o->port_base)
		diex("ports: overflow ports must sit below --port-base, and the listeners below 65536");
	if (o->gap_listeners > MAX_GAP)
		diex("at most 16 gap listeners");
	if (o->gap_listeners && o->gap_port + o->gap_listeners > o->overflow_port)
		diex("ports: gap ports must sit below --overflow-port");
}

/* Written under a temporary name, then renamed: a poller never sees half a line. NULL file: stdout. */
static void write_line(const char *file, const char *line)
{
	char tmp[4096];
	FILE *f;

	if (!file) {
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fputs(line, f);
	if (fclose(f) != 0 || rename(tmp, file) < 0)
		die(file);
}

static void write_ready(const char *file, int64_t build_ms)
{
	char line[128];

	snprintf(line, sizeof(line), "ready %d build_ms=%lld\n", (int)getpid(), (long long)build_ms);
	write_line(file, line);
}

/*
 * One listener restarted in place, as a service reloading in the same
 * process does: the socket closed, gap_ms without any listener on its
 * address:port, then a new socket listening there. The marker tells when
 * each happened (CLOCK_MONOTONIC, shared by every process of the host), once
 * at the close and again at the return, so a reader can time the daemon's
 * findings against the true gap.
 */
static void restart_gap_listener(const struct opts *o, int *gfd, unsigned seq)
{
	unsigned k = seq % o->gap_listeners, port = o->gap_port + k;
	int64_t closed, reopened, end;
	char line[256];

	close(gfd[k]);
	closed = mono_ns();
	snprintf(line, sizeof(line), "gap seq=%u port=%u state=closed closed_ns=%lld reopened_ns=0\n",
		 seq, port, (long long)closed);
	write_line(o->gap_marker, line);
	end = closed + (int64_t)o->gap_ms * 1000000;
	while (!stopping && mono_ns() < end)
		usleep(1000);
	gfd[k] = make_listener(AF_INET, port, 128);
	if (gfd[k] < 0)
		die("gap listener again");
	reopened = mono_ns();
	snprintf(line, sizeof(line), "gap seq=%u port=%u state=open closed_ns=%lld reopened_ns=%lld\n",
		 seq, port, (long long)closed, (long long)reopened);
	write_line(o->gap_marker, line);
}

/*
 * The connection part: T target listeners (of the N), and workers forked one
 * after another so that each accepts exactly the connections it made; each
 * inherits only the targets, so its descriptors stay under the limit.
 */
static bool build_conns(const struct opts *o, int *tfd, unsigned *tport)
{
	unsigned t, done = 0;

	for (t = 0; t < o->targets; t++) {
		tport[t] = o->port_base + t;
		/* somaxconn caps it: 4096 by default, far more than the one at a time queued. */
		tfd[t] = make_listener(AF_INET, tport[t], 4096);
		if (tfd[t] < 0)
			die("target listener");
	}
	while (done < o->conns && !stopping) {
		unsigned n = o->conns - done < CONNS_PER_WORKER ? o->conns - done : CONNS_PER_WORKER;
		int rfd;

		if (spawn(&rfd) == 0)
			worker_main(tfd, tport, o->targets, done, n, rfd);
		if (!wait_part(rfd, "connection worker"))
			return false;
		done += n;
	}
	return !stopping;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sigaction sa = { .sa_handler = on_term }, go = { .sa_handler = on_go };
	struct sigaction gap = { .sa_handler = on_gap };
	pid_t overflow_pid = 0;
	bool passed_on = false;
	int tfd[MAX_TARGETS], ofd[MAX_OVERFLOW], gfd[MAX_GAP];
	unsigned tport[MAX_TARGETS];
	unsigned first, j, gaps_done = 0;
	int64_t t0 = mono_ms(), deadline;
	int rfd;
	bool ok = true;

	parse_args(argc, argv, &o);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &go, NULL);
	sigaction(SIGUSR2, &gap, NULL);
	signal(SIGPIPE, SIG_IGN);
	overflow_go = !o.overflow_paused;

	/* Plain listeners beyond the targets, in processes of at most FDS_PER_PROC. */
	for (first = o.targets; first < o.listeners && ok; first += FDS_PER_PROC) {
		unsigned n = o.listeners - first < FDS_PER_PROC ? o.listeners - first : FDS_PER_PROC;

		if (spawn(&rfd) == 0)
			holder_main(&o, first, n, rfd);
		ok = wait_part(rfd, "listener holder");
	}
	if (ok && o.targets)
		ok = build_conns(&o, tfd, tport);
	for (j = 0; ok && j < o.overflow; j++) {
		/* Backlog 4: the queue holds 5 handshakes, then every SYN is dropped. */
		ofd[j] = make_listener(AF_INET, o.overflow_port + j, 4);
		if (ofd[j] < 0)
			die("overflow listener");
	}
	if (ok && o.overflow) {
		if ((overflow_pid = spawn(&rfd)) == 0)
			overflow_client_main(&o, rfd);
		ok = wait_part(rfd, "overflow client");
	}
	/*
	 * The gap listeners last, after every fork: no child holds a copy, so
	 * closing one here really leaves its address:port without a listener.
	 */
	for (j = 0; ok && j < o.gap_listeners; j++) {
		gfd[j] = make_listener(AF_INET, o.gap_port + j, 128);
		if (gfd[j] < 0)
			die("gap listener");
	}
	if (!ok || stopping) {
		stop_all();
		return 1;
	}
	write_ready(o.ready, mono_ms() - t0);
	deadline = mono_ms() + (int64_t)o.lifetime * 1000;
	/* Bounded: the scenario ends by itself even if nobody kills it. */
	while (!stopping && mono_ms() < deadline) {
		/* SIGUSR1 came here: the overflow client is the one that waits for it. */
		if (overflow_go && !passed_on && overflow_pid > 0) {
			kill(overflow_pid, SIGUSR1);
			passed_on = true;
		}
		if (o.gap_listeners && gaps_done < (unsigned)gaps_asked)
			restart_gap_listener(&o, gfd, gaps_done++);
		else
			usleep(100000);
	}
	stop_all();
	return 0;
}
