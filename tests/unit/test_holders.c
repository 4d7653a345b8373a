/* test_holders.c: a pre-fork server's findings name the worker that accepts (stopped, it is said so), never the master that only holds the socket. */
#include "base.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "diagnose.h"
#include "finding_text.h"
#include "monitor.h"
#include "ownertab.h"
#include "sysctl.h"
#include "track.h"
#include "owner_fixture.h"

/* Listeners on *:8080 driven tick by tick as the monitor would, each with its owner and the state read for it. */
struct scen {
	struct track t;
	struct finding_list out;
	struct diag_thresholds thr;
	struct limits lim;
	struct listener l[3];
	size_t nl;
	char states[3];             /* what the monitor read for each listener's acceptor */
	int64_t overflows;
	int64_t now_ms;
};

static void scen_init(struct scen *s, size_t nl, uint32_t backlog)
{
	memset(s, 0, sizeof(*s));
	track_init(&s->t);
	finding_list_init(&s->out);
	diag_thresholds_default(&s->thr);
	s->lim.somaxconn = 4096;
	s->lim.tcp_max_syn_backlog = 512;
	s->lim.tcp_syncookies = 1;
	s->nl = nl;
	for (size_t i = 0; i < nl; i++) {
		s->l[i].cookie = 0xa0 + i;
		s->l[i].inode = (uint32_t)(4000 + i);
		s->l[i].family = AF_INET;
		s->l[i].port = 8080;
		s->l[i].backlog = backlog;
		s->l[i].has_drops = true;
	}
	s->overflows = 1000;
	s->now_ms = 1000000;
}

static void scen_free(struct scen *s)
{
	track_free(&s->t);
	finding_list_free(&s->out);
}

/* One holder of listener i: ppid 0 for a master; polls when its epoll set watches the socket. */
static void holder(struct scen *s, size_t i, int pid, int ppid, char state, bool polls)
{
	struct tracked *tr = track_find(&s->t, s->l[i].cookie);
	struct owner *o;
	struct owner_proc *p;

	cr_assert_not_null(tr, "tick once before setting the owner");
	o = owner_mut(tr);
	cr_assert_lt(o->nprocs, OWNER_MAX_PROCS);
	p = &o->procs[o->nprocs++];
	o->nprocs_total = o->nprocs;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->state = state;
	p->polls = polls;
	p->uid = -1;
	snprintf(p->comm, sizeof(p->comm), "nginx");
	snprintf(o->unit, sizeof(o->unit), "nginx.service");
}

/* One tick: listener i has queue[i] and drops[i] more drops; the host's ListenOverflows moves by their sum. */
static size_t tick(struct scen *s, const uint32_t *queue, const uint32_t *drops)
{
	struct tick_sample sample = { 0 };
	struct counters host = { 0 };
	struct listener_set set = { 0 };
	struct counter c = { 0 };

	for (size_t i = 0; i < s->nl; i++) {
		s->l[i].queue = queue[i];
		s->l[i].drops += drops[i];
		s->overflows += drops[i];
	}
	snprintf(c.name, sizeof(c.name), "TcpExt.ListenOverflows");
	c.value = s->overflows;
	host.items = &c;
	host.count = 1;
	host.cap = 1;
	set.items = s->l;
	set.count = s->nl;
	set.cap = s->nl;
	s->now_ms += 1000;
	sample.listeners = &set;
	sample.counters = &host;
	sample.limits = &s->lim;
	sample.owner_states = s->states;
	cr_assert_eq(track_tick(&s->t, &sample, s->now_ms), 0);
	cr_assert_eq(diagnose(&s->t, &s->thr, &s->out), 0);
	return s->out.count;
}

static const struct finding *find(const struct scen *s, enum cause cause)
{
	for (size_t i = 0; i < s->out.count; i++)
		if (s->out.items[i].cause == cause)
			return &s->out.items[i];
	cr_assert_fail("no finding of cause %d among %zu", cause, s->out.count);
	return NULL;
}

static bool has(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

/* The master (4300) polls nothing; its worker 4312 polls the socket and is stopped. */
Test(holders, stopped_worker_named_not_master)
{
	static const uint32_t idle[] = { 0 }, full[] = { 9 }, drops[] = { 4 }, none[] = { 0 };
	struct finding_words w;
	const struct finding *f;
	struct scen s;

	scen_init(&s, 1, 8);
	tick(&s, idle, none);
	holder(&s, 0, 4300, 1, 'S', false);
	holder(&s, 0, 4312, 4300, 'T', true);
	/* The monitor reads the acceptor's state this tick: T. */
	s.states[0] = 'T';
	cr_assert_geq(tick(&s, full, drops), 1);
	f = find(&s, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->pid, 4312, "the worker, not the master: %d", f->pid);
	cr_assert_str_eq(f->subject, "0.0.0.0:8080 nginx[4312] (worker of nginx[4300]) nginx.service");
	finding_words(f, &w);
	cr_assert(has(w.message, "nginx[4312] (worker of nginx[4300]) is stopped (state T)"), "%s",
		  w.message);
	cr_assert_not(has(w.message, "nginx[4300] is"), "%s", w.message);
	scen_free(&s);
}

/* The look-alike: a single-process server (it holds and accepts) is named as it is, with no "worker of". */
Test(holders, single_process_named_as_itself)
{
	static const uint32_t idle[] = { 0 }, full[] = { 9 }, drops[] = { 4 }, none[] = { 0 };
	const struct finding *f;
	struct scen s;

	scen_init(&s, 1, 8);
	tick(&s, idle, none);
	holder(&s, 0, 700, 1, 'S', true);
	s.states[0] = 'T';
	cr_assert_geq(tick(&s, full, drops), 1);
	f = find(&s, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->pid, 700);
	cr_assert_str_eq(f->subject, "0.0.0.0:8080 nginx[700] nginx.service");
	scen_free(&s);
}

/*
 * nginx `listen ... reuseport`: the master and every worker hold every
 * member, each worker polls only its own. The member that overflows names
 * its own worker (4312), not the master nor the first worker.
 */
Test(holders, reuseport_member_names_its_own_worker)
{
	static const uint32_t idle[] = { 0, 0, 0 }, q[] = { 1, 9, 2 }, drops[] = { 0, 5, 0 },
			      none[] = { 0, 0, 0 };
	const struct finding *f;
	struct scen s;

	scen_init(&s, 3, 8);
	tick(&s, idle, none);
	for (size_t i = 0; i < 3; i++) {
		holder(&s, i, 4300, 1, 'S', false);
		for (size_t k = 0; k < 3; k++)
			holder(&s, i, (int)(4311 + k), 4300, 'S', k == i);
	}
	cr_assert_geq(tick(&s, q, drops), 1);
	f = find(&s, CAUSE_REUSEPORT_IMBALANCE);
	cr_assert_eq(f->pid, 4312, "the member's own worker: %d", f->pid);
	cr_assert(has(f->subject, "nginx[4312] (worker of nginx[4300])"), "%s", f->subject);
	scen_free(&s);
}

/* owner_acceptor's ranking: polling > a child of another holder > the rest; stuck first among equals. */
Test(holders, acceptor_ranking)
{
	struct owner o = { .nprocs = 3, .nprocs_total = 3, .uid = -1 };

	o.procs[0] = (struct owner_proc){ .pid = 10, .ppid = 1, .state = 'S' };
	o.procs[1] = (struct owner_proc){ .pid = 11, .ppid = 10, .state = 'S' };
	o.procs[2] = (struct owner_proc){ .pid = 12, .ppid = 10, .state = 'D' };
	cr_assert_eq(owner_acceptor(&o)->pid, 12, "no one polls: a worker, the blocked one");
	o.procs[2].state = 'S';
	cr_assert_eq(owner_acceptor(&o)->pid, 11, "no one polls: the lowest worker");
	o.procs[0].polls = true;
	cr_assert_eq(owner_acceptor(&o)->pid, 10, "a holder polling the socket accepts, master or not");
	o.nprocs = 0;
	cr_assert_null(owner_acceptor(&o));
	cr_assert_null(owner_parent(&o, &o.procs[1]));
}

/*
 * tcp_mem and tcp_max_orphans exist only in the init namespace's
 * /proc/sys, yet limit every namespace: a namespace's monitor takes the
 * host monitor's instead of showing them unknown. The host's are the
 * recorded files of a real machine; the namespace's sys root has none.
 */
Test(host_wide_limits, namespace_takes_the_hosts)
{
	static struct monitor host, ns;
	char empty[] = "/tmp/backlogd-holders-XXXXXX";
	struct config cfg;

	cr_assert_not_null(mkdtemp(empty));
	config_defaults(&cfg);
	cfg.deep_every_ticks = 0;
	cr_assert_eq(monitor_init_ns(&host, &cfg, "/proc", FIXTURES "/integ/host-recorded"), 0);
	cr_assert_eq(monitor_init_ns(&ns, &cfg, "/proc", empty), 0);
	cr_assert_eq(monitor_tick(&host, 1000, NULL, NULL), 0);
	cr_assert_eq(monitor_tick(&ns, 1000, NULL, NULL), 0);
	cr_assert_gt(host.limits.tcp_mem[1], 0, "the recorded host files");
	cr_assert_eq(ns.limits.tcp_mem[1], SYSCTL_UNKNOWN, "without the host's: unknown");
	cr_assert_eq(ns.limits.tcp_max_orphans, SYSCTL_UNKNOWN);
	ns.host_limits = &host.limits;
	cr_assert_eq(monitor_tick(&ns, 2000, NULL, NULL), 0);
	cr_assert_eq(memcmp(ns.limits.tcp_mem, host.limits.tcp_mem, sizeof(ns.limits.tcp_mem)), 0);
	cr_assert_eq(ns.limits.tcp_max_orphans, host.limits.tcp_max_orphans);
	cr_assert_eq(ns.limits.somaxconn, SYSCTL_UNKNOWN, "a per-namespace sysctl is not the host's");
	monitor_done(&ns);
	monitor_done(&host);
	rmdir(empty);
}

/* Descriptors of this process open on a /proc/sys or /proc/.../net file. */
static int proc_files_open(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[300], link[256];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "/proc/sys/", 10) == 0 ||
		    (strncmp(link, "/proc/", 6) == 0 && strstr(link, "/net/")))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A monitor of another namespace keeps no /proc file open between ticks: a
 * kept file would pin the namespace after its processes are gone, and a
 * flood of namespaces would cost a dozen descriptors each. The host's
 * monitor keeps them (the control: it is what is being turned off).
 */
Test(monitor_files, namespace_monitor_keeps_none_open)
{
	static struct monitor host, ns;
	struct config cfg;

	config_defaults(&cfg);
	cfg.deep_every_ticks = 0;
	cr_assert_eq(proc_files_open(), 0);
	cr_assert_eq(monitor_init(&host, &cfg, "/proc"), 0);
	cr_assert_eq(monitor_tick(&host, 1000, NULL, NULL), 0);
	cr_assert_gt(proc_files_open(), 0, "the host's monitor keeps its files");
	monitor_done(&host);
	cr_assert_eq(proc_files_open(), 0);

	cr_assert_eq(monitor_init_ns(&ns, &cfg, "/proc", "/proc"), 0);
	cr_assert_eq(monitor_tick(&ns, 1000, NULL, NULL), 0);
	cr_assert_eq(monitor_tick(&ns, 2000, NULL, NULL), 0);
	cr_assert_eq(proc_files_open(), 0, "a namespace's monitor keeps none between ticks");
	cr_assert_gt(ns.limits.somaxconn, 0, "yet it read them");
	monitor_done(&ns);
}
