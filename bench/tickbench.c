/* tickbench.c: the cost of backlogd's cheap-tier tick against the kernel's own floor and against `ss -ltnm && nstat -az`, measured in one process, one run. */
#include "base.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "deep.h"
#include "monitor.h"
#include "nl.h"
#include "sockdiag.h"

extern char **environ;

/*
 * Allocation counting. Defining malloc and friends in the executable
 * interposes them for the whole process (glibc supports replacing malloc
 * this way): libbacklog.a, libmnl, libjansson and glibc's own internal
 * calls (fopen's FILE and buffer, opendir's DIR) all land here. That is
 * more than -Wl,--wrap=malloc would see, which rewrites only the calls in
 * the statically linked objects (libbacklog.a): a tick that fopen()s a
 * /proc file allocates inside glibc, and that counts too. The real work is
 * glibc's own allocator, reached by its exported __libc_* names.
 * Sanitizer builds interpose malloc themselves: counting is off there.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
#endif

#define SITE_MAX 256
#define SITE_DEPTH 4           /* caller frames kept per allocation site */

struct alloc_site {
	void *frames[SITE_DEPTH];
	unsigned long count;
	unsigned long bytes;
};

static struct {
	bool on;                /* counting (only in the allocation pass) */
	bool in_hook;           /* backtrace() may allocate: do not recurse */
	unsigned long count;
	unsigned long bytes;
	unsigned long frees;
	struct alloc_site sites[SITE_MAX];
	size_t nsites;
	unsigned long lost_sites;
} ac;

#if COUNT_ALLOCS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

/* Tally one allocation under the stack of its callers (the hook's own frame dropped). */
static void note_alloc(size_t n)
{
	void *bt[SITE_DEPTH + 2];
	int depth, i;
	size_t s;

	if (!ac.on || ac.in_hook)
		return;
	ac.in_hook = true;
	ac.count++;
	ac.bytes += n;
	depth = backtrace(bt, SITE_DEPTH + 2);
	for (s = 0; s < ac.nsites; s++) {
		for (i = 0; i < SITE_DEPTH; i++)
			if (ac.sites[s].frames[i] != (i + 2 < depth ? bt[i + 2] : NULL))
				break;
		if (i == SITE_DEPTH)
			break;
	}
	if (s == ac.nsites && ac.nsites < SITE_MAX) {
		for (i = 0; i < SITE_DEPTH; i++)
			ac.sites[s].frames[i] = i + 2 < depth ? bt[i + 2] : NULL;
		ac.nsites++;
	}
	if (s < ac.nsites) {
		ac.sites[s].count++;
		ac.sites[s].bytes += n;
	} else {
		ac.lost_sites++;
	}
	ac.in_hook = false;
}

/* noinline: the hook's frame and malloc's must both be there for note_alloc to drop. */
__attribute__((noinline)) void *malloc(size_t n)
{
	note_alloc(n);
	return __libc_malloc(n);
}

__attribute__((noinline)) void *calloc(size_t n, size_t size)
{
	note_alloc(n * size);
	return __libc_calloc(n, size);
}

__attribute__((noinline)) void *realloc(void *p, size_t n)
{
	note_alloc(n);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p && ac.on && !ac.in_hook)
		ac.frees++;
	__libc_free(p);
}
#endif

struct opts {
	unsigned ticks;         /* measured iterations (a floor dump and a tick each) */
	unsigned warmup;
	unsigned gap_ms;        /* pause between iterations, so that the kernel's counters move */
	unsigned deep;          /* deep-tier calls */
	unsigned refs;          /* `ss -ltnm` + `nstat -az` calls, spread over the iterations */
	unsigned alloc_ticks;   /* ticks of the allocation pass */
	unsigned tick_ms;       /* the daemon's interval the ticks pretend to be apart */
	unsigned syscalls;      /* >0: the strace pass: marked ticks and floors only */
	unsigned budget_s;      /* time a pass may take: fewer ticks when each is slow */
	const char *proc_root;
};

struct stats {
	double *wall_us;
	double *cpu_us;
	size_t n;
};

static int64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	return ts_ns(CLOCK_REALTIME) / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void stats_init(struct stats *s, size_t cap)
{
	s->wall_us = calloc(cap ? cap : 1, sizeof(double));
	s->cpu_us = calloc(cap ? cap : 1, sizeof(double));
	s->n = 0;
	if (!s->wall_us || !s->cpu_us) {
		fprintf(stderr, "tickbench: out of memory\n");
		exit(1);
	}
}

static void stats_add(struct stats *s, int64_t wall_ns, int64_t cpu_ns)
{
	s->wall_us[s->n] = (double)wall_ns / 1000.0;
	s->cpu_us[s->n] = (double)cpu_ns / 1000.0;
	s->n++;
}

static int dbl_cmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* Nearest-rank percentile (p in 0..100) of v[0..n), which it sorts. */
static double pct(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), dbl_cmp);
	k = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static double median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* name_wall_med_us, _p99_us, name_cpu_... : the keys run.sh reads. */
static void stats_print(const char *name, struct stats *s, double *wall_med, double *cpu_med)
{
	double wm = median(s->wall_us, s->n), cm = median(s->cpu_us, s->n);

	printf("%s_n=%zu\n", name, s->n);
	printf("%s_wall_med_us=%.1f\n", name, wm);
	printf("%s_wall_p99_us=%.1f\n", name, pct(s->wall_us, s->n, 99));
	printf("%s_cpu_med_us=%.1f\n", name, cm);
	printf("%s_cpu_p99_us=%.1f\n", name, pct(s->cpu_us, s->n, 99));
	if (wall_med)
		*wall_med = wm;
	if (cpu_med)
		*cpu_med = cm;
}

/*
 * The floor: the same LISTEN-only request the daemon sends (probes/sockdiag.c,
 * sockdiag_dump_family: TCP, 1 << TCP_LISTEN, SOCKDIAG_LISTEN_EXT),
 * AF_INET then AF_INET6, read with a buffer of the
 * daemon's size (the kernel sizes its dump skbs by the reader's buffer), and
 * nothing done with the bytes but finding the end of the dump: what the
 * kernel itself costs. Keep the request in step with sockdiag.c.
 */
struct floor {
	int fd;
	char *buf;
	unsigned seq;
	unsigned long msgs;     /* entries seen by the latest dump */
	unsigned long recvs;
};

static int floor_open(struct floor *f)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	f->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (f->fd < 0)
		return -errno;
	if (bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	f->buf = malloc(NL_RECV_BUF);
	return f->buf ? 0 : -ENOMEM;
}

static int floor_family(struct floor *f, uint8_t family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = ++f->seq;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = 1U << TCP_LISTEN;
	msg.req.idiag_ext = SOCKDIAG_LISTEN_EXT;
	if (send(f->fd, &msg, sizeof(msg), 0) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *h;
		int rem;

		n = recv(f->fd, f->buf, NL_RECV_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		f->recvs++;
		h = (const struct nlmsghdr *)f->buf;
		rem = (int)n;
		/* Only the headers: enough to know where the dump ends. */
		for (; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			f->msgs++;
		}
	}
}

static int floor_dump(struct floor *f)
{
	int r;

	f->msgs = 0;
	r = floor_family(f, AF_INET);
	if (r == 0)
		r = floor_family(f, AF_INET6);
	return r;
}

static void on_finding(const struct finding_entry *e, enum finding_event ev, void *arg)
{
	(void)e;
	(void)ev;
	(void)arg;
}

/* strace shows this failing write as a marker: the pass counts the calls between two. */
static void marker(const char *what)
{
	ssize_t r = write(-1, what, strlen(what));

	(void)r;
}

/* Spawn argv with stdout and stderr to /dev/null and wait. Return: its exit status or -1; *cpu_ns its user + system time. */
static int run_quiet(char *const argv[], int64_t *cpu_ns)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -1;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*cpu_ns += ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
		   ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The reference: what a person runs by hand. Return: 0 when both commands ran. */
static int reference(struct stats *s)
{
	/* posix_spawn wants writable strings: arrays, not literals. */
	static char ss0[] = "ss", ss1[] = "-ltnm", ns0[] = "nstat", ns1[] = "-az";
	char *const ss[] = { ss0, ss1, NULL };
	char *const nstat[] = { ns0, ns1, NULL };
	int64_t w0 = ts_ns(CLOCK_MONOTONIC), cpu = 0;

	if (run_quiet(ss, &cpu) != 0 || run_quiet(nstat, &cpu) != 0)
		return -1;
	stats_add(s, ts_ns(CLOCK_MONOTONIC) - w0, cpu);
	return 0;
}

static int timed_tick(struct monitor *m, int64_t now, struct stats *s)
{
	int64_t w0 = ts_ns(CLOCK_MONOTONIC), c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	int r = monitor_tick(m, now, on_finding, NULL);

	stats_add(s, ts_ns(CLOCK_MONOTONIC) - w0, ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	return r;
}

static int timed_floor(struct floor *f, struct stats *s)
{
	int64_t w0 = ts_ns(CLOCK_MONOTONIC), c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	int r = floor_dump(f);

	stats_add(s, ts_ns(CLOCK_MONOTONIC) - w0, ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	return r;
}

static void check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "tickbench: %s: %s\n", what, strerror(-r));
		exit(1);
	}
}

static int site_cmp(const void *pa, const void *pb)
{
	const struct alloc_site *a = pa, *b = pb;

	return (a->count < b->count) - (a->count > b->count);
}

/* One frame as "function (file:line)" for this executable, "symbol" for a library. */
static void frame_name(void *addr, char *out, size_t len)
{
	char exe[4096], cmd[4200], line[256], fn[256] = "?", where[256] = "?";
	Dl_info di, self;
	ssize_t n;
	FILE *p;

	snprintf(out, len, "%p", addr);
	if (!dladdr(addr, &di) || !dladdr((void *)frame_name, &self))
		return;
	if (di.dli_fbase != self.dli_fbase) {
		const char *lib = strrchr(di.dli_fname, '/');

		snprintf(out, len, "%s(%s)", di.dli_sname ? di.dli_sname : "?",
			 lib ? lib + 1 : di.dli_fname);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* A return address points after the call: one byte back is the call's line. */
	snprintf(cmd, sizeof(cmd), "addr2line -f -s -e '%s' %#lx 2>/dev/null", exe,
		 (unsigned long)((uintptr_t)addr - (uintptr_t)di.dli_fbase - 1));
	p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(fn, sizeof(fn), "%s", line);
	}
	if (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(where, sizeof(where), "%s", line);
	}
	pclose(p);
	snprintf(out, len, "%s (%s)", fn, where);
}

static void print_alloc_sites(unsigned ticks)
{
	size_t s;
	int i;

	qsort(ac.sites, ac.nsites, sizeof(ac.sites[0]), site_cmp);
	for (s = 0; s < ac.nsites && s < 12; s++) {
		printf("alloc_site=%.1f/tick %.0f B/tick:", (double)ac.sites[s].count / ticks,
		       (double)ac.sites[s].bytes / ticks);
		for (i = 0; i < SITE_DEPTH && ac.sites[s].frames[i]; i++) {
			char name[600];

			frame_name(ac.sites[s].frames[i], name, sizeof(name));
			printf("%s %s", i ? " <-" : "", name);
		}
		printf("\n");
	}
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 1000000UL) {
		fprintf(stderr, "tickbench: bad %s: %s\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

static void usage(FILE *f)
{
	fputs("usage: tickbench [--ticks N] [--warmup N] [--gap-ms MS] [--deep N] [--refs N]\n"
	      "                 [--alloc-ticks N] [--tick-ms MS] [--proc-root DIR] [--syscalls N]\n"
	      "                 [--budget-s S]\n"
	      "Runs backlogd's cheap-tier tick (monitor_tick, deep tier not periodic) N times,\n"
	      "each next to a bare LISTEN sock_diag dump (the floor), with `ss -ltnm` +\n"
	      "`nstat -az` runs spread among them; then the deep tier and an allocation\n"
	      "pass. Prints key=value lines. --syscalls N: only N ticks and N floors\n"
	      "between markers, for `strace -f -o FILE` to count. --budget-s: a pass whose\n"
	      "ticks are slow runs fewer of them (at least 3), to end in about S seconds.\n", f);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ticks", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "deep", required_argument, NULL, 'd' },
		{ "refs", required_argument, NULL, 'r' },
		{ "alloc-ticks", required_argument, NULL, 'a' },
		{ "tick-ms", required_argument, NULL, 'i' },
		{ "proc-root", required_argument, NULL, 'p' },
		{ "syscalls", required_argument, NULL, 's' },
		{ "budget-s", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .ticks = 200, .warmup = 10, .gap_ms = 10, .deep = 5, .refs = 20,
			    .alloc_ticks = 20, .tick_ms = 1000, .proc_root = "/proc", .budget_s = 60 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 't': o->ticks = parse_uint(optarg, "--ticks"); break;
		case 'w': o->warmup = parse_uint(optarg, "--warmup"); break;
		case 'g': o->gap_ms = parse_uint(optarg, "--gap-ms"); break;
		case 'd': o->deep = parse_uint(optarg, "--deep"); break;
		case 'r': o->refs = parse_uint(optarg, "--refs"); break;
		case 'a': o->alloc_ticks = parse_uint(optarg, "--alloc-ticks"); break;
		case 'i': o->tick_ms = parse_uint(optarg, "--tick-ms"); break;
		case 'p': o->proc_root = optarg; break;
		case 's': o->syscalls = parse_uint(optarg, "--syscalls"); break;
		case 'b': o->budget_s = parse_uint(optarg, "--budget-s"); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || o->ticks == 0) {
		usage(stderr);
		exit(2);
	}
	if (o->refs > o->ticks)
		o->refs = o->ticks;
}

/*
 * How many of want iterations fit in budget_ms at per_ms each, at least 3:
 * a host where a tick takes seconds still gets a bench that ends.
 */
static unsigned fit(unsigned want, double budget_ms, double per_ms)
{
	double n = per_ms > 0 ? budget_ms / per_ms : want;

	if (n < 3)
		n = 3;
	return n < want ? (unsigned)n : want;
}

/* Warm up: up to warmup ticks, at most a tenth of the budget. Return: ms per tick. */
static double warm_up(const struct opts *o, struct monitor *m, struct floor *f, int64_t *now)
{
	int64_t t0 = ts_ns(CLOCK_MONOTONIC);
	unsigned i;

	/* The first tick looks every owner up in /proc; later ones do not. */
	for (i = 0; i < o->warmup || i < 2; i++) {
		check(monitor_tick(m, *now += o->tick_ms, on_finding, NULL), "tick");
		if (f)
			check(floor_dump(f), "floor dump");
		sleep_ms(o->gap_ms);
		if (i >= 2 && (double)(ts_ns(CLOCK_MONOTONIC) - t0) / 1e6 > o->budget_s * 100.0)
			break;
	}
	/* The last tick alone: the first ones are dearer than the steady state. */
	t0 = ts_ns(CLOCK_MONOTONIC);
	check(monitor_tick(m, *now += o->tick_ms, on_finding, NULL), "tick");
	if (f)
		check(floor_dump(f), "floor dump");
	return (double)(ts_ns(CLOCK_MONOTONIC) - t0) / 1e6 + o->gap_ms;
}

/*
 * The strace pass: warm up, then N marked ticks and N marked floor dumps,
 * nothing else. A tick in which the deep tier ran (a cheap signal asked:
 * under strace the warm-up is cut short, so its first run may fall here) is
 * marked so that run.sh leaves it out of the cheap tier's counts.
 */
static void syscall_pass(const struct opts *o, struct monitor *m, struct floor *f, int64_t *now)
{
	unsigned i, n, deep = 0;
	int64_t t0;
	double per;

	per = warm_up(o, m, NULL, now);
	/* strace makes every call dearer: count on ten times the untraced cost. */
	n = fit(o->syscalls, o->budget_s * 1000.0, per * 10);
	t0 = ts_ns(CLOCK_MONOTONIC);
	marker("bench:ticks-begin");
	for (i = 0; i < n; i++) {
		check(monitor_tick(m, *now += o->tick_ms, on_finding, NULL), "tick");
		if (m->deep_ran) {
			marker("bench:deep-ran");
			deep++;
		}
		/* The pause is outside the markers, not counted against the tick. */
		marker("bench:pause");
		sleep_ms(o->gap_ms);
		if (i >= 2 && (double)(ts_ns(CLOCK_MONOTONIC) - t0) / 1e9 > o->budget_s) {
			n = i + 1;
			break;
		}
		marker("bench:resume");
	}
	marker("bench:ticks-end");
	marker("bench:floor-begin");
	for (i = 0; i < n; i++)
		check(floor_dump(f), "floor dump");
	marker("bench:floor-end");
	printf("syscall_ticks=%u\n", n);
	printf("syscall_deep_ticks=%u\n", deep);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct config cfg;
	struct monitor m;
	struct floor fl = { .fd = -1 };
	struct stats tick, floor_s, ref, deep;
	struct deep_sample ds;
	unsigned long deep_before, deep_in_ticks, floor_recvs, walks_before, walks_in_ticks;
	double tw, tc, fw, fc, rw, rc;
	int64_t now, loop0;
	unsigned i, ticks, alloc_ticks, ref_every, ref_fail = 0;
	double per;
	void *warm[1];

	parse_args(argc, argv, &o);
	/* The unwinder loads on first use and allocates: load it before any counting. */
	(void)backtrace(warm, 1);
	config_defaults(&cfg);
	/* The cheap tier alone: the deep tier runs here only when a cheap signal asks. */
	cfg.deep_every_ticks = 0;
	/* A tick that dumps the listeners, as every tick of a busy host does (a quiet one carries them). */
	cfg.listener_refresh_ms = 0;
	check(monitor_init(&m, &cfg, o.proc_root), "monitor_init");
	check(floor_open(&fl), "netlink socket");
	now = wall_ms();

	if (o.syscalls) {
		syscall_pass(&o, &m, &fl, &now);
		goto out;
	}
	per = warm_up(&o, &m, &fl, &now);
	ticks = fit(o.ticks, o.budget_s * 1000.0, per);
	stats_init(&tick, ticks);
	stats_init(&floor_s, ticks);
	stats_init(&ref, o.refs);
	stats_init(&deep, o.deep);

	/* Interleaved, alternating which goes first: both see the same conditions. */
	deep_before = m.deep_runs;
	walks_before = procmap_full_walks(m.pm);
	fl.recvs = 0;
	loop0 = ts_ns(CLOCK_MONOTONIC);
	ref_every = o.refs ? (ticks > o.refs ? ticks / o.refs : 1) : 0;
	for (i = 0; i < ticks; i++) {
		if (i % 2 == 0) {
			check(timed_floor(&fl, &floor_s), "floor dump");
			check(timed_tick(&m, now += o.tick_ms, &tick), "tick");
		} else {
			check(timed_tick(&m, now += o.tick_ms, &tick), "tick");
			check(timed_floor(&fl, &floor_s), "floor dump");
		}
		if (ref_every && i % ref_every == ref_every / 2 && ref.n < o.refs && reference(&ref) < 0)
			ref_fail++;
		sleep_ms(o.gap_ms);
		/* The estimate from the warm-up can be wrong: the budget holds whatever it said. */
		if (i >= 2 && (double)(ts_ns(CLOCK_MONOTONIC) - loop0) / 1e9 > o.budget_s)
			break;
	}
	/* References the loop ended before: right after it, in the same conditions. */
	while (ref.n + ref_fail < o.refs)
		if (reference(&ref) < 0)
			ref_fail++;
	deep_in_ticks = m.deep_runs - deep_before;
	walks_in_ticks = procmap_full_walks(m.pm) - walks_before;
	floor_recvs = fl.recvs;

	printf("listeners=%zu\n", m.track.count);
	printf("floor_entries=%lu\n", fl.msgs);
	printf("floor_recvs_per_dump=%.1f\n", (double)floor_recvs / (double)tick.n);
	printf("ticks_planned=%u\n", o.ticks);
	printf("warm_ms_per_iter=%.1f\n", per);
	/* What one listener costs the daemon in memory, for the report's reasons. */
	printf("sizeof_tracked=%zu\n", sizeof(struct tracked));
	printf("sizeof_owner=%zu\n", sizeof(struct owner));
	printf("owner_max_procs=%d\n", OWNER_MAX_PROCS);
	printf("tcp_inuse=%" PRId64 "\n", m.sockstat.tcp_inuse);
	printf("tcp_tw=%" PRId64 "\n", m.sockstat.tcp_tw);
	printf("findings_active=%zu\n", findings_active(&m.findings));
	printf("tick_deep_runs=%lu\n", deep_in_ticks);
	printf("tick_deep_reason=%s\n", deep_in_ticks && m.deep_reason ? m.deep_reason : "-");
	/* Walks of every process's descriptors to find a socket's owner: the dearest thing a tick can do. */
	printf("tick_proc_walks=%lu\n", walks_in_ticks);
	stats_print("tick", &tick, &tw, &tc);
	stats_print("floor", &floor_s, &fw, &fc);
	printf("ratio_tick_floor_wall=%.2f\n", fw > 0 ? tw / fw : 0);
	printf("ratio_tick_floor_cpu=%.2f\n", fc > 0 ? tc / fc : 0);
	if (ref.n) {
		stats_print("ref", &ref, &rw, &rc);
		printf("ratio_ref_tick_wall=%.1f\n", tw > 0 ? rw / tw : 0);
		printf("ratio_ref_tick_cpu=%.1f\n", tc > 0 ? rc / tc : 0);
	}
	printf("ref_failed=%u\n", ref_fail);

	/* The deep tier on its own, over the monitor's own netlink socket as the daemon runs it. */
	deep_sample_init(&ds);
	for (i = 0; i < o.deep; i++) {
		int64_t w0 = ts_ns(CLOCK_MONOTONIC), c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);

		check(sockdiag_dump_deep(m.sd, &ds, m.limits.port_range_lo, m.limits.port_range_hi),
		      "deep dump");
		stats_add(&deep, ts_ns(CLOCK_MONOTONIC) - w0, ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
		sleep_ms(o.gap_ms);
	}
	if (deep.n) {
		stats_print("deep", &deep, NULL, NULL);
		printf("deep_sockets=%u\n", ds.sockets_seen);
	}
	deep_sample_free(&ds);

	/* Allocations, in ticks of their own: recording each caller's stack is not free. */
	alloc_ticks = fit(o.alloc_ticks, o.budget_s * 250.0, per);
	if (COUNT_ALLOCS && alloc_ticks) {
		unsigned long per_tick_max = 0, before;

		memset(&ac, 0, sizeof(ac));
		for (i = 0; i < alloc_ticks; i++) {
			before = ac.count;
			ac.on = true;
			check(monitor_tick(&m, now += o.tick_ms, on_finding, NULL), "tick");
			ac.on = false;
			if (ac.count - before > per_tick_max)
				per_tick_max = ac.count - before;
			sleep_ms(o.gap_ms);
		}
		printf("alloc_ticks=%u\n", alloc_ticks);
		printf("allocs_per_tick=%.1f\n", (double)ac.count / alloc_ticks);
		printf("allocs_per_tick_max=%lu\n", per_tick_max);
		printf("alloc_bytes_per_tick=%.0f\n", (double)ac.bytes / alloc_ticks);
		printf("frees_per_tick=%.1f\n", (double)ac.frees / alloc_ticks);
		print_alloc_sites(alloc_ticks);
	} else {
		/* Sanitizer builds count nothing: say so rather than print a zero. */
		printf("allocs_per_tick=n/a\n");
		printf("alloc_bytes_per_tick=n/a\n");
	}
	free(tick.wall_us);
	free(tick.cpu_us);
	free(floor_s.wall_us);
	free(floor_s.cpu_us);
	free(ref.wall_us);
	free(ref.cpu_us);
	free(deep.wall_us);
	free(deep.cpu_us);
out:
	free(fl.buf);
	close(fl.fd);
	monitor_done(&m);
	return 0;
}
