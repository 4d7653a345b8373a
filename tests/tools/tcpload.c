/* tcpload.c: real-kernel load for integration tests: stuck or healthy listeners, clients that report what they saw, frames that an interface drops. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage (also printed by -h):
 *
 *   tcpload listen ADDR PORT BACKLOG [--accept [--no-read | --wait-eof]]
 *           [--defer-accept SECS] [--reuseport] [--fork N] [--ready FILE]
 *           [--drain-every-ms N]   (accept everything pending every N ms, not at once)
 *           [--lifetime SECS]
 *   tcpload connect ADDR PORT COUNT [--timeout-ms N] [--send | --send-bytes N]
 *           [--hold-ms N] [--interval-ms N] [--from ADDR]
 *   tcpload defer-storm ADDR PORT BACKLOG [--timeout-ms N] [--hold-ms N]
 *           [--ready FILE] [--defer-accept SECS] [--from ADDR]
 *
 * --from ADDR binds every client to ADDR (any port) before it connects:
 * clients from distinct addresses (127.0.0.11, 127.0.0.12) tell apart.
 *   tcpload frames IFACE COUNT [--interval-ms N]
 *
 * listen: without --accept the listener never accepts (its queue fills). With
 * --accept it takes every connection at once, sends its FIN at once and closes
 * at the client's EOF or 2 s later (a healthy server, TIME_WAIT on its side).
 *   --no-read   keep every accepted connection open and never read it, until
 *               the lifetime ends: the received bytes pile up in the kernel
 *               (Recv-Q), charged to TCP memory.
 *   --wait-eof  keep every accepted connection open, no FIN, and close it at the
 *               client's EOF: the client closes first, so TIME_WAIT lands on the
 *               client's side; a held client stays ESTABLISHED meanwhile.
 *   --fork N    a pre-fork server: after listen(), N children inherit the one
 *               listening socket and each does what the parent does (accepts
 *               with --accept, else only waits). "ready PID" names the parent
 *               and is written once every child exists; the children are its
 *               children (pgrep -P PID). A child ends with the parent (even a
 *               SIGKILLed one), on a signal, or at the lifetime; the parent
 *               stops and reaps its children before it exits.
 *
 * Client outcomes, one summary line
 * "connected=N reset=N timeout=N refused=N other=N addrnotavail=N":
 *   connected  the handshake completed and, with --send, the server's kernel
 *              acknowledged our bytes (a reply or EOF came, or nothing came but
 *              our send queue is empty: the connection sits in an accept queue).
 *              With --send-bytes N the client writes N bytes after the handshake,
 *              as much as the peer's window takes within --timeout-ms; a peer
 *              that never reads still counts as connected. stderr then says
 *              "tcpload: wrote X of Y bytes" over all clients (written into
 *              our sockets, not necessarily received yet).
 *   reset      ECONNRESET on connect, write or read, or pending on the socket
 *              at the end (a RST that came after the handshake); also EPIPE,
 *              which is how a RST after the server's FIN is reported.
 *   timeout    no handshake within --timeout-ms (the SYN was dropped), or our
 *              bytes still unacknowledged after it: the server's kernel drops
 *              our segments, as it does with a full accept queue and
 *              tcp_abort_on_overflow = 0 ("the first request stalls").
 *   refused    ECONNREFUSED: nobody listens.
 *   other      anything else (EADDRNOTAVAIL for port exhaustion, ...).
 *   addrnotavail  of "other", how many got EADDRNOTAVAIL from connect(): no
 *              local port was free for this destination (appended last so that
 *              scripts matching the first five fields keep working).
 *
 * frames: send COUNT Ethernet broadcast frames with an EtherType that no
 * protocol handles (0x88B5, IEEE local experimental) out of IFACE; prints
 * "sent=N". The receiving end (a veth peer) finds no handler for them and
 * counts each one in its rx_dropped (net/core/dev.c __netif_receive_skb_core):
 * real interface drops, made without touching any real network.
 */

#define MAX_CLIENTS 20000	/* the per-process fd limit here is 20000 */
#define MAX_HELD 16384		/* accepted connections a healthy listener keeps at once */
#define ACCEPTED_LINGER_MS 2000	/* how long a healthy listener waits for a client's EOF */
#define PAYLOAD "tcpload\n"

enum outcome { O_NONE, O_CONNECTED, O_RESET, O_TIMEOUT, O_REFUSED, O_OTHER };

enum cstate { C_IDLE, C_CONNECTING, C_WAITING, C_SENDING, C_DONE };

struct client {
	int fd;
	enum cstate state;
	enum outcome outcome;
	int err;		/* the errno behind an "other" outcome */
	int64_t deadline;
	size_t sent;		/* --send-bytes: bytes written so far */
};

/* What a client does once connected. */
struct copts {
	bool send_data;		/* --send: one line, then wait for the server's answer */
	size_t send_bytes;	/* --send-bytes: write this many bytes, then hold */
	int timeout_ms;
};

static volatile sig_atomic_t stop_signal;

/* --from: the clients' source address; from_len 0 when the kernel picks. */
static struct sockaddr_storage from_ss;
static socklen_t from_len;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_signal)
		;
}

static int poll_timeout(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  tcpload listen ADDR PORT BACKLOG [--accept [--no-read | --wait-eof]]\n"
	      "          [--defer-accept SECS] [--reuseport] [--fork N] [--ready FILE]\n"
	      "          [--drain-every-ms N]\n"
	      "          [--lifetime SECS]\n"
	      "  tcpload connect ADDR PORT COUNT [--timeout-ms N] [--send | --send-bytes N]\n"
	      "          [--hold-ms N] [--interval-ms N] [--from ADDR]\n"
	      "  tcpload defer-storm ADDR PORT BACKLOG [--timeout-ms N] [--hold-ms N]\n"
	      "          [--ready FILE] [--defer-accept SECS] [--from ADDR]\n"
	      "  tcpload frames IFACE COUNT [--interval-ms N]\n"
	      "prints \"ready PID\" (listen), \"sent=N\" (frames) or\n"
	      "\"connected=N reset=N timeout=N refused=N other=N addrnotavail=N\"\n",
	      f);
}

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "tcpload: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	exit(2);
}

static long parse_long(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage(what, s);
	return v;
}

static void resolve(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *res;
	int rc = getaddrinfo(addr, port, &hints, &res);

	if (rc != 0) {
		fprintf(stderr, "tcpload: %s port %s: %s\n", addr, port, gai_strerror(rc));
		exit(2);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* Written whole under a temporary name, then renamed: a poller never sees half a line. */
static void write_ready(const char *file)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!file) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "ready %d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, file) < 0) {
		fprintf(stderr, "tcpload: %s: %s\n", file, strerror(errno));
		exit(1);
	}
}

/* SIGTERM/SIGINT/SIGHUP end the run; they are blocked except inside ppoll, so none is lost. */
static void signals_setup(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

static int wait_events(struct pollfd *fds, nfds_t n, int64_t deadline, const sigset_t *waitmask)
{
	int left = poll_timeout(deadline);
	struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (long)(left % 1000) * 1000000 };

	return ppoll(fds, n, &ts, waitmask);
}

static int make_listener(const struct sockaddr_storage *ss, socklen_t len, int backlog,
			 int defer_secs, bool reuseport)
{
	int one = 1;
	/* Non-blocking: the accept loop drains to EAGAIN and must get back to ppoll for signals. */
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		perror("tcpload: socket");
		exit(1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    (defer_secs > 0 &&
	     setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_secs, sizeof(defer_secs)) < 0)) {
		perror("tcpload: setsockopt");
		exit(1);
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		perror("tcpload: bind");
		exit(1);
	}
	/* The backlog goes to the kernel as given, negative too (KERNEL.md: it becomes somaxconn). */
	if (listen(fd, backlog) < 0) {
		perror("tcpload: listen");
		exit(1);
	}
	return fd;
}

/* ---- listen ---- */

/*
 * Accepted connections of a healthy listener, oldest first. Deadlines grow
 * in accept order, so expiry only looks at the head. A slot closed early
 * (the client's EOF) keeps fd -1 until the head passes it.
 */
struct held {
	int fd;
	int64_t deadline;
};

struct held_fifo {
	struct held slot[MAX_HELD];
	size_t head, count;
};

static void held_pop(struct held_fifo *h)
{
	struct held *e = &h->slot[h->head];

	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	h->head = (h->head + 1) % MAX_HELD;
	h->count--;
}

static void held_expire(struct held_fifo *h, int64_t now)
{
	while (h->count > 0) {
		struct held *e = &h->slot[h->head];

		if (e->fd >= 0 && e->deadline > now)
			break;
		held_pop(h);
	}
}

static int64_t held_next_deadline(const struct held_fifo *h, int64_t dflt)
{
	return h->count > 0 && h->slot[h->head].deadline < dflt ? h->slot[h->head].deadline : dflt;
}

/* What an accepting listener does with a connection. */
enum accept_mode {
	A_FIN,		/* FIN at once, close at the client's EOF or after ACCEPTED_LINGER_MS */
	A_NO_READ,	/* keep it, never read it: its bytes stay in the kernel */
	A_WAIT_EOF,	/* keep it, close at the client's EOF: the client closes first */
};

/* A healthy server (and its variants): take everything at once, keep the queue empty. */
static void listen_accept(int lfd, int efd, struct held_fifo *h, enum accept_mode mode)
{
	for (int k = 0; k < 1024; k++) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		size_t i;

		if (cfd < 0) {
			/* Out of fds: free the oldest, or the readable listener would make us spin. */
			if ((errno == EMFILE || errno == ENFILE) && h->count > 0) {
				held_pop(h);
				continue;
			}
			return;
		}
		/*
		 * FIN now, close at the client's EOF: closing at once with the
		 * client's bytes unread would send a RST, and a healthy server
		 * must not look like an overflow.
		 */
		if (mode == A_FIN)
			shutdown(cfd, SHUT_WR);
		/* Full: let the oldest go; if its client has not sent yet, it will see a reset. */
		if (h->count == MAX_HELD)
			held_pop(h);
		i = (h->head + h->count) % MAX_HELD;
		ev.data.u64 = i;
		/* A never-reading server must not even learn that data came. */
		if (mode != A_NO_READ && epoll_ctl(efd, EPOLL_CTL_ADD, cfd, &ev) < 0) {
			close(cfd);
			continue;
		}
		/* Only the FIN mode lets go on its own; the others hold until EOF or the lifetime. */
		h->slot[i] = (struct held){
			.fd = cfd,
			.deadline = mode == A_FIN ? now_ms() + ACCEPTED_LINGER_MS : INT64_MAX,
		};
		h->count++;
	}
}

#define MAX_FORK 64

/*
 * Fork n children that share the listening socket, as a pre-fork server
 * does. They are forked before any epoll instance exists: an inherited epoll
 * fd would be the parent's own instance, not a copy. Return: true in a
 * child, false in the parent (pids[] then holds the children).
 */
static bool fork_children(long n, pid_t *pids)
{
	pid_t parent = getpid();

	/* Nothing buffered may be written twice. */
	fflush(NULL);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("tcpload: fork");
			exit(1);
		}
		if (pid > 0) {
			pids[i] = pid;
			continue;
		}
		/*
		 * A stray child would hold the port past the test: die with the
		 * parent, even a SIGKILLed one. SIGTERM is handled, so the child
		 * leaves its loop cleanly; the parent may already have gone
		 * before prctl, hence the getppid check.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(0);
		return true;
	}
	return false;
}

/* The parent's end: stop every child and reap it, so none outlives the run. */
static void reap_children(const pid_t *pids, long n)
{
	for (long i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	for (long i = 0; i < n; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
}

static int cmd_listen(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	struct epoll_event evs[256];
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct held_fifo *held;
	sigset_t waitmask;
	const char *ready = NULL;
	bool do_accept = false, reuseport = false, child = false;
	enum accept_mode mode = A_FIN;
	long defer = 0, lifetime = 120, nfork = 0, drain_ms = 0;
	pid_t kids[MAX_FORK];
	int64_t end, next_drain = INT64_MAX;
	int backlog, lfd, efd;

	if (argc < 4)
		die_usage("listen needs ADDR PORT BACKLOG", NULL);
	resolve(argv[1], argv[2], &ss, &sslen);
	backlog = (int)parse_long(argv[3], INT_MIN, INT_MAX, "bad BACKLOG");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--accept"))
			do_accept = true;
		else if (!strcmp(argv[i], "--reuseport"))
			reuseport = true;
		else if (!strcmp(argv[i], "--no-read") || !strcmp(argv[i], "--wait-eof")) {
			if (mode != A_FIN)
				die_usage("--no-read and --wait-eof exclude each other", NULL);
			mode = !strcmp(argv[i], "--no-read") ? A_NO_READ : A_WAIT_EOF;
		}
		else if (!strcmp(argv[i], "--defer-accept") && i + 1 < argc)
			defer = parse_long(argv[++i], 0, 3600, "bad --defer-accept");
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--lifetime") && i + 1 < argc)
			lifetime = parse_long(argv[++i], 1, 86400, "bad --lifetime");
		else if (!strcmp(argv[i], "--fork") && i + 1 < argc)
			nfork = parse_long(argv[++i], 1, MAX_FORK, "bad --fork");
		else if (!strcmp(argv[i], "--drain-every-ms") && i + 1 < argc)
			drain_ms = parse_long(argv[++i], 1, 60000, "bad --drain-every-ms");
		else
			die_usage("unknown listen option", argv[i]);
	}
	if (drain_ms && do_accept)
		die_usage("--drain-every-ms and --accept exclude each other", NULL);
	if (mode != A_FIN && !do_accept)
		die_usage("--no-read and --wait-eof need --accept", NULL);

	signals_setup(&waitmask);
	lfd = make_listener(&ss, sslen, backlog, (int)defer, reuseport);
	/* Whatever happens, never outlive the lifetime: a stray listener would skew later tests. */
	end = now_ms() + lifetime * 1000;
	child = fork_children(nfork, kids);
	held = calloc(1, sizeof(*held));
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (!held || efd < 0 || (do_accept && epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev) < 0)) {
		perror("tcpload: listen setup");
		if (!child)
			reap_children(kids, nfork);
		free(held);
		return 1;
	}
	/* The parent alone speaks for the group: one "ready PID", once every child exists. */
	if (!child)
		write_ready(ready);
	/* --drain-every-ms: a server that takes its queue in batches, so it fills and empties between them. */
	if (drain_ms)
		next_drain = now_ms() + drain_ms;
	while (!stop_signal && now_ms() < end) {
		int64_t wake = held_next_deadline(held, end);
		int left;

		if (now_ms() >= next_drain) {
			listen_accept(lfd, efd, held, mode);
			next_drain += drain_ms;
		}
		if (next_drain < wake)
			wake = next_drain;
		left = poll_timeout(wake);
		int n = epoll_pwait(efd, evs, (int)(ARRAY_SIZE(evs)), left, &waitmask);

		for (int i = 0; i < n; i++) {
			struct held *e;
			char buf[4096];
			ssize_t r;

			if (evs[i].data.u64 == UINT64_MAX) {
				listen_accept(lfd, efd, held, mode);
				continue;
			}
			e = &held->slot[evs[i].data.u64];
			if (e->fd < 0)
				continue;
			/* Drain what the client sent; its EOF or an error ends the connection. */
			r = recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				close(e->fd);
				e->fd = -1;
			}
		}
		held_expire(held, now_ms());
	}
	held_expire(held, INT64_MAX);
	close(efd);
	close(lfd);
	free(held);
	if (!child)
		reap_children(kids, nfork);
	return 0;
}

/* ---- clients ---- */

static enum outcome outcome_of_errno(int err)
{
	switch (err) {
	case ECONNRESET:
		return O_RESET;
	case EPIPE:
		/* A RST that finds us in CLOSE_WAIT (after the server's FIN) is reported as EPIPE (tcp_reset). */
		return O_RESET;
	case ETIMEDOUT:
		return O_TIMEOUT;
	case ECONNREFUSED:
		return O_REFUSED;
	default:
		return O_OTHER;
	}
}

static void client_finish_err(struct client *c, enum outcome o, int err)
{
	c->err = err;
	c->outcome = o;
	c->state = C_DONE;
	/* Only connected sockets stay open, to be held; the rest would only retransmit. */
	if (o != O_CONNECTED && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void client_finish(struct client *c, enum outcome o)
{
	client_finish_err(c, o, 0);
}

static void client_fail(struct client *c, int err)
{
	client_finish_err(c, outcome_of_errno(err), err);
}

static void client_start(struct client *c, const struct sockaddr_storage *ss, socklen_t len,
			 int timeout_ms)
{
	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		client_fail(c, errno);
		return;
	}
	c->deadline = now_ms() + timeout_ms;
	c->state = C_CONNECTING;
	if (from_len && bind(c->fd, (const struct sockaddr *)&from_ss, from_len) < 0) {
		client_fail(c, errno);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)ss, len) == 0)
		return;	/* poll reports it writable at once */
	if (errno != EINPROGRESS)
		client_fail(c, errno);
}

/* Data was sent; after the wait, an empty send queue means the server's kernel has it. */
static void client_wait_expired(struct client *c)
{
	int outq = 0;

	if (ioctl(c->fd, TIOCOUTQ, &outq) < 0)
		client_fail(c, errno);
	else
		client_finish(c, outq == 0 ? O_CONNECTED : O_TIMEOUT);
}

static void client_send(struct client *c, int timeout_ms)
{
	if (send(c->fd, PAYLOAD, sizeof(PAYLOAD) - 1, MSG_NOSIGNAL) < 0) {
		client_fail(c, errno);
		return;
	}
	c->state = C_WAITING;
	c->deadline = now_ms() + timeout_ms;
}

/* One filler buffer for --send-bytes: what the bytes say does not matter. */
static const char filler[65536];

/*
 * --send-bytes: write what the socket takes now. All written, or the
 * deadline passed with the peer's window shut (it does not read): either way
 * the connection was made, and it is held as it is.
 */
static void client_send_more(struct client *c, size_t want)
{
	while (c->sent < want) {
		size_t chunk = want - c->sent < sizeof(filler) ? want - c->sent : sizeof(filler);
		ssize_t w = send(c->fd, filler, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_fail(c, errno);
			return;
		}
		c->sent += (size_t)w;
	}
	client_finish(c, O_CONNECTED);
}

static void client_event(struct client *c, short revents, const struct copts *o)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t elen = sizeof(err);

		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err) {
			client_fail(c, err);
			return;
		}
		if (o->send_bytes > 0) {
			c->state = C_SENDING;
			c->deadline = now_ms() + o->timeout_ms;
			client_send_more(c, o->send_bytes);
			return;
		}
		if (!o->send_data) {
			client_finish(c, O_CONNECTED);
			return;
		}
		client_send(c, o->timeout_ms);
		return;
	}
	if (c->state == C_SENDING) {
		if (revents & (POLLERR | POLLHUP | POLLOUT))
			client_send_more(c, o->send_bytes);
		return;
	}
	if (c->state == C_WAITING && (revents & (POLLIN | POLLERR | POLLHUP))) {
		char buf[512];
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n >= 0)
			client_finish(c, O_CONNECTED);	/* a reply, or the server's EOF */
		else if (errno != EAGAIN && errno != EINTR)
			client_fail(c, errno);
	}
}

/* Drive clients in state C_CONNECTING/C_WAITING/C_SENDING until done, their deadlines, a signal or hard_end. */
static void clients_run(struct client *cs, size_t n, const struct sockaddr_storage *ss, socklen_t len,
			const struct copts *o, int interval_ms, size_t started, int64_t hard_end,
			const sigset_t *waitmask)
{
	struct pollfd *fds = calloc(n ? n : 1, sizeof(*fds));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	int64_t next_start = now_ms();

	if (!fds || !idx) {
		perror("tcpload: calloc");
		exit(1);
	}
	while (!stop_signal && now_ms() < hard_end) {
		int64_t wake = hard_end, now = now_ms();
		nfds_t nfds = 0;
		bool active = false;

		/* Start the clients that are due; interval 0 starts them all at once. */
		while (started < n && now >= next_start) {
			client_start(&cs[started++], ss, len, o->timeout_ms);
			next_start += interval_ms;
		}
		for (size_t i = 0; i < n; i++) {
			struct client *c = &cs[i];

			if (c->state != C_CONNECTING && c->state != C_WAITING && c->state != C_SENDING)
				continue;
			if (now >= c->deadline) {
				if (c->state == C_CONNECTING)
					client_finish(c, O_TIMEOUT);
				else if (c->state == C_SENDING)
					client_finish(c, O_CONNECTED);	/* the peer's window stayed shut */
				else
					client_wait_expired(c);
				continue;
			}
			active = true;
			if (c->deadline < wake)
				wake = c->deadline;
			fds[nfds] = (struct pollfd){
				.fd = c->fd,
				.events = c->state == C_WAITING ? POLLIN : POLLOUT,
			};
			idx[nfds++] = i;
		}
		if (started < n && next_start < wake)
			wake = next_start;
		if (!active && started == n)
			break;
		if (wait_events(fds, nfds, wake, waitmask) <= 0)
			continue;
		for (nfds_t k = 0; k < nfds; k++)
			if (fds[k].revents)
				client_event(&cs[idx[k]], fds[k].revents, o);
	}
	free(fds);
	free(idx);
}

/* A RST that came after the handshake completed is still a reset. */
static void clients_sweep(struct client *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = 0;
		socklen_t elen = sizeof(err);

		if (cs[i].state != C_DONE || cs[i].outcome != O_CONNECTED || cs[i].fd < 0)
			continue;
		if (getsockopt(cs[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err)
			client_fail(&cs[i], err);
	}
}

static void print_summary(const struct client *cs, size_t n)
{
	unsigned long count[O_OTHER + 1] = { 0 }, addrnotavail = 0;

	for (size_t i = 0; i < n; i++) {
		count[cs[i].outcome == O_NONE ? O_OTHER : cs[i].outcome]++;
		if (cs[i].outcome == O_OTHER && cs[i].err == EADDRNOTAVAIL)
			addrnotavail++;
	}
	/* Say what "other" was (EADDRNOTAVAIL: ephemeral ports ran out), once per errno. */
	for (size_t i = 0; i < n; i++) {
		unsigned long same = 0;
		bool seen = false;

		if (cs[i].outcome != O_OTHER || !cs[i].err)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (cs[k].outcome != O_OTHER || cs[k].err != cs[i].err)
				continue;
			if (k < i) {
				seen = true;
				break;
			}
			same++;
		}
		if (!seen)
			fprintf(stderr, "tcpload: other: %lu x %s\n", same, strerror(cs[i].err));
	}
	printf("connected=%lu reset=%lu timeout=%lu refused=%lu other=%lu addrnotavail=%lu\n",
	       count[O_CONNECTED], count[O_RESET], count[O_TIMEOUT], count[O_REFUSED],
	       count[O_OTHER], addrnotavail);
	fflush(stdout);
}

static void hold_and_close(struct client *cs, size_t n, long hold_ms, const sigset_t *waitmask)
{
	int64_t end = now_ms() + hold_ms;

	while (!stop_signal && now_ms() < end)
		wait_events(NULL, 0, end, waitmask);
	for (size_t i = 0; i < n; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
}

static int cmd_connect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct client *cs;
	sigset_t waitmask;
	struct copts o = { .timeout_ms = 1000 };
	long count, hold_ms = 0, interval_ms = 0;
	int64_t hard_end;

	if (argc < 4)
		die_usage("connect needs ADDR PORT COUNT", NULL);
	resolve(argv[1], argv[2], &ss, &sslen);
	count = parse_long(argv[3], 1, MAX_CLIENTS, "bad COUNT");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--send"))
			o.send_data = true;
		else if (!strcmp(argv[i], "--send-bytes") && i + 1 < argc)
			o.send_bytes = (size_t)parse_long(argv[++i], 1, 1L << 30, "bad --send-bytes");
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			o.timeout_ms = (int)parse_long(argv[++i], 1, 600000, "bad --timeout-ms");
		else if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc)
			hold_ms = parse_long(argv[++i], 0, 600000, "bad --hold-ms");
		else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = parse_long(argv[++i], 0, 60000, "bad --interval-ms");
		else if (!strcmp(argv[i], "--from") && i + 1 < argc)
			resolve(argv[++i], "0", &from_ss, &from_len);
		else
			die_usage("unknown connect option", argv[i]);
	}
	if (o.send_data && o.send_bytes > 0)
		die_usage("--send and --send-bytes exclude each other", NULL);

	signals_setup(&waitmask);
	cs = calloc((size_t)count, sizeof(*cs));
	if (!cs) {
		perror("tcpload: calloc");
		return 1;
	}
	for (long i = 0; i < count; i++)
		cs[i].fd = -1;
	/* Connect, then the reply wait or the sending, each at most timeout_ms; plus slack. No way to linger. */
	hard_end = now_ms() + count * interval_ms + 2 * (int64_t)o.timeout_ms + 5000;
	clients_run(cs, (size_t)count, &ss, sslen, &o, (int)interval_ms, 0, hard_end, &waitmask);
	clients_sweep(cs, (size_t)count);
	if (o.send_bytes > 0) {
		size_t sent = 0;

		for (long i = 0; i < count; i++)
			sent += cs[i].sent;
		fprintf(stderr, "tcpload: wrote %zu of %zu bytes\n", sent, o.send_bytes * (size_t)count);
	}
	print_summary(cs, (size_t)count);
	hold_and_close(cs, (size_t)count, hold_ms, &waitmask);
	free(cs);
	return 0;
}

/* ---- defer-storm ---- */

/*
 * Make clients really get ECONNRESET from an accept-queue overflow.
 *
 * A plain connect storm does not: when the accept queue is full, the SYN
 * itself is dropped (tcp_conn_request: sk_acceptq_is_full), so the client
 * never completes a handshake and times out, whatever tcp_abort_on_overflow
 * says. The RST of tcp_abort_on_overflow = 1 is sent only from
 * tcp_check_req (net/ipv4/tcp_minisocks.c), when a request socket's ACK
 * arrives and syn_recv_sock (tcp_v4_syn_recv_sock) finds the accept queue
 * full. So requests must sit in SYN_RECV while the accept queue fills, then
 * complete. TCP_DEFER_ACCEPT makes them sit: tcp_check_req drops a bare
 * ACK (TCPDeferAcceptDrop) and keeps the request; the first segment with
 * data creates the child. The client side is ESTABLISHED all along.
 *
 * With backlog B the accept queue is full at B + 1 (sk_acceptq_is_full is
 * "> B"), and a SYN is taken only while the SYN queue holds at most B
 * requests (inet_csk_reqsk_queue_is_full is "> B" since 2025, ">= B" before)
 * and the accept queue is not full. Hence:
 *   1. connect B + 1 clients: B + 1 deferred requests;
 *   2. B + 1 times: send data on one deferred client (it moves to the
 *      accept queue; we wait until the listener's tcpi_unacked shows it),
 *      then, while the accept queue is not full yet, connect one more
 *      client (the SYN queue has room again);
 *   3. the accept queue now holds B + 1 (full) and B requests are deferred:
 *      send data on each. Every one overflows in tcp_v4_syn_recv_sock
 *      (ListenOverflows, ListenDrops, the listener's sk_drops) and, with
 *      tcp_abort_on_overflow = 1, tcp_check_req answers RST
 *      (EmbryonicRsts): the client's read gets ECONNRESET. With 0 the data
 *      segment is dropped silently: our bytes stay unacknowledged (timeout).
 * Expected: connected = B + 1, and reset = B (abort 1) or timeout = B (abort 0).
 * The SYNs are never dropped, so syncookies do not come into play. On a
 * kernel with ">=" step 1 gets one client fewer deferred; the run still
 * ends in resets, one fewer, and a warning says the queue was not as planned.
 */

/* The listener's accept queue length: tcp_info aliases it as tcpi_unacked. */
static int acceptq_len(int lfd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return (int)ti.tcpi_unacked;
}

/* Connect one client and wait for the client side of the handshake. Return: true if done. */
static bool storm_connect(struct client *c, const struct sockaddr_storage *ss, socklen_t len,
			  int timeout_ms)
{
	struct pollfd p;

	client_start(c, ss, len, timeout_ms);
	while (c->state == C_CONNECTING && !stop_signal) {
		p = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		if (now_ms() >= c->deadline) {
			client_finish(c, O_TIMEOUT);
			break;
		}
		if (poll(&p, 1, poll_timeout(c->deadline)) > 0)
			client_event(c, p.revents, &(struct copts){ .timeout_ms = timeout_ms });
	}
	if (c->state == C_DONE && c->outcome == O_CONNECTED) {
		/* client_event finished it as connected without data: it is still in play. */
		c->state = C_IDLE;
		c->outcome = O_NONE;
		return true;
	}
	return false;
}

/* Wait until the listener's accept queue reaches want (our loopback data may still be in flight). */
static bool storm_wait_acceptq(int lfd, int want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int q;

	while ((q = acceptq_len(lfd)) < want && now_ms() < end && !stop_signal)
		sleep_ms(2);
	return q >= want;
}

static int cmd_defer_storm(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct client *cs;
	sigset_t waitmask;
	const char *ready = NULL;
	long backlog, timeout_ms = 1000, hold_ms = 0, defer = 30;
	size_t n = 0, ndeferred = 0, *deferred, total, first = 0;
	int64_t hard_end;
	int lfd;

	if (argc < 4)
		die_usage("defer-storm needs ADDR PORT BACKLOG", NULL);
	resolve(argv[1], argv[2], &ss, &sslen);
	backlog = parse_long(argv[3], 1, 4096, "bad BACKLOG");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			timeout_ms = parse_long(argv[++i], 1, 600000, "bad --timeout-ms");
		else if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc)
			hold_ms = parse_long(argv[++i], 0, 600000, "bad --hold-ms");
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--defer-accept") && i + 1 < argc)
			defer = parse_long(argv[++i], 1, 3600, "bad --defer-accept");
		else if (!strcmp(argv[i], "--from") && i + 1 < argc)
			resolve(argv[++i], "0", &from_ss, &from_len);
		else
			die_usage("unknown defer-storm option", argv[i]);
	}

	signals_setup(&waitmask);
	/* Deferral must outlast the run, or the kernel would create children on its own. */
	lfd = make_listener(&ss, sslen, (int)backlog, (int)defer, false);
	total = 2 * (size_t)backlog + 1;
	cs = calloc(total, sizeof(*cs));
	deferred = calloc(total, sizeof(*deferred));
	if (!cs || !deferred) {
		perror("tcpload: calloc");
		return 1;
	}
	for (size_t i = 0; i < total; i++)
		cs[i].fd = -1;

	/* 1. B + 1 requests parked in SYN_RECV. */
	for (long k = 0; k <= backlog; k++, n++)
		if (storm_connect(&cs[n], &ss, sslen, (int)timeout_ms))
			deferred[ndeferred++] = n;
	/* 2. Move one to the accept queue, refill the SYN queue, until the accept queue is full. */
	for (long i = 1; i <= backlog + 1 && first < ndeferred && !stop_signal; i++) {
		struct client *c = &cs[deferred[first++]];

		client_send(c, (int)timeout_ms);
		if (c->state == C_WAITING && !storm_wait_acceptq(lfd, (int)i, (int)timeout_ms))
			fprintf(stderr, "tcpload: defer-storm: accept queue %d, expected %ld\n",
				acceptq_len(lfd), i);
		if (i <= backlog) {
			if (storm_connect(&cs[n], &ss, sslen, (int)timeout_ms))
				deferred[ndeferred++] = n;
			n++;
		}
	}
	if (acceptq_len(lfd) != backlog + 1 || ndeferred - first != (size_t)backlog)
		fprintf(stderr, "tcpload: defer-storm: accept queue %d (planned %ld), %zu deferred (planned %ld)\n",
			acceptq_len(lfd), backlog + 1, ndeferred - first, backlog);
	/* 3. Every remaining deferred client now overflows the full accept queue. */
	for (; first < ndeferred; first++)
		client_send(&cs[deferred[first]], (int)timeout_ms);

	hard_end = now_ms() + timeout_ms + 5000;
	clients_run(cs, n, &ss, sslen, &(struct copts){ .send_data = true, .timeout_ms = (int)timeout_ms },
		    0, n, hard_end, &waitmask);
	clients_sweep(cs, n);
	print_summary(cs, n);
	if (ready)
		write_ready(ready);
	hold_and_close(cs, n, hold_ms, &waitmask);
	close(lfd);
	free(cs);
	free(deferred);
	return 0;
}

/* ---- frames ---- */

/* IEEE 802 "local experimental" EtherType: no kernel protocol handler claims it. */
#define UNCLAIMED_ETHERTYPE 0x88B5

static int cmd_frames(int argc, char **argv)
{
	unsigned char frame[ETH_ZLEN] = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	struct ether_header *eh = (struct ether_header *)frame;
	long count, interval_ms = 0, sent = 0;
	unsigned ifindex;
	int fd;

	if (argc < 3)
		die_usage("frames needs IFACE COUNT", NULL);
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		die_usage("no such interface", argv[1]);
	count = parse_long(argv[2], 1, 1000000, "bad COUNT");
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = parse_long(argv[++i], 0, 60000, "bad --interval-ms");
		else
			die_usage("unknown frames option", argv[i]);
	}
	/*
	 * Protocol 0: a send-only packet socket. One bound to ETH_P_ALL would
	 * itself be a handler for what comes back and hide the drops.
	 */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tcpload: packet socket");
		return 1;
	}
	memset(eh->ether_dhost, 0xff, ETH_ALEN);
	eh->ether_shost[0] = 0x02;	/* locally administered, unicast */
	eh->ether_shost[5] = 0x01;
	eh->ether_type = htons(UNCLAIMED_ETHERTYPE);
	sll.sll_ifindex = (int)ifindex;
	sll.sll_protocol = htons(UNCLAIMED_ETHERTYPE);
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	for (long i = 0; i < count && !stop_signal; i++) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			perror("tcpload: sendto");
			break;
		}
		sent++;
		if (interval_ms > 0)
			sleep_ms(interval_ms);
	}
	close(fd);
	printf("sent=%ld\n", sent);
	return sent == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	/* Thousands of sockets are the point: use the whole hard fd limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "connect"))
		return cmd_connect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "defer-storm"))
		return cmd_defer_storm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "frames"))
		return cmd_frames(argc - 1, argv + 1);
	die_usage("unknown command", argv[1]);
	return 2;
}
