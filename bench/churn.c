/*
 * churn.c: what a watcher costs a host's connections: loopback connections
 * opened and closed (or SYNs dropped at a full listener) with and without it,
 * CPU of the whole machine for each. The watcher is a subscriber to
 * sock_diag's TCP destroy groups, or any two commands given (backlogd with
 * its eBPF tier off, and on).
 */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
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

#define MAX_REPS 15

/*
 * The groups backlogd would join to hear of listeners closing:
 * SKNLGRP_INET_TCP_DESTROY (1) and SKNLGRP_INET6_TCP_DESTROY (3), as bits
 * of nl_groups (group g is bit g - 1). Spelled out here: older headers
 * lack the names.
 */
#define DESTROY_GROUPS ((1U << (1 - 1)) | (1U << (3 - 1)))

struct opts {
	unsigned conns;   /* connections (or dropped SYNs) per run */
	unsigned reps;    /* runs without, and as many with, a subscriber */
	bool drops;       /* SYNs to a listener whose queue is full, each dropped, instead of connections */
	const char *without_cmd;  /* run during the "without" runs; NULL: nothing */
	const char *with_cmd;     /* run during the "with" runs; NULL: the destroy-group subscriber */
	unsigned settle_ms;       /* after starting a command, before the run: its start-up is not the run's */
};

/* One run: CPU of the whole machine, of this process, of the kernel's workers, and wall time. */
struct run {
	double sys_ms;      /* /proc/stat: user + nice + system + irq + softirq, all CPUs */
	double self_ms;     /* this process's threads (getrusage) */
	double kworker_ms;  /* every kworker thread (schedstat): where queued work runs */
	double wall_ms;
};

struct accepter {
	int lfd;
	unsigned want;
	unsigned got;
};

static void die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Busy time of every CPU in ms: user, nice, system, irq and softirq of the "cpu" line. */
static double proc_stat_busy_ms(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		die("/proc/stat");
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait,
		   &irq, &softirq);
	fclose(f);
	if (n != 7)
		die("/proc/stat: no cpu line");
	return (double)(user + nice + sys + irq + softirq) * 1000.0 / (double)(hz > 0 ? hz : 100);
}

/*
 * Run time of every kworker thread, in ms (first field of schedstat): the
 * destroy broadcast fills its message in a work item, which runs there, not
 * in the process that closed the socket. Workers that come and go during a
 * run are counted from whenever they are seen.
 */
static double kworker_ms(void)
{
	char path[300], comm[64];
	long long ns, sum = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		die("/proc");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f) || strncmp(comm, "kworker", 7) != 0) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%lld", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return (double)sum / 1e6;
}

static double self_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* Accept and close at once, until every connection of the run came. */
static void *accept_main(void *arg)
{
	struct accepter *a = arg;

	while (a->got < a->want) {
		int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		close(fd);
		a->got++;
	}
	return NULL;
}

/*
 * n connections to a listener on 127.0.0.1, each connected and closed at
 * once with SO_LINGER 0 (a reset: no TIME_WAIT left, and the ephemeral port
 * free again), the server end accepted and closed by a thread: two sockets
 * freed per connection, each one destroy message for a subscriber.
 */
static void churn_once(unsigned n, struct run *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct accepter acc = { .want = n };
	socklen_t alen = sizeof(a);
	double sys0, self0, kw0;
	pthread_t th;
	int64_t w0;
	unsigned i;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	acc.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (acc.lfd < 0 || bind(acc.lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(acc.lfd, 4096) < 0 || getsockname(acc.lfd, (struct sockaddr *)&a, &alen) < 0)
		die("listener");
	kw0 = kworker_ms();
	sys0 = proc_stat_busy_ms();
	self0 = self_cpu_ms();
	w0 = mono_ns();
	if (pthread_create(&th, NULL, accept_main, &acc) != 0)
		die("pthread_create");
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket");
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		close(fd);
	}
	pthread_join(th, NULL);
	r->wall_ms = (double)(mono_ns() - w0) / 1e6;
	r->self_ms = self_cpu_ms() - self0;
	r->sys_ms = proc_stat_busy_ms() - sys0;
	r->kworker_ms = kworker_ms() - kw0;
	close(acc.lfd);
}

/*
 * n SYNs, each dropped: a listener of backlog 0 whose queue one connection
 * fills and which never accepts, and n non-blocking connects to it, each
 * closed at once (a socket in SYN_SENT leaves nothing behind, and its port
 * is free again). On loopback the SYN is handled inside connect(): one
 * ListenOverflows, one drop event for the eBPF tier, per connect.
 */
static void drops_once(unsigned n, struct run *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	double sys0, self0, kw0;
	int64_t w0;
	int lfd, filler;
	unsigned i;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 0) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		die("listener");
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (filler < 0 || connect(filler, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("the connection that fills the queue");
	kw0 = kworker_ms();
	sys0 = proc_stat_busy_ms();
	self0 = self_cpu_ms();
	w0 = mono_ns();
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS)
			die("connect to the full listener");
		close(fd);
	}
	r->wall_ms = (double)(mono_ns() - w0) / 1e6;
	r->self_ms = self_cpu_ms() - self0;
	r->sys_ms = proc_stat_busy_ms() - sys0;
	r->kworker_ms = kworker_ms() - kw0;
	close(filler);
	close(lfd);
}

/* A watcher given as a shell command, in a process group of its own; given settle_ms to start. */
static pid_t start_cmd(const char *cmd, unsigned settle_ms)
{
	struct timespec ts = { .tv_sec = settle_ms / 1000, .tv_nsec = (long)(settle_ms % 1000) * 1000000L };
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (waitpid(pid, NULL, WNOHANG) == pid) {
		fprintf(stderr, "churn: the command ended before the run: %s\n", cmd);
		exit(1);
	}
	return pid;
}

/* SIGTERM to its group, as systemd stops a service; wait for it. */
static void stop_cmd(pid_t pid)
{
	kill(-pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
}

/*
 * A subscriber as backlogd would be one: a NETLINK_SOCK_DIAG socket bound to
 * the destroy groups. It never reads, the least a subscriber can cost: the
 * kernel allocates and fills each message whether or not it is read (and
 * whatever socket filter is attached, which runs only on delivery). Return:
 * its pid, once it is bound.
 */
static pid_t start_subscriber(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = DESTROY_GROUPS };
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd;

		close(p[0]);
		/* It must not outlive the bench. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(1);
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "churn: subscribing to the destroy groups: %s\n", strerror(errno));
			_exit(1);
		}
		if (write(p[1], "y", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "churn: the subscriber failed\n");
		exit(1);
	}
	close(p[0]);
	return pid;
}

static void stop_subscriber(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int dbl_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(double), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* key_sys_ms_med=... and the like for one side, medians over its runs. */
static void print_side(const char *key, const struct run *r, unsigned n, double *sys_med)
{
	double sys[MAX_REPS], self[MAX_REPS], kw[MAX_REPS], wall[MAX_REPS];

	for (unsigned i = 0; i < n; i++) {
		sys[i] = r[i].sys_ms;
		self[i] = r[i].self_ms;
		kw[i] = r[i].kworker_ms;
		wall[i] = r[i].wall_ms;
	}
	*sys_med = median(sys, n);
	printf("churn_%s_sys_ms_med=%.0f\n", key, *sys_med);
	printf("churn_%s_self_ms_med=%.0f\n", key, median(self, n));
	printf("churn_%s_kworker_ms_med=%.1f\n", key, median(kw, n));
	printf("churn_%s_wall_ms_med=%.0f\n", key, median(wall, n));
}

static unsigned parse_uint(const char *s, const char *what, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "churn: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

static void one_run(const struct opts *o, unsigned n, struct run *r)
{
	if (o->drops)
		drops_once(n, r);
	else
		churn_once(n, r);
}

/* One measured run of a side, its watcher started before and stopped after. */
static void side_run(const struct opts *o, bool with, struct run *r)
{
	const char *cmd = with ? o->with_cmd : o->without_cmd;
	pid_t pid = 0;

	if (cmd)
		pid = start_cmd(cmd, o->settle_ms);
	else if (with)
		pid = start_subscriber();
	one_run(o, o->conns, r);
	if (cmd)
		stop_cmd(pid);
	else if (with)
		stop_subscriber(pid);
}

static void usage(FILE *f)
{
	fputs("usage: churn [--conns N] [--reps R] [--drops] [--without CMD] [--with CMD] [--settle-ms N]\n"
	      "Opens and closes N loopback connections (SO_LINGER 0), R times without and R\n"
	      "times with a process subscribed to sock_diag's TCP destroy groups, in turn,\n"
	      "and prints the CPU of the whole machine (/proc/stat), of this process and of\n"
	      "the kernel's kworker threads per run, medians as key=value lines.\n"
	      "Run it in a network namespace of its own: the subscriber hears of every TCP\n"
	      "socket freed in its namespace.\n"
	      "  --drops       N SYNs to a full listener, each dropped, instead of connections\n"
	      "  --without CMD run CMD (sh -c, its own process group) during the runs without\n"
	      "  --with CMD    run CMD instead of the subscriber during the runs with; each is\n"
	      "                started --settle-ms (default 1500) before its run, SIGTERMed after\n", f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conns", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "drops", no_argument, NULL, 'D' },
		{ "without", required_argument, NULL, 'o' },
		{ "with", required_argument, NULL, 'w' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .conns = 40000, .reps = 3, .settle_ms = 1500 };
	struct run without[MAX_REPS], with[MAX_REPS];
	double s0, s1;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.conns = parse_uint(optarg, "--conns", 1000000); break;
		case 'r': o.reps = parse_uint(optarg, "--reps", MAX_REPS); break;
		case 'D': o.drops = true; break;
		case 'o': o.without_cmd = optarg; break;
		case 'w': o.with_cmd = optarg; break;
		case 's': o.settle_ms = parse_uint(optarg, "--settle-ms", 60000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* A warm-up run: the first connections of a namespace pay for its tables. */
	one_run(&o, o.conns / 10 + 1, &without[0]);
	for (unsigned i = 0; i < o.reps; i++) {
		/* In turn, and which goes first alternates: a drift in the machine's load weighs on both. */
		for (unsigned k = 0; k < 2; k++)
			side_run(&o, (i + k) % 2 == 1, (i + k) % 2 == 1 ? &with[i] : &without[i]);
		printf("churn_run=%u without_sys_ms=%.0f with_sys_ms=%.0f without_kworker_ms=%.1f "
		       "with_kworker_ms=%.1f without_wall_ms=%.0f with_wall_ms=%.0f\n", i,
		       without[i].sys_ms, with[i].sys_ms, without[i].kworker_ms, with[i].kworker_ms,
		       without[i].wall_ms, with[i].wall_ms);
	}
	printf("churn_conns=%u\nchurn_reps=%u\n", o.conns, o.reps);
	print_side("without", without, o.reps, &s0);
	print_side("with", with, o.reps, &s1);
	if (s0 > 0)
		printf("churn_ratio_sys=%.2f\n", s1 / s0);
	printf("churn_extra_us_per_conn=%.2f\n", (s1 - s0) * 1000.0 / o.conns);
	return 0;
}
