/* main.c: backlogd: one thread, epoll over a timerfd tick, a signalfd and the control socket. */
#include "base.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <systemd/sd-daemon.h>

#include "alert.h"
#include "commands.h"
#include "drop_feed.h"
#include "config.h"
#include "ctl.h"
#include "finding_log.h"
#include "fleet.h"
#include "httpd.h"
#include "kmsg.h"
#include "procexit.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "clock.h"

struct options {
	bool foreground;       /* -d */
	int verbose;           /* -v */
	bool check_only;       /* -n */
	const char *config_path;
	bool config_given;     /* -f: a missing file is then an error */
	const char *interval;  /* -i: [daemon] interval's text, NULL = from the config */
	const char *socket_path; /* -S: [daemon] socket, NULL = from the config */
	const char *proc_root; /* -P: /proc/net and /proc/sys from elsewhere (tests, replays) */
	const char *kmsg_path; /* -K: a kernel log other than /dev/kmsg (tests) */
	const char *exits_netns; /* -E: where the process connector is, when not in ours */
	bool no_namespaces;    /* -N: only our own network namespace */
	const char *metrics_listen; /* -m: [metrics] listen's text, NULL = from the config */
};

struct daemon_state {
	struct options opt;
	struct fleet fleet;        /* one monitor per network namespace; [0] is ours */
	struct finding_log events; /* every finding event, the newest FINDING_LOG_CAPACITY: fleet.log */
	struct ctl_server *ctl;
	struct httpd *httpd;       /* GET /metrics; NULL unless -m or [metrics] listen */
	uint64_t ticks;            /* the generation of the metrics the HTTP endpoint serves */
	struct kmsg *kmsg;         /* NULL when the kernel log cannot be read */
	struct procexit *pexit;    /* process exits; NULL when not root or the connector refused */
	int timer_fd;
	int fast_fd;               /* timerfd of the fast samples, armed while a listener is hot */
	bool fast_armed;
	int signal_fd;
	bool ready_sent;
	bool notify;               /* NOTIFY_SOCKET is set: systemd (or a watcher) hears our state */
	uint64_t watchdog_usec;     /* WatchdogSec= from systemd, 0 when off */
	uint64_t watchdog_last_us;  /* CLOCK_MONOTONIC of the last WATCHDOG=1 */
	uint64_t state_generation;  /* bumped whenever what the control socket shows changes */
	bool textfile_failing;      /* the latest write of [metrics] textfile failed (logged once) */
	struct drop_feed drops;     /* the eBPF tier; drops.tier NULL when off */
	int64_t tick_mono_ms;       /* when the latest tick started */
	bool early_ticked;          /* an event ticked since the timer last did */
};

static const struct option long_options[] = {
	{ "debug",    no_argument,       NULL, 'd' },
	{ "config",   required_argument, NULL, 'f' },
	{ "check",    no_argument,       NULL, 'n' },
	{ "verbose",  no_argument,       NULL, 'v' },
	{ "interval", required_argument, NULL, 'i' },
	{ "socket",   required_argument, NULL, 'S' },
	{ "proc-root", required_argument, NULL, 'P' },
	{ "kmsg",     required_argument, NULL, 'K' },
	{ "exits-netns", required_argument, NULL, 'E' },
	{ "no-namespaces", no_argument,  NULL, 'N' },
	{ "metrics",  required_argument, NULL, 'm' },
	{ "help",     no_argument,       NULL, 'h' },
	{ "version",  no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	struct config dflt;

	config_defaults(&dflt);
	fprintf(out,
		"usage: backlogd [-dnNv] [-f FILE] [-i SECONDS] [-S SOCKET] [-P DIR] [-K PATH]\n"
		"                [-E NETNS] [-m ADDR:PORT]\n"
		"Watch every TCP listener's accept queue and explain dropped connections.\n\n"
		"  -d, --debug          stay in the foreground, log to stderr at debug level\n"
		"                       and echo every alert there too\n"
		"  -f, --config FILE    configuration file (default %s)\n"
		"  -n, --check          check the configuration and exit\n"
		"  -v, --verbose        more log output\n"
		"  -i, --interval SECS  tick interval, overrides the file (default %g)\n"
		"  -S, --socket PATH    control socket (default %s)\n"
		"  -P, --proc-root DIR  read /proc/net and /proc/sys files from DIR\n"
		"                       (replays and tests; owners still come from /proc)\n"
		"  -K, --kmsg PATH      follow PATH instead of /dev/kmsg (tests)\n"
		"  -E, --exits-netns NETNS  the host's first network namespace, where process\n"
		"                       exits are reported, when backlogd runs in another one\n"
		"                       (default /proc/1/ns/net)\n"
		"  -N, --no-namespaces  watch only our own network namespace (default: every\n"
		"                       namespace of the host with CAP_SYS_ADMIN)\n"
		"  -m, --metrics ADDR:PORT  serve GET /metrics over HTTP there: 127.0.0.1:%d,\n"
		"                       [::1]:%d, :%d (every address); overrides the file\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n",
		CONFIG_DEFAULT_PATH, dflt.tick_ms / 1000.0, dflt.socket_path, CONFIG_METRICS_PORT,
		CONFIG_METRICS_PORT, CONFIG_METRICS_PORT);
}

/* Check an option that stands for a key of the file, as the file's parser would; exit 2 when bad. */
static void check_key_option(char letter, const char *section, const char *key, const char *value)
{
	struct config scratch;
	char want[256];

	config_defaults(&scratch);
	if (!config_set(&scratch, section, key, value, want, sizeof(want))) {
		fprintf(stderr, "backlogd: -%c '%s': %s\n", letter, value, want);
		exit(2);
	}
}

static void parse_args(int argc, char **argv, struct options *opt)
{
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->config_path = CONFIG_DEFAULT_PATH;
	opt->proc_root = "/proc";
	opt->exits_netns = "/proc/1/ns/net";
	while ((c = getopt_long(argc, argv, "df:nvi:S:P:K:E:Nm:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt->foreground = true;
			opt->verbose = opt->verbose ? opt->verbose : 1;
			break;
		case 'f':
			opt->config_path = optarg;
			opt->config_given = true;
			break;
		case 'n':
			opt->check_only = true;
			break;
		case 'v':
			opt->verbose++;
			break;
		case 'i':
			check_key_option('i', "daemon", "interval", optarg);
			opt->interval = optarg;
			break;
		case 'S':
			check_key_option('S', "daemon", "socket", optarg);
			opt->socket_path = optarg;
			break;
		case 'P':
			opt->proc_root = optarg;
			break;
		case 'K':
			opt->kmsg_path = optarg;
			break;
		case 'E':
			opt->exits_netns = optarg;
			break;
		case 'N':
			opt->no_namespaces = true;
			break;
		case 'm':
			check_key_option('m', "metrics", "listen", optarg);
			opt->metrics_listen = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("backlogd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "backlogd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/*
 * Build the configuration: defaults, then the file, then the command line.
 * Return: 0, or -errno with err set (the caller decides whether it is fatal).
 */
static int load_config(const struct options *opt, struct config *cfg, bool *from_file,
		       char *err, size_t errlen)
{
	int r;

	config_defaults(cfg);
	r = config_load(opt->config_path, cfg, err, errlen);
	*from_file = r == 0;
	/* The file is optional unless named with -f: the defaults serve. */
	if (r == -ENOENT && !opt->config_given)
		r = 0;
	if (r < 0)
		return r;
	/* parse_args checked both: they cannot fail here. */
	if (opt->interval)
		(void)config_set(cfg, "daemon", "interval", opt->interval, err, errlen);
	if (opt->socket_path)
		(void)config_set(cfg, "daemon", "socket", opt->socket_path, err, errlen);
	if (opt->metrics_listen)
		(void)config_set(cfg, "metrics", "listen", opt->metrics_listen, err, errlen);
	return 0;
}

static int arm_timer(int fd, unsigned tick_ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = tick_ms / 1000, .tv_nsec = (long)(tick_ms % 1000) * 1000000L },
		.it_value = { .tv_sec = 0, .tv_nsec = 1 },   /* first tick at once */
	};

	return timerfd_settime(fd, 0, &its, NULL);
}

static struct monitor *fleet_host(struct fleet *fl)
{
	return &fl->members[0]->mon;
}

/*
 * Whether this thread holds @cap in its effective set: root, or the unit's
 * own user with the capability given as an ambient one. capget() has no
 * glibc wrapper.
 */
static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/*
 * Following other namespaces needs setns (CAP_SYS_ADMIN): by default only
 * when it is held. -P points the host's counters at a replay, which other
 * namespaces would not share: then only our own.
 */
static bool scan_namespaces(const struct options *opt, const struct config *cfg)
{
	if (opt->no_namespaces || cfg->namespaces == CONFIG_NS_NO)
		return false;
	if (strcmp(opt->proc_root, "/proc") != 0)
		return false;
	return cfg->namespaces == CONFIG_NS_YES || has_cap(CAP_SYS_ADMIN);
}

/*
 * Hot listeners (queue above half the backlog) are sampled every
 * fast_interval until none is hot, so a burst that fills a queue and drains
 * between two ticks is still seen; the timer stays off otherwise.
 */
static void arm_fast(struct daemon_state *st, bool on)
{
	unsigned ms = st->fleet.cfg.fast_ms;
	struct itimerspec its = { 0 };

	on = on && ms > 0;
	if (on == st->fast_armed)
		return;
	if (on) {
		its.it_interval.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	if (timerfd_settime(st->fast_fd, 0, &its, NULL) == 0)
		st->fast_armed = on;
}

/* Collect the kernel log lines that name a cause; the next tick weighs them. */
static void read_kmsg(struct daemon_state *st)
{
	struct kmsg_event ev[TRACK_KMSG_MAX];
	unsigned dropped = 0, lost = 0;
	int n;

	n = kmsg_read(st->kmsg, ev, TRACK_KMSG_MAX, &dropped, &lost);
	if (n > 0)
		fleet_add_kmsg(&st->fleet, ev, (size_t)n);
	if (lost)
		log_debug("kernel log: %u records overwritten before they were read", lost);
	if (n < 0 && n != -EAGAIN) {
		errno = -n;
		log_warn("kernel log: read failed; no longer following it");
		kmsg_close(st->kmsg);
		st->kmsg = NULL;
		fleet_host(&st->fleet)->kmsg_following = false;
	}
}

/* The exits since the last tick, for the tick about to run; read right before it, so a gap and its exit meet. */
static void read_exits(struct daemon_state *st)
{
	const struct proc_exit *ev;
	unsigned lost = 0;
	int n;

	if (!st->pexit)
		return;
	n = procexit_read(st->pexit, &ev, &lost);
	if (lost)
		log_debug("process events: the receive buffer overran %u times; exits were lost", lost);
	if (n < 0) {
		errno = -n;
		log_warn("process events: read failed; no longer following exits");
		procexit_close(st->pexit);
		st->pexit = NULL;
		fleet_host(&st->fleet)->proc_events = false;
		n = 0;
	}
	fleet_set_exits(&st->fleet, ev, (size_t)n);
}

/* The kind of the watched namespace of that inode, as the documents name it; NULL when gone. */
static const char *ns_kind(const struct fleet *fl, uint64_t inode)
{
	for (size_t i = 0; i < fl->count; i++)
		if (fl->members[i]->ns.inode == inode)
			return netns_kind_name(fl->members[i]->ns.kind);
	return NULL;
}

/* Each event once, to the journal and to the log findings --since reads, so the two agree. */
static void on_finding(const struct finding_entry *e, enum finding_event ev, void *arg)
{
	struct daemon_state *st = arg;

	if (ev == FINDING_EVENT_OPENED && e->f.cause > CAUSE_NONE && e->f.cause < CAUSE_COUNT)
		st->fleet.opened[e->f.cause]++;
	alert_emit(e, ev);
	if (finding_log_add(&st->events, e, ev, ns_kind(&st->fleet, e->f.netns_inode)) < 0 &&
	    st->events.lost == 1)
		log_warnx("out of memory for the finding event log; findings --since will miss events");
}

/* [metrics] textfile, rewritten each tick; a failure is logged when it starts and when it ends. */
static void write_textfile(struct daemon_state *st)
{
	const char *path = st->fleet.cfg.metrics_textfile;
	int r;

	if (!path[0]) {
		/* Turned off by a reload: a path set later starts with a clean slate. */
		st->textfile_failing = false;
		return;
	}
	r = metrics_textfile(&st->fleet, path);
	if (r < 0 && !st->textfile_failing) {
		errno = -r;
		log_warn("cannot write the metrics to %s (said once until it works again)", path);
	} else if (r == 0 && st->textfile_failing) {
		log_info("metrics written to %s again", path);
	}
	st->textfile_failing = r < 0;
}

/* Listeners and active findings over every namespace, for STATUS=. */
static void fleet_counts(const struct fleet *fl, size_t *listeners, size_t *active)
{
	size_t i;

	*listeners = *active = 0;
	for (i = 0; i < fl->count; i++) {
		*listeners += fl->members[i]->mon.track.count;
		*active += findings_active(&fl->members[i]->mon.findings);
	}
}

/*
 * The unit's status line, told to systemd after every tick: a tick's end
 * is what a watcher of the notify socket waits for (bench/detect counts
 * ticks by it). Without systemd there is no socket, and nothing is made.
 */
static void notify_status(struct daemon_state *st, size_t listeners, size_t active, bool failed)
{
	char line[128];

	if (!st->notify)
		return;
	snprintf(line, sizeof(line), "STATUS=%zu listeners in %zu namespace%s, %zu active findings%s",
		 listeners, st->fleet.count, st->fleet.count == 1 ? "" : "s", active,
		 failed ? ", last tick failed" : "");
	sd_notify(0, line);
}

/* Replies shared by control clients are good only until what they show changes. */
static void state_changed(struct daemon_state *st)
{
	ctl_share_replies(st->ctl, ++st->state_generation);
}

static void do_tick(struct daemon_state *st)
{
	struct monitor *m = fleet_host(&st->fleet);
	size_t listeners, active;
	uint64_t started_us;
	int r;

	read_exits(st);
	drop_feed_read(&st->drops, &st->fleet);
	started_us = clock_mono_us();
	st->tick_mono_ms = (int64_t)(started_us / 1000u);
	r = fleet_tick(&st->fleet, clock_wall_ms(), on_finding, st);
	st->fleet.tick_us = (int64_t)(clock_mono_us() - started_us);
	drop_feed_sync(&st->drops, &st->fleet);
	m->bpf = st->drops.report;
	state_changed(st);
	if (st->httpd)
		httpd_tick(st->httpd, ++st->ticks);
	write_textfile(st);
	if (r < 0) {
		errno = -r;
		/* A failed tick keeps the previous state; say so once per run of failures. */
		if ((m->failed_ticks == 1 || m->failed_ticks % 60 == 0) && m->last_error_detail[0])
			log_warnx("tick failed (%lu so far): %s; kernel says: %s", m->failed_ticks,
				  strerror(-r), m->last_error_detail);
		else if (m->failed_ticks == 1 || m->failed_ticks % 60 == 0)
			log_warn("tick failed (%lu so far)", m->failed_ticks);
	}
	fleet_counts(&st->fleet, &listeners, &active);
	if (!st->ready_sent) {
		sd_notify(0, "READY=1");
		st->ready_sent = true;
		log_info("ready: watching %zu listeners in %zu network namespace%s, control socket %s",
			 listeners, st->fleet.count, st->fleet.count == 1 ? "" : "s", m->cfg.socket_path);
	}
	arm_fast(st, fleet_hot(&st->fleet) > 0);
	notify_status(st, listeners, active, r < 0);
}

/*
 * Pet the watchdog from the loop, not from the tick: the tick interval may
 * be longer than WatchdogSec, and what systemd should learn is that the loop
 * still turns. Every half period, as sd_watchdog_enabled(3) advises.
 */
static void watchdog_pet(struct daemon_state *st)
{
	uint64_t now;

	if (!st->watchdog_usec)
		return;
	now = clock_mono_us();
	if (now - st->watchdog_last_us >= st->watchdog_usec / 2) {
		sd_notify(0, "WATCHDOG=1");
		st->watchdog_last_us = now;
	}
}

/* Return: the epoll timeout that keeps watchdog_pet on time, -1 without a watchdog. */
static int loop_timeout_ms(const struct daemon_state *st)
{
	uint64_t ms;

	if (!st->watchdog_usec)
		return -1;
	ms = st->watchdog_usec / 2000u;
	if (ms == 0)
		return 1;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void do_reload(struct daemon_state *st)
{
	struct config cfg;
	char err[512];
	bool from_file;

	if (load_config(&st->opt, &cfg, &from_file, err, sizeof(err)) < 0) {
		log_warnx("reload: keeping the old configuration: %s", err);
		return;
	}
	if (strcmp(cfg.socket_path, st->fleet.cfg.socket_path)) {
		log_warnx("reload: the control socket path changes only on restart; keeping %s",
			  st->fleet.cfg.socket_path);
		snprintf(cfg.socket_path, sizeof(cfg.socket_path), "%s", st->fleet.cfg.socket_path);
	}
	if (cfg.tick_ms != st->fleet.cfg.tick_ms && arm_timer(st->timer_fd, cfg.tick_ms) < 0) {
		log_warn("reload: cannot change the interval; keeping the old configuration");
		return;
	}
	if (cfg.namespaces != st->fleet.cfg.namespaces)
		log_warnx("reload: namespaces = changes only on restart");
	if (!config_listen_same(&cfg.metrics_listen, &st->fleet.cfg.metrics_listen)) {
		log_warnx("reload: [metrics] listen changes only on restart");
		cfg.metrics_listen = st->fleet.cfg.metrics_listen;
	}
	fleet_set_config(&st->fleet, &cfg);
	state_changed(st);
	/* A new fast_interval takes effect at once: stop the timer, then arm it anew. */
	st->fast_armed = true;
	arm_fast(st, false);
	arm_fast(st, fleet_hot(&st->fleet) > 0);
	if (from_file)
		log_info("reloaded %s", st->opt.config_path);
	else
		log_info("reloaded: no %s, using the defaults", st->opt.config_path);
}

/* A scrape waits: render once for this tick, on this thread, which owns the fleet. */
static void serve_scrape(struct daemon_state *st)
{
	size_t len = 0;
	char *text;

	if (!httpd_render_wanted(st->httpd, st->ticks))
		return;
	text = metrics_text(&st->fleet, &len);
	log_debug("metrics rendered for tick %llu (%zu bytes)", (unsigned long long)st->ticks, len);
	httpd_publish(st->httpd, text, len, st->ticks);
}

/* Return: true to keep running. */
static bool handle_signals(struct daemon_state *st)
{
	struct signalfd_siginfo si;

	while (read(st->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			do_reload(st);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("exiting on signal %u", si.ssi_signo);
			return false;
		default:
			break;
		}
	}
	return true;
}

/* Add fd to ep for reading; a loop that cannot hear one of its sources cannot run. */
static void watch_fd(int ep, int fd, const char *what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		fatal("epoll_ctl %s", what);
}

/* The loop's epoll set: the tick, signals, fast samples, control clients and the optional sources. */
static int loop_open(struct daemon_state *st)
{
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		fatal("epoll_create1");
	watch_fd(ep, st->timer_fd, "timerfd");
	watch_fd(ep, st->signal_fd, "signalfd");
	watch_fd(ep, st->fast_fd, "fast timerfd");
	watch_fd(ep, ctl_fd(st->ctl), "control socket");
	if (st->kmsg)
		watch_fd(ep, kmsg_fd(st->kmsg), "kernel log");
	if (st->httpd)
		watch_fd(ep, httpd_fd(st->httpd), "metrics endpoint");
	if (drop_feed_fd(&st->drops) >= 0)
		watch_fd(ep, drop_feed_fd(&st->drops), "eBPF ring buffer");
	return ep;
}

/*
 * The tier's events, and a tick at once when they open an overflow: the
 * finding is made by the same rules, milliseconds after the first drop. At
 * most one such tick between two of the timer's, none within 100 ms of
 * another, so a flood of new endpoints costs at most twice the ticks.
 */
static void read_drops(struct daemon_state *st)
{
	if (drop_feed_read(&st->drops, &st->fleet) == 0 || st->early_ticked)
		return;
	if (clock_mono_ms() - st->tick_mono_ms < 100)
		return;
	st->early_ticked = true;
	st->drops.report.event_ticks++;
	do_tick(st);
}

static int run(struct daemon_state *st)
{
	struct epoll_event ev, events[8];
	bool running = true, ctl_done;
	int ep, i, n;

	ep = loop_open(st);
	while (running) {
		n = epoll_wait(ep, events, 8, loop_timeout_ms(st));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		watchdog_pet(st);
		/* The tick first: a control reply built in this turn must not push it back. */
		for (i = 1; i < n; i++) {
			if (events[i].data.fd == st->timer_fd) {
				ev = events[0];
				events[0] = events[i];
				events[i] = ev;
				break;
			}
		}
		/* One pass over the control socket a turn: it builds at most one big reply a pass. */
		ctl_done = false;
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == st->timer_fd) {
				uint64_t expirations;

				/* Ticks missed while busy are not made up: one tick now. */
				if (read(fd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations)) {
					st->early_ticked = false;
					do_tick(st);
				}
				/* Expire idle control clients at least once a tick. */
				ctl_dispatch(st->ctl);
				ctl_done = true;
			} else if (fd == st->fast_fd) {
				uint64_t expirations;

				if (read(fd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations))
				{
					arm_fast(st, fleet_fast_sample(&st->fleet) > 0);
					state_changed(st);
				}
			} else if (fd == st->signal_fd) {
				running = handle_signals(st);
			} else if (st->httpd && fd == httpd_fd(st->httpd)) {
				serve_scrape(st);
			} else if (st->kmsg && fd == kmsg_fd(st->kmsg)) {
				int kfd = fd;

				read_kmsg(st);
				if (!st->kmsg)
					epoll_ctl(ep, EPOLL_CTL_DEL, kfd, NULL);
			} else if (fd == drop_feed_fd(&st->drops)) {
				read_drops(st);
			} else if (!ctl_done) {
				ctl_dispatch(st->ctl);
				ctl_done = true;
			}
		}
	}
	close(ep);
	return 0;
}

/*
 * -m / [metrics] listen. Called after sigprocmask: the HTTP thread inherits
 * the blocked signals and never takes them. A socket that cannot listen is
 * fatal: a scraper would otherwise find nothing and no one would know why.
 */
static void start_metrics(struct daemon_state *st, const struct config_listen *where)
{
	char err[512], text[64];

	if (!where->on)
		return;
	if (httpd_start(&st->httpd, where, err, sizeof(err)) < 0)
		fatalx("%s", err);
	config_listen_text(where, text, sizeof(text));
	log_info("serving the metrics on http://%s/metrics", text);
}

/*
 * Every watched network namespace keeps a few descriptors open (its
 * netlink sockets and sysctl files): a host with hundreds of containers
 * needs more than the usual soft limit of 1024. Nothing here uses select().
 */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_debug("cannot raise the open-file limit: %s", strerror(errno));
	}
}

/*
 * A deep run over 400,000 sockets needs megabytes for a moment, and they
 * are freed after it (deep_sample_trim). glibc raises its mmap threshold
 * to the size of the first such block freed, after which blocks that big
 * come from the heap and stay in the RSS: a fixed threshold keeps every
 * big block mmap()ed, so it goes back to the kernel when freed.
 */
static void malloc_tune(void)
{
	if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1)
		log_debug("mallopt(M_MMAP_THRESHOLD) refused");
}

/* The kernel log and process exits: each a source of causes the counters cannot name, neither required. */
static void follow_kernel_events(struct daemon_state *st)
{
	int r;

	r = kmsg_open(&st->kmsg, st->opt.kmsg_path ? st->opt.kmsg_path : "/dev/kmsg");
	if (r < 0) {
		errno = -r;
		if (st->opt.kmsg_path)
			fatal("cannot follow the kernel log %s", st->opt.kmsg_path);
		/* SYN-flood, conntrack, memory and orphan lines then go unseen; the counters remain. */
		log_warn("cannot follow /dev/kmsg; kernel log lines will not be used");
		st->kmsg = NULL;
	}
	fleet_host(&st->fleet)->kmsg_following = st->kmsg != NULL;
	/*
	 * Exits tell a crash from a restart when the kernel logged nothing (a
	 * kill -9, an abort, a non-zero exit). The connector is the host's, in
	 * its first network namespace, and wants CAP_NET_ADMIN; without it, gaps are
	 * told as before. Not with -P: a replay has no processes.
	 */
	if (has_cap(CAP_NET_ADMIN) && strcmp(st->opt.proc_root, "/proc") == 0) {
		r = procexit_open(&st->pexit, st->opt.exits_netns);
		if (r < 0) {
			errno = -r;
			log_warn("cannot follow process exits; a kill -9 or a non-zero exit will read as a restart");
			st->pexit = NULL;
		}
	}
	fleet_host(&st->fleet)->proc_events = st->pexit != NULL;
}

/*
 * The eBPF tier, as [daemon] bpf says; not with -P, whose files are a
 * recording: the kernel's events would be of another host.
 */
static void follow_drops(struct daemon_state *st, enum config_bpf mode)
{
	bool replay = strcmp(st->opt.proc_root, "/proc") != 0;

	if (drop_feed_open(&st->drops, replay ? CONFIG_BPF_NO : mode) < 0)
		fatalx("[daemon] bpf = yes, but the eBPF tier cannot run: %s", st->drops.report.why);
	if (replay)
		snprintf(st->drops.report.why, sizeof(st->drops.report.why), "off with -P (a replay)");
	fleet_host(&st->fleet)->bpf = st->drops.report;
}

int main(int argc, char **argv)
{
	struct daemon_state st = { .timer_fd = -1, .fast_fd = -1, .signal_fd = -1 };
	struct config cfg;
	char err[512];
	bool from_file;
	sigset_t mask;
	int r;

	parse_args(argc, argv, &st.opt);
	log_init(st.opt.verbose, false);

	if (load_config(&st.opt, &cfg, &from_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "backlogd: %s\n", err);
		return 1;
	}
	if (st.opt.check_only) {
		if (from_file)
			printf("%s: configuration OK\n", st.opt.config_path);
		else
			printf("no %s: the defaults apply\n", st.opt.config_path);
		return 0;
	}
	alert_init(st.opt.foreground);
	raise_nofile_limit();
	malloc_tune();

	/* Signals arrive through the signalfd only; a dead control client must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	st.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (st.signal_fd < 0)
		fatal("signalfd");
	st.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (st.timer_fd < 0)
		fatal("timerfd_create");
	st.fast_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (st.fast_fd < 0)
		fatal("timerfd_create");

	r = fleet_init(&st.fleet, &cfg, st.opt.proc_root, "/run/netns", scan_namespaces(&st.opt, &cfg));
	if (r < 0) {
		errno = -r;
		fatal("cannot open the sock_diag netlink socket");
	}
	finding_log_init(&st.events, FINDING_LOG_CAPACITY, (int64_t)time(NULL));
	st.fleet.log = &st.events;
	r = ctl_open(&st.ctl, cfg.socket_path, cfg.client_timeout_ms, commands_answer, &st.fleet);
	if (r < 0) {
		errno = -r;
		fatal("cannot listen on %s", cfg.socket_path);
	}
	start_metrics(&st, &cfg.metrics_listen);
	follow_kernel_events(&st);
	follow_drops(&st, cfg.bpf);
	/* sd_notify reads it at every call; a tick need not format a line nobody hears. */
	st.notify = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &st.watchdog_usec) <= 0)
		st.watchdog_usec = 0;
	if (arm_timer(st.timer_fd, cfg.tick_ms) < 0)
		fatal("timerfd_settime");

	run(&st);

	sd_notify(0, "STOPPING=1");
	httpd_stop(st.httpd);
	ctl_close(st.ctl);
	if (st.kmsg)
		kmsg_close(st.kmsg);
	procexit_close(st.pexit);
	drop_feed_close(&st.drops);
	fleet_done(&st.fleet);
	finding_log_free(&st.events);
	close(st.timer_fd);
	close(st.fast_fd);
	close(st.signal_fd);
	return 0;
}
