/* detect.c: runs the real backlogd and measures how long it takes from a listener's first dropped connection to the finding, in ms and in ticks, plus the daemon's RSS and CPU per tick; with --quiet, its whole-process CPU on a quiet host and how it reports a listener restarted with a gap. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "scrape.h"

#define MAX_TRIALS 32
/* Connects per burst: the listener has backlog 2 and holds 3; the rest are dropped. */
#define BURST 10
/* The findings are polled this often, as a person's script would. */
#define POLL_MS 10

struct opts {
	const char *backlogd;
	const char *backlogctl;
	const char *work;
	const char *interval;     /* -i for the daemon, seconds */
	double interval_ms;
	unsigned trials;
	unsigned port;
	unsigned settle_ticks;    /* quiet ticks measured for CPU per tick */
	unsigned timeout_s;       /* per finding */
	unsigned scrapes;         /* of each kind, for what a scrape costs; 0: none */
	const char *metrics_addr; /* --metrics: the daemon serves HTTP there too; NULL: not */
	unsigned metrics_port;
	unsigned quiet_s;         /* --quiet SECS: only the whole-process CPU of a quiet host */
	unsigned gap_trials;      /* with --quiet: listener restarts asked of the scenario */
	pid_t gap_pid;            /* the scenario, which restarts a listener on SIGUSR2 */
	const char *gap_marker;   /* where the scenario tells each restart's times */
};

/* Scrapes kept for the medians; a try that a tick overlapped is retried. */
#define MAX_SCRAPES 64

enum scrape_kind { SCRAPE_CTL, SCRAPE_HTTP, SCRAPE_REFERENCE };

struct trial {
	double ms;
	unsigned ticks;
	bool found;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "detect: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void diex(const char *what)
{
	fprintf(stderr, "detect: %s\n", what);
	exit(1);
}

static pid_t daemon_pid;

static void stop_daemon(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		while (waitpid(daemon_pid, NULL, 0) < 0 && errno == EINTR)
			;
		daemon_pid = 0;
	}
}

/*
 * backlogd tells systemd STATUS= at the end of every tick (sd_notify). With
 * NOTIFY_SOCKET pointing here, each datagram is one finished tick: ticks
 * are counted exactly, without asking the daemon. Return: the socket.
 */
static int notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		diex("notify socket path too long");
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("notify socket");
	return fd;
}

/* Read every datagram waiting, up to wait_ms for the first. Return: STATUS= datagrams read; *ready set on READY=1. */
static unsigned read_notify(int fd, int wait_ms, bool *ready)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	unsigned n = 0;
	ssize_t len;

	if (wait_ms > 0 && poll(&p, 1, wait_ms) <= 0)
		return 0;
	while ((len = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[len] = '\0';
		/* One datagram may carry several NAME=VALUE lines. */
		if (strstr(buf, "READY=1") && ready)
			*ready = true;
		if (!strncmp(buf, "STATUS=", 7) || strstr(buf, "\nSTATUS="))
			n++;
	}
	return n;
}

/* Wait for n more ticks. Return: false after timeout_ms. */
static bool wait_ticks(int fd, unsigned n, int64_t timeout_ms)
{
	int64_t end = mono_ns() + timeout_ms * 1000000;
	unsigned seen = 0;

	while (seen < n) {
		int64_t left = (end - mono_ns()) / 1000000;

		if (left <= 0)
			return false;
		seen += read_notify(fd, (int)(left > 1000 ? 1000 : left), NULL);
		if (daemon_pid > 0 && waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = 0;
			diex("backlogd exited");
		}
	}
	return true;
}

static void start_daemon(const struct opts *o, const char *notify, const char *sock)
{
	char log[4096];
	int fd;

	snprintf(log, sizeof(log), "%s/backlogd.log", o->work);
	daemon_pid = fork();
	if (daemon_pid < 0)
		die("fork");
	if (daemon_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setenv("NOTIFY_SOCKET", notify, 1);
		/* -N: this namespace only; -f /dev/null: every default, as a fresh install has. */
		if (o->metrics_addr) {
			char listen[64];

			snprintf(listen, sizeof(listen), "%s:%u", o->metrics_addr, o->metrics_port);
			execl(o->backlogd, o->backlogd, "-N", "-i", o->interval, "-S", sock, "-f",
			      "/dev/null", "-m", listen, (char *)NULL);
		} else {
			execl(o->backlogd, o->backlogd, "-N", "-i", o->interval, "-S", sock, "-f",
			      "/dev/null", (char *)NULL);
		}
		_exit(127);
	}
}

/* A listener on 127.0.0.1:port with backlog 2 that never accepts. */
static int burst_listener(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 2) < 0)
		die("burst listener");
	return fd;
}

/*
 * The listener's drop counter (SK_MEMINFO_DROPS), asked of the kernel for
 * this one port: the moment it leaves 0 is the first dropped connection.
 * Return: drops, or -1.
 */
static long listener_drops(int nl, unsigned port)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	static char buf[65536];
	long drops = -1;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = 1U << TCP_LISTEN;
	msg.req.idiag_ext = 1U << (INET_DIAG_SKMEMINFO - 1);
	msg.req.id.idiag_sport = htons((uint16_t)port);
	if (send(nl, &msg, sizeof(msg), 0) < 0)
		return -1;
	for (;;) {
		const struct nlmsghdr *h;
		int rem;

		n = recv(nl, buf, sizeof(buf), 0);
		if (n <= 0)
			return -1;
		h = (const struct nlmsghdr *)buf;
		rem = (int)n;
		for (; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			const struct rtattr *a;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				return drops;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || ntohs(m->id.idiag_sport) != port)
				continue;
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				uint32_t v;

				if (a->rta_type != INET_DIAG_SKMEMINFO ||
				    RTA_PAYLOAD(a) < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
					continue;
				memcpy(&v, (const char *)RTA_DATA(a) + SK_MEMINFO_DROPS * sizeof(uint32_t),
				       sizeof(v));
				drops = v;
			}
		}
	}
}

/* Does any object in the document name this listener as an active finding? */
static bool has_finding(const json_t *j, const char *listener)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_finding(v, listener))
				return true;
		return false;
	}
	if (!json_is_object(j))
		return false;
	v = json_object_get(j, "listener");
	if (json_is_string(v) && !strcmp(json_string_value(v), listener)) {
		const json_t *st = json_object_get(j, "state");

		if (!st || (json_is_string(st) && !strcmp(json_string_value(st), "active")))
			if (json_object_get(j, "cause"))
				return true;
	}
	json_object_foreach((json_t *)j, key, v)
		if (has_finding(v, listener))
			return true;
	return false;
}

/* One `backlogctl --json findings`, as a person's script would run it. Return: the document, or NULL. */
static json_t *ctl_findings(const struct opts *o, const char *sock)
{
	json_error_t err;
	json_t *doc;
	int p[2], st;
	pid_t pid;
	FILE *f;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (dup2(p[1], 1) < 0 || (null >= 0 && dup2(null, 2) < 0))
			_exit(127);
		execl(o->backlogctl, o->backlogctl, "-S", sock, "--json", "findings", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f)
		die("fdopen");
	doc = json_loadf(f, 0, &err);
	fclose(f);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return doc;
}

static bool ctl_has_finding(const struct opts *o, const char *sock, const char *listener)
{
	json_t *doc = ctl_findings(o, sock);
	bool found = doc && has_finding(doc, listener);

	json_decref(doc);
	return found;
}

static void run_trial(const struct opts *o, int nfd, int nl, const char *sock, unsigned trial,
		      struct trial *t, int *lfd, int *cfds)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned port = o->port + trial;
	char name[64];
	int64_t t_drop = 0, deadline;
	unsigned i, ticks = 0;

	snprintf(name, sizeof(name), "127.0.0.1:%u", port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = htons((uint16_t)port);
	*lfd = burst_listener(port);
	/* Two finished ticks: one that began after the listener existed, its owner looked up. */
	if (!wait_ticks(nfd, 2, 60000))
		diex("the daemon stopped ticking");
	/*
	 * A tick has just ended. Drops come at any moment of a real tick, so
	 * each trial waits a different part of the interval first: trial i of
	 * n at (i + 0.5) / n of it. Without this every burst would land just
	 * after a tick, the worst case, every time.
	 */
	usleep((useconds_t)(o->interval_ms * 1000.0 * (trial + 0.5) / o->trials));
	/* Every tick finished before the drop is read now: later datagrams are ticks after it. */
	read_notify(nfd, 0, NULL);
	for (i = 0; i < BURST; i++) {
		cfds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (cfds[i] < 0)
			die("socket");
		(void)connect(cfds[i], (struct sockaddr *)&dst, sizeof(dst));
		/* On loopback the SYN is handled within connect(): ask at once. */
		if (!t_drop && listener_drops(nl, port) > 0)
			t_drop = mono_ns();
	}
	/* SYNs are handled in softirq: if not seen yet, the first retransmission will be. */
	deadline = mono_ns() + 3000000000LL;
	while (!t_drop && mono_ns() < deadline) {
		usleep(1000);
		if (listener_drops(nl, port) > 0)
			t_drop = mono_ns();
	}
	if (!t_drop)
		diex("the burst caused no drop");
	deadline = t_drop + (int64_t)o->timeout_s * 1000000000LL;
	t->found = false;
	while (mono_ns() < deadline) {
		ticks += read_notify(nfd, 0, NULL);
		if (ctl_has_finding(o, sock, name)) {
			int64_t t_found = mono_ns();

			/* The daemon sends STATUS before it answers a client: that tick is counted. */
			ticks += read_notify(nfd, 0, NULL);
			t->found = true;
			t->ms = (double)(t_found - t_drop) / 1e6;
			t->ticks = ticks;
			return;
		}
		usleep(POLL_MS * 1000);
	}
}

/* "VmRSS:	  1234 kB" from /proc/PID/status. Return: KiB, or -1. */
static long proc_status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Nanoseconds the process has run on a CPU: the first field of every
 * thread's /proc/PID/task/TID/schedstat, summed (the process's own file is
 * its main thread only, and the daemon ticks namespaces on a helper thread).
 */
static long long proc_cpu_ns(pid_t pid)
{
	char path[64], file[600];
	long long sum = 0, ns;
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/schedstat", path, de->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		if (fscanf(f, "%lld", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static int dbl_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

static int scrape_once(const struct opts *o, const char *sock, enum scrape_kind kind,
		       struct scrape_cost *c)
{
	switch (kind) {
	case SCRAPE_CTL: return scrape_ctl(o->backlogctl, sock, c);
	case SCRAPE_HTTP: return scrape_http(o->metrics_addr, o->metrics_port, c);
	case SCRAPE_REFERENCE: return scrape_reference(c);
	}
	return -1;
}

/*
 * What a scrape costs, as the user pays for it: the daemon's CPU (all its
 * threads) while the scrape runs, less its CPU over an equal window just
 * after with no scrape (its fast samples keep running: the 3 overflowing
 * listeners are hot), plus the client's own CPU. Each try begins a quarter
 * of an interval after a tick ends; a try that a tick overlapped is
 * retried, so no tick's work is counted as the scrape's. The reference is
 * `ss -ltnm; nstat -az`, timed the same way in the same namespace.
 */
static void measure_scrapes(const struct opts *o, int nfd, const char *sock, enum scrape_kind kind,
			    const char *key)
{
	double daemon_us[MAX_SCRAPES], client_us[MAX_SCRAPES], wall_ms[MAX_SCRAPES];
	unsigned n = 0, tries = 0, want = o->scrapes < MAX_SCRAPES ? o->scrapes : MAX_SCRAPES;
	struct scrape_cost c = { 0 };

	while (n < want && tries++ < 4 * want) {
		long long cpu0, cpu1, cpu2;
		int64_t w0, w1;

		if (!wait_ticks(nfd, 1, 60000))
			diex("the daemon stopped ticking");
		usleep((useconds_t)(o->interval_ms * 250.0));
		cpu0 = proc_cpu_ns(daemon_pid);
		w0 = mono_ns();
		if (scrape_once(o, sock, kind, &c) < 0)
			diex("a scrape failed");
		w1 = mono_ns();
		cpu1 = proc_cpu_ns(daemon_pid);
		usleep((useconds_t)((w1 - w0) / 1000));
		cpu2 = proc_cpu_ns(daemon_pid);
		if (read_notify(nfd, 0, NULL) > 0)
			continue;  /* a tick ran meanwhile: its work is not the scrape's */
		daemon_us[n] = (double)((cpu1 - cpu0) - (cpu2 - cpu1)) / 1e3;
		if (daemon_us[n] < 0)
			daemon_us[n] = 0;
		client_us[n] = (double)c.client_cpu_ns / 1e3;
		wall_ms[n] = (double)(w1 - w0) / 1e6;
		n++;
	}
	printf("%s_n=%u\n", key, n);
	if (!n)
		return;
	qsort(daemon_us, n, sizeof(double), dbl_cmp);
	qsort(client_us, n, sizeof(double), dbl_cmp);
	qsort(wall_ms, n, sizeof(double), dbl_cmp);
	printf("%s_daemon_cpu_us_med=%.0f\n%s_daemon_cpu_us_max=%.0f\n", key, daemon_us[n / 2], key,
	       daemon_us[n - 1]);
	printf("%s_client_cpu_us_med=%.0f\n", key, client_us[n / 2]);
	printf("%s_wall_ms_med=%.2f\n%s_wall_ms_max=%.2f\n", key, wall_ms[n / 2], key, wall_ms[n - 1]);
	if (kind != SCRAPE_REFERENCE)
		printf("%s_bytes=%zu\n%s_series=%zu\n", key, c.bytes, key, c.series);
}

/*
 * What the daemon costs a quiet host as the user pays for it: the CPU of
 * every thread of the process per second of wall time, over quiet_s
 * seconds in which nothing asks it anything (no control client, no
 * scrape), so every tick, fast sample, deep run and sysctl read counts.
 * The by-hand reference is timed afterwards in the same namespace.
 */
/* Ticks from the daemon's start to the quiet measurement: past the port-range hint's first look (DEEP_PORTS_TICKS). */
#define QUIET_SETTLE_TICKS 12

static void measure_quiet(const struct opts *o, int nfd)
{
	double ref_us[MAX_SCRAPES];
	unsigned n = o->scrapes ? (o->scrapes < MAX_SCRAPES ? o->scrapes : MAX_SCRAPES) : 5;
	long long cpu0, cpu1;
	int64_t w0, w1;
	unsigned ticks;

	/*
	 * The start is not the quiet host: the first ticks look up every
	 * owner, and the port-range hint's first look (its 10th tick) may walk
	 * every connection once, to bound what the ticks after it need not
	 * walk. Their cost is reported apart, from the daemon's start.
	 */
	if (!wait_ticks(nfd, QUIET_SETTLE_TICKS, 120000))
		diex("the daemon stopped ticking");
	cpu0 = proc_cpu_ns(daemon_pid);
	printf("quiet_startup_ticks=%d\nquiet_startup_cpu_us=%.0f\n", QUIET_SETTLE_TICKS, (double)cpu0 / 1e3);
	w0 = mono_ns();
	read_notify(nfd, 0, NULL);
	ticks = 0;
	while (mono_ns() - w0 < (int64_t)o->quiet_s * 1000000000LL) {
		ticks += read_notify(nfd, 200, NULL);
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = 0;
			diex("backlogd exited");
		}
	}
	cpu1 = proc_cpu_ns(daemon_pid);
	w1 = mono_ns();
	printf("quiet_seconds=%.1f\nquiet_ticks=%u\n", (double)(w1 - w0) / 1e9, ticks);
	printf("quiet_cpu_us_per_s=%.0f\n", (double)(cpu1 - cpu0) / 1e3 / ((double)(w1 - w0) / 1e9));
	for (unsigned i = 0; i < n; i++) {
		struct scrape_cost c;

		if (scrape_reference(&c) < 0)
			diex("ss or nstat failed");
		ref_us[i] = (double)c.client_cpu_ns / 1e3;
	}
	qsort(ref_us, n, sizeof(double), dbl_cmp);
	printf("quiet_ref_cpu_us_med=%.0f\n", ref_us[n / 2]);
	printf("quiet_daemon_rss_kib=%ld\n", proc_status_kib(daemon_pid, "VmRSS"));
}

/* What bench/scenario wrote of its latest listener restart (CLOCK_MONOTONIC ns). */
struct gap_marker {
	int seq;
	unsigned port;
	bool back;                /* listening again */
	int64_t closed_ns, reopened_ns;
};

struct gap_trial {
	unsigned port;
	bool open_seen;           /* a listener-gap finding while the address had no listener */
	bool found;               /* the finding of the closed gap, after the listener came back */
	double open_after_ms;     /* from the close to the open gap's finding */
	double true_ms;           /* from the close to the new socket listening */
	double reported_ms;       /* the finding's gap_ms */
	double latency_ms;        /* from the new socket listening to the closed gap's finding */
};

static bool read_gap_marker(const char *file, struct gap_marker *m)
{
	long long c, r;
	char state[16];
	FILE *f = fopen(file, "r");
	int n;

	if (!f)
		return false;
	n = fscanf(f, "gap seq=%d port=%u state=%15s closed_ns=%lld reopened_ns=%lld", &m->seq,
		   &m->port, state, &c, &r);
	fclose(f);
	if (n != 5)
		return false;
	m->back = !strcmp(state, "open");
	m->closed_ns = c;
	m->reopened_ns = r;
	return true;
}

/* The listener-gap finding of this listener anywhere in the document, or NULL. */
static const json_t *gap_finding(const json_t *j, const char *listener)
{
	const json_t *v, *found;
	const char *key;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if ((found = gap_finding(v, listener)) != NULL)
				return found;
		return NULL;
	}
	if (!json_is_object(j))
		return NULL;
	v = json_object_get(j, "cause");
	if (json_is_string(v) && !strcmp(json_string_value(v), "listener-gap")) {
		v = json_object_get(j, "listener");
		if (json_is_string(v) && !strcmp(json_string_value(v), listener))
			return j;
	}
	json_object_foreach((json_t *)j, key, v)
		if ((found = gap_finding(v, listener)) != NULL)
			return found;
	return NULL;
}

/* A number of the finding's evidence, or -1. */
static long long evidence_int(const json_t *f, const char *key)
{
	const json_t *v = json_object_get(json_object_get(f, "evidence"), key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/*
 * One listener restart on the big quiet host: a tick ends, then, (i + 0.5)/n
 * of an interval later, SIGUSR2 has the scenario close one of its listeners
 * and listen on the same address:port again gap_ms later, in the same
 * process. Meanwhile `backlogctl --json findings` is polled every 10 ms: the
 * open gap's finding (evidence absent 1) times how soon a vanished listener
 * is seen; the closed gap's (absent 0) gives the reported length and how
 * long after the return it came.
 */
static void run_gap_trial(const struct opts *o, int nfd, const char *sock, unsigned trial,
			  int seq, struct gap_trial *g)
{
	struct gap_marker m = { .seq = -1 };
	int64_t deadline;
	char name[64];

	memset(g, 0, sizeof(*g));
	if (!wait_ticks(nfd, 1, 60000))
		diex("the daemon stopped ticking");
	usleep((useconds_t)(o->interval_ms * 1000.0 * (trial + 0.5) / o->gap_trials));
	if (kill(o->gap_pid, SIGUSR2) < 0)
		die("SIGUSR2 to the scenario");
	/* The scenario serves the signal within 100 ms, and tells the close first. */
	deadline = mono_ns() + 5000000000LL;
	while (!read_gap_marker(o->gap_marker, &m) || m.seq != seq) {
		if (mono_ns() > deadline)
			diex("the scenario did not restart its listener");
		usleep(1000);
	}
	g->port = m.port;
	snprintf(name, sizeof(name), "127.0.0.1:%u", m.port);
	for (;;) {
		struct gap_marker now_m;
		json_t *doc;
		const json_t *f;
		int64_t now;

		if (!m.back && read_gap_marker(o->gap_marker, &now_m) && now_m.seq == seq)
			m = now_m;
		doc = ctl_findings(o, sock);
		now = mono_ns();
		f = doc ? gap_finding(doc, name) : NULL;
		if (f && evidence_int(f, "absent") == 1 && !g->open_seen) {
			g->open_seen = true;
			g->open_after_ms = (double)(now - m.closed_ns) / 1e6;
		}
		/* m.back was read before the findings were asked: this finding came after the return. */
		if (f && evidence_int(f, "absent") == 0 && m.back) {
			g->found = true;
			g->true_ms = (double)(m.reopened_ns - m.closed_ns) / 1e6;
			g->reported_ms = (double)evidence_int(f, "gap_ms");
			g->latency_ms = (double)(now - m.reopened_ns) / 1e6;
		}
		json_decref(doc);
		if (g->found)
			return;
		if (m.back ? now > m.reopened_ns + (int64_t)o->timeout_s * 1000000000LL :
			     now > m.closed_ns + 60000000000LL)
			return;
		usleep(POLL_MS * 1000);
	}
}

/* Medians and worst cases of the gap trials that found their finding, as key=value lines. */
static void print_gap_summary(const struct gap_trial *g, unsigned n)
{
	double tr[MAX_TRIALS], rep[MAX_TRIALS], err[MAX_TRIALS], lat[MAX_TRIALS], op[MAX_TRIALS];
	unsigned i, found = 0, open = 0;

	for (i = 0; i < n; i++) {
		if (g[i].open_seen)
			op[open++] = g[i].open_after_ms;
		if (!g[i].found)
			continue;
		tr[found] = g[i].true_ms;
		rep[found] = g[i].reported_ms;
		err[found] = g[i].reported_ms - g[i].true_ms;
		lat[found] = g[i].latency_ms;
		found++;
	}
	printf("gap_trials=%u\ngap_found=%u\ngap_open_seen=%u\n", n, found, open);
	if (open) {
		qsort(op, open, sizeof(double), dbl_cmp);
		printf("gap_open_after_ms_med=%.0f\ngap_open_after_ms_max=%.0f\n", op[open / 2],
		       op[open - 1]);
	}
	if (!found)
		return;
	qsort(tr, found, sizeof(double), dbl_cmp);
	qsort(rep, found, sizeof(double), dbl_cmp);
	qsort(err, found, sizeof(double), dbl_cmp);
	qsort(lat, found, sizeof(double), dbl_cmp);
	printf("gap_true_ms_med=%.0f\n", tr[found / 2]);
	printf("gap_reported_ms_med=%.0f\ngap_reported_ms_min=%.0f\ngap_reported_ms_max=%.0f\n",
	       rep[found / 2], rep[0], rep[found - 1]);
	printf("gap_err_ms_min=%.0f\ngap_err_ms_max=%.0f\n", err[0], err[found - 1]);
	printf("gap_latency_ms_med=%.0f\ngap_latency_ms_max=%.0f\n", lat[found / 2], lat[found - 1]);
}

static void measure_gaps(const struct opts *o, int nfd, const char *sock)
{
	struct gap_trial g[MAX_TRIALS];
	struct gap_marker m = { .seq = -1 };
	unsigned i;

	/* The scenario numbers its restarts from 0; a marker left by an earlier run goes on from it. */
	if (!read_gap_marker(o->gap_marker, &m))
		m.seq = -1;
	for (i = 0; i < o->gap_trials; i++) {
		run_gap_trial(o, nfd, sock, i, m.seq + 1 + (int)i, &g[i]);
		printf("gap_trial=%u port=%u open_seen=%s open_after_ms=%.0f found=%s true_ms=%.0f "
		       "reported_ms=%.0f latency_ms=%.0f\n", i, g[i].port, g[i].open_seen ? "yes" : "no",
		       g[i].open_after_ms, g[i].found ? "yes" : "no", g[i].true_ms, g[i].reported_ms,
		       g[i].latency_ms);
		fflush(stdout);
	}
	print_gap_summary(g, o->gap_trials);
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535) {
		fprintf(stderr, "detect: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

/* --metrics 127.0.0.1:PORT: IPv4 only, as the bench's scraper speaks it. */
static void parse_listen(char *arg, struct opts *o)
{
	char *colon = strrchr(arg, ':');

	if (!colon || colon == arg) {
		fprintf(stderr, "detect: bad --metrics (want ADDR:PORT): %s\n", arg);
		exit(2);
	}
	*colon = '\0';
	o->metrics_addr = arg;
	o->metrics_port = parse_uint(colon + 1, "--metrics port");
}

static void usage(FILE *f)
{
	fputs("usage: detect --backlogd PATH --backlogctl PATH --work DIR [--interval SECS]\n"
	      "              [--trials N] [--port P] [--settle-ticks N] [--timeout SECS]\n"
	      "              [--scrapes N] [--metrics ADDR:PORT] [--quiet SECS]\n"
	      "              [--gap-trials N --gap-pid PID --gap-marker FILE]\n"
	      "Starts backlogd -N in this namespace, then per trial makes a fresh listener\n"
	      "(backlog 2, never accepting) on 127.0.0.1:P+i, bursts connects at it, and\n"
	      "polls `backlogctl --json findings` every 10 ms until the finding shows.\n"
	      "Then it times N scrapes of `backlogctl metrics` (and of GET /metrics when\n"
	      "--metrics has the daemon serve HTTP there) against `ss -ltnm; nstat -az`.\n"
	      "--quiet SECS: instead, the daemon's whole-process CPU per second over SECS\n"
	      "with nobody asking it anything, next to `ss -ltnm; nstat -az` per call;\n"
	      "then N times SIGUSR2 to bench/scenario PID (which restarts one of its\n"
	      "listeners and tells the times in FILE) and the listener-gap finding timed.\n"
	      "Prints key=value lines.\n", f);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "backlogd", required_argument, NULL, 'd' },
		{ "backlogctl", required_argument, NULL, 'c' },
		{ "work", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "trials", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "settle-ticks", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "scrapes", required_argument, NULL, 'k' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "gap-trials", required_argument, NULL, 'g' },
		{ "gap-pid", required_argument, NULL, 'P' },
		{ "gap-marker", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .interval = "1", .trials = 5, .port = 18000, .settle_ticks = 5,
			    .timeout_s = 20, .scrapes = 10 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->backlogd = optarg; break;
		case 'c': o->backlogctl = optarg; break;
		case 'w': o->work = optarg; break;
		case 'i': o->interval = optarg; break;
		case 'n': o->trials = parse_uint(optarg, "--trials"); break;
		case 'p': o->port = parse_uint(optarg, "--port"); break;
		case 's': o->settle_ticks = parse_uint(optarg, "--settle-ticks"); break;
		case 't': o->timeout_s = parse_uint(optarg, "--timeout"); break;
		case 'k': o->scrapes = parse_uint(optarg, "--scrapes"); break;
		case 'm': parse_listen(optarg, o); break;
		case 'q': o->quiet_s = parse_uint(optarg, "--quiet"); break;
		case 'g': o->gap_trials = parse_uint(optarg, "--gap-trials"); break;
		case 'P': o->gap_pid = (pid_t)strtol(optarg, NULL, 10); break;
		case 'M': o->gap_marker = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	o->interval_ms = strtod(o->interval, NULL) * 1000.0;
	if (o->interval_ms < 100 || o->interval_ms > 3600000) {
		fprintf(stderr, "detect: bad --interval: %s\n", o->interval);
		exit(2);
	}
	if (optind != argc || !o->backlogd || !o->backlogctl || !o->work || o->trials == 0 ||
	    o->trials > MAX_TRIALS || o->port + o->trials > 65535 || o->gap_trials > MAX_TRIALS ||
	    (o->gap_trials && (!o->quiet_s || o->gap_pid <= 0 || !o->gap_marker))) {
		usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct trial t[MAX_TRIALS];
	int lfd[MAX_TRIALS], cfd[MAX_TRIALS][BURST];
	char notify[4096], sock[4096];
	double ms[MAX_TRIALS], tk[MAX_TRIALS];
	unsigned i, j, found = 0;
	long long cpu0, cpu1;
	int64_t w0, w1;
	bool ready = false;
	int nfd, nl;

	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	snprintf(notify, sizeof(notify), "%s/notify.sock", o.work);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", o.work);
	nfd = notify_socket(notify);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		die("netlink socket");
	atexit(stop_daemon);

	w0 = mono_ns();
	start_daemon(&o, notify, sock);
	while (!ready && mono_ns() - w0 < 120000000000LL) {
		read_notify(nfd, 1000, &ready);
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = 0;
			diex("backlogd exited before it was ready (see backlogd.log)");
		}
	}
	if (!ready)
		diex("backlogd not ready after 120 s");
	printf("daemon_ready_ms=%.0f\n", (double)(mono_ns() - w0) / 1e6);

	if (o.quiet_s) {
		measure_quiet(&o, nfd);
		if (o.gap_trials)
			measure_gaps(&o, nfd, sock);
		stop_daemon();
		return 0;
	}

	/* CPU per tick over quiet ticks: nobody asks the daemon anything meanwhile. */
	if (!wait_ticks(nfd, 2, 60000))
		diex("the daemon stopped ticking");
	cpu0 = proc_cpu_ns(daemon_pid);
	w0 = mono_ns();
	if (!wait_ticks(nfd, o.settle_ticks, 120000))
		diex("the daemon stopped ticking");
	cpu1 = proc_cpu_ns(daemon_pid);
	w1 = mono_ns();
	printf("daemon_quiet_ticks=%u\n", o.settle_ticks);
	printf("daemon_tick_period_ms=%.1f\n", (double)(w1 - w0) / 1e6 / o.settle_ticks);
	printf("daemon_cpu_per_tick_us=%.0f\n", (double)(cpu1 - cpu0) / 1e3 / o.settle_ticks);

	for (i = 0; i < o.trials; i++) {
		run_trial(&o, nfd, nl, sock, i, &t[i], &lfd[i], cfd[i]);
		if (t[i].found) {
			ms[found] = t[i].ms;
			tk[found] = t[i].ticks;
			found++;
		}
		printf("detect_trial=%u port=%u found=%s ms=%.0f ticks=%u\n", i, o.port + i,
		       t[i].found ? "yes" : "no", t[i].found ? t[i].ms : 0, t[i].found ? t[i].ticks : 0);
	}
	printf("detect_trials=%u\n", o.trials);
	printf("detect_found=%u\n", found);
	if (found) {
		qsort(ms, found, sizeof(ms[0]), dbl_cmp);
		qsort(tk, found, sizeof(tk[0]), dbl_cmp);
		printf("detect_ms_med=%.0f\n", ms[found / 2]);
		printf("detect_ms_max=%.0f\n", ms[found - 1]);
		printf("detect_ticks_med=%.0f\n", tk[found / 2]);
		printf("detect_ticks_max=%.0f\n", tk[found - 1]);
	}
	/* Memory before any scrape: what the daemon keeps for its listeners and findings. */
	printf("daemon_rss_kib=%ld\n", proc_status_kib(daemon_pid, "VmRSS"));
	printf("daemon_hwm_kib=%ld\n", proc_status_kib(daemon_pid, "VmHWM"));
	if (o.scrapes) {
		measure_scrapes(&o, nfd, sock, SCRAPE_REFERENCE, "scrape_ref");
		measure_scrapes(&o, nfd, sock, SCRAPE_CTL, "scrape_ctl");
		if (o.metrics_addr)
			measure_scrapes(&o, nfd, sock, SCRAPE_HTTP, "scrape_http");
		/* Right after the last scrape: its snapshot and libmicrohttpd's libraries too. */
		printf("scrape_rss_kib=%ld\n", proc_status_kib(daemon_pid, "VmRSS"));
	}
	fflush(stdout);

	stop_daemon();
	for (i = 0; i < o.trials; i++) {
		for (j = 0; j < BURST; j++)
			close(cfd[i][j]);
		close(lfd[i]);
	}
	close(nl);
	close(nfd);
	unlink(notify);
	return found == o.trials ? 0 : 1;
}
