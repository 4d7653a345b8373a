/* test_metrics.c: the Prometheus exposition (daemon/report/metrics.c) of a hand-built fleet: names, types, escaping, no duplicate series. */
#include "base.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "findings.h"
#include "fleet.h"
#include "metrics.h"
#include "monitor.h"
#include "netns.h"
#include "netstat.h"
#include "track.h"
#include "tick_fixture.h"
#include "owner_fixture.h"

/*
 * The fleet:
 *   host (ready)   127.0.0.1:8080 cookie 100, backlog 8, queue 9 and drops 10 -> 15,
 *                  held by a process whose comm is hostile: quote, backslash,
 *                  newline, an ESC and a byte that is not UTF-8;
 *                  0.0.0.0:9000 cookies 200 and 201: one SO_REUSEPORT group.
 *                  Findings: backlog-small active on 127.0.0.1:8080, overflow-reset
 *                  active on "host" as its side effect, one resolved.
 *   docker:abc     a container, [::]:80 cookie 300 held by "app", somaxconn unknown.
 *   pid 9 (x)      not ready: shows nothing.
 */
#define T0_MS 1000000
#define T1_MS 1002000
#define HOSTILE_COMM "a\"b\\c\nd\x1b\xff"

static struct fleet fl;
static struct fleet_member fm[3];
static struct fleet_member *members[3];

static void add_listener(struct listener_set *set, uint64_t cookie, int family, const char *addr,
			 uint16_t port, uint32_t queue, uint32_t backlog, uint32_t drops)
{
	struct listener *l = listener_set_add(set);

	cr_assert_not_null(l);
	l->cookie = cookie;
	l->inode = (uint32_t)(7000 + cookie);
	l->family = (uint8_t)family;
	l->port = port;
	l->queue = queue;
	l->backlog = backlog;
	l->drops = drops;
	l->has_drops = true;
	cr_assert_eq(inet_pton(family, addr, l->addr), 1);
}

static void tick(struct monitor *mon, struct listener_set *set, const char *netstat, const struct limits *lim,
		 int64_t now_ms)
{
	struct counters c;

	counters_init(&c);
	cr_assert_eq(netstat_parse(netstat, strlen(netstat), &c), 0);
	cr_assert_eq(tick_listeners(&mon->track, set, &c, lim, now_ms), 0);
	counters_free(&c);
}

static void set_owner(struct monitor *mon, uint64_t cookie, int pid, const char *comm, const char *unit)
{
	struct tracked *tr = track_find(&mon->track, cookie);
	struct owner *ow;

	cr_assert_not_null(tr);
	ow = owner_mut(tr);
	ow->nprocs = ow->nprocs_total = 1;
	ow->procs[0].pid = pid;
	snprintf(ow->procs[0].comm, sizeof(ow->procs[0].comm), "%s", comm);
	snprintf(ow->unit, sizeof(ow->unit), "%s", unit);
}

static struct finding_entry *add_entry(struct monitor *mon, enum cause cause, const char *key,
				       enum finding_state state)
{
	struct finding_table *ft = &mon->findings;
	struct finding_entry *e;

	ft->items = realloc(ft->items, (ft->count + 1) * sizeof(*ft->items));
	cr_assert_not_null(ft->items);
	e = &ft->items[ft->count++];
	memset(e, 0, sizeof(*e));
	e->f.cause = e->f.underlying = cause;
	e->f.priority = LOG_WARNING;
	snprintf(e->f.listener, sizeof(e->f.listener), "%s", key);
	e->state = state;
	return e;
}

static void member(struct fleet_member *m, uint64_t inode, enum netns_kind kind, const char *name, bool ready)
{
	m->ns.inode = inode;
	m->ns.kind = kind;
	snprintf(m->ns.name, sizeof(m->ns.name), "%s", name);
	m->nsfd = -1;
	m->ready = ready;
	m->mon.netns_inode = inode;
	track_init(&m->mon.track);
	findings_init(&m->mon.findings, 8);
}

static void setup_host(struct monitor *mon)
{
	struct listener_set set;
	struct limits lim;
	struct finding_entry *e;

	limits_unknown(&lim);
	lim.somaxconn = 4096;
	lim.tcp_max_syn_backlog = 512;
	listener_set_init(&set);
	add_listener(&set, 100, AF_INET, "127.0.0.1", 8080, 0, 8, 10);
	add_listener(&set, 200, AF_INET, "0.0.0.0", 9000, 0, 128, 0);
	add_listener(&set, 201, AF_INET, "0.0.0.0", 9000, 0, 128, 0);
	tick(mon, &set, "TcpExt: ListenOverflows TCPReqQFullDrop\nTcpExt: 10 0\n", &lim, T0_MS);
	listener_set_clear(&set);
	add_listener(&set, 100, AF_INET, "127.0.0.1", 8080, 9, 8, 15);
	add_listener(&set, 200, AF_INET, "0.0.0.0", 9000, 0, 128, 0);
	add_listener(&set, 201, AF_INET, "0.0.0.0", 9000, 0, 128, 0);
	tick(mon, &set, "TcpExt: ListenOverflows TCPReqQFullDrop\nTcpExt: 15 0\n", &lim, T1_MS);
	listener_set_free(&set);
	mon->limits = lim;
	mon->deep_runs = 3;
	set_owner(mon, 100, 812, HOSTILE_COMM, "web.service");
	add_entry(mon, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", FINDING_ACTIVE);
	e = add_entry(mon, CAUSE_OVERFLOW_RESET, "host", FINDING_ACTIVE);
	e->f.explained_by = CAUSE_BACKLOG_SMALL;
	e->f.priority = LOG_ERR;
	add_entry(mon, CAUSE_SYN_FLOOD, "127.0.0.1:8080", FINDING_RESOLVED);
}

static void setup_container(struct monitor *mon)
{
	struct listener_set set;
	struct limits lim;

	limits_unknown(&lim);
	listener_set_init(&set);
	add_listener(&set, 300, AF_INET6, "::", 80, 1, 4096, 2);
	tick(mon, &set, "TcpExt: ListenOverflows\nTcpExt: 2\n", &lim, T1_MS);
	listener_set_free(&set);
	mon->limits = lim;
	mon->last_error = -EPERM;
	mon->failed_ticks = 2;
	set_owner(mon, 300, 55, "app", "");
}

static void setup(void)
{
	memset(&fl, 0, sizeof(fl));
	memset(fm, 0, sizeof(fm));
	member(&fm[0], 4026531840ULL, NETNS_HOST, "host", true);
	member(&fm[1], 4026532000ULL, NETNS_CONTAINER, "docker:abc", true);
	member(&fm[2], 4026532100ULL, NETNS_PROCESS, "pid 9 (x)", false);
	setup_host(&fm[0].mon);
	setup_container(&fm[1].mon);
	for (size_t i = 0; i < 3; i++)
		members[i] = &fm[i];
	fl.members = members;
	fl.count = fl.cap = 3;
	fl.tick_us = 2500;
	fl.cfg.tick_ms = 1500;
	fl.opened[CAUSE_BACKLOG_SMALL] = 4;
}

static void teardown(void)
{
	for (size_t i = 0; i < 3; i++) {
		track_free(&fm[i].mon.track);
		findings_free(&fm[i].mon.findings);
	}
}

TestSuite(metrics, .init = setup, .fini = teardown);

static char *exposition(void)
{
	size_t len;
	char *text = metrics_text(&fl, &len);

	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	cr_assert(len > 0 && text[len - 1] == '\n', "the exposition ends with a newline");
	return text;
}

/* Whether text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

Test(metrics, listener_series)
{
	char *t = exposition();

	cr_assert(has_line(t, "# TYPE backlogd_listener_accept_queue_length gauge"));
	cr_assert(has_line(t, "# TYPE backlogd_listener_drops_total counter"));
	cr_assert(has_line(t, "backlogd_listener_accept_queue_length{netns=\"host\",listener=\"127.0.0.1:8080\","
			      "port=\"8080\",inode=\"7100\"} 9"), "%s", t);
	cr_assert(has_line(t, "backlogd_listener_accept_queue_limit{netns=\"host\",listener=\"127.0.0.1:8080\","
			      "port=\"8080\",inode=\"7100\"} 8"));
	cr_assert(has_line(t, "backlogd_listener_accept_queue_peak{netns=\"host\",listener=\"127.0.0.1:8080\","
			      "port=\"8080\",inode=\"7100\"} 9"));
	/* Drops since first seen: 15 - 10. */
	cr_assert(has_line(t, "backlogd_listener_drops_total{netns=\"host\",listener=\"127.0.0.1:8080\","
			      "port=\"8080\",inode=\"7100\"} 5"));
	cr_assert(has_line(t, "backlogd_listener_info{netns=\"docker:abc\",listener=\"[::]:80\",port=\"80\","
			      "inode=\"7300\",comm=\"app\",pid=\"55\",unit=\"\",container=\"docker:abc\"} 1"), "%s", t);
	/* The SO_REUSEPORT pair: two series told apart by inode. */
	cr_assert_eq(count_prefix(t, "backlogd_listener_accept_queue_limit{netns=\"host\",listener=\"0.0.0.0:9000\""), 2);
	/* The namespace not ready yet has nothing. */
	cr_assert_null(strstr(t, "pid 9"));
	free(t);
}

Test(metrics, hostile_comm_escaped)
{
	char *t = exposition();

	/* Quote, backslash and newline escaped; the ESC and the stray byte made '?'. */
	cr_assert(has_line(t, "backlogd_listener_info{netns=\"host\",listener=\"127.0.0.1:8080\",port=\"8080\","
			      "inode=\"7100\",comm=\"a\\\"b\\\\c\\nd??\",pid=\"812\",unit=\"web.service\","
			      "container=\"\"} 1"), "%s", t);
	cr_assert_null(strchr(t, '\x1b'));
	cr_assert_null(strchr(t, '\xff'));
	free(t);
}

Test(metrics, findings)
{
	char *t = exposition();

	cr_assert(has_line(t, "# TYPE backlogd_finding_active gauge"));
	cr_assert(has_line(t, "backlogd_finding_active{cause=\"backlog-small\",severity=\"warning\","
			      "subject=\"127.0.0.1:8080\",netns=\"host\",role=\"cause\"} 1"), "%s", t);
	cr_assert(has_line(t, "backlogd_finding_active{cause=\"overflow-reset\",severity=\"err\","
			      "subject=\"host\",netns=\"host\",role=\"side-effect\"} 1"));
	/* The resolved one is not active. */
	cr_assert_null(strstr(t, "backlogd_finding_active{cause=\"syn-flood\""));
	cr_assert(has_line(t, "# TYPE backlogd_findings_opened_total counter"));
	cr_assert(has_line(t, "backlogd_findings_opened_total{cause=\"backlog-small\"} 4"));
	cr_assert(has_line(t, "backlogd_findings_opened_total{cause=\"syn-flood\"} 0"));
	cr_assert_null(strstr(t, "cause=\"unknown\""));
	free(t);
}

Test(metrics, host_counters_limits_self)
{
	char *t = exposition();

	cr_assert(has_line(t, "# TYPE backlogd_netstat_tcp_ext_listen_overflows_total counter"), "%s", t);
	cr_assert(has_line(t, "backlogd_netstat_tcp_ext_listen_overflows_total{netns=\"host\"} 15"));
	cr_assert(has_line(t, "backlogd_netstat_tcp_ext_listen_overflows_total{netns=\"docker:abc\"} 2"));
	cr_assert(has_line(t, "backlogd_netstat_tcp_ext_tcp_req_q_full_drop_total{netns=\"host\"} 0"));
	cr_assert(has_line(t, "backlogd_limit_somaxconn{netns=\"host\"} 4096"));
	/* A limit not read is left out, not shown as 0 or -1. */
	cr_assert_null(strstr(t, "backlogd_limit_somaxconn{netns=\"docker:abc\"}"));
	cr_assert_null(strstr(t, "} -1\n"));
	cr_assert(has_line(t, "backlogd_build_info{version=\"" PACKAGE_VERSION "\"} 1"));
	cr_assert(has_line(t, "backlogd_tick_duration_seconds 0.002500"));
	cr_assert(has_line(t, "backlogd_namespaces_watched 2"));
	cr_assert(has_line(t, "backlogd_tick_failing{netns=\"docker:abc\"} 1"));
	cr_assert(has_line(t, "backlogd_tick_failing{netns=\"host\"} 0"));
	cr_assert(has_line(t, "backlogd_tick_failures_total{netns=\"docker:abc\"} 2"));
	cr_assert(has_line(t, "backlogd_deep_runs_total{netns=\"host\"} 3"));
	cr_assert(has_line(t, "backlogd_tick_interval_seconds 1.500"));
	/* Why a tick fails, only for the namespace that fails. */
	cr_assert(has_line(t, "backlogd_tick_error_info{netns=\"docker:abc\",error=\"Operation not permitted\"} 1"), "%s", t);
	cr_assert_null(strstr(t, "backlogd_tick_error_info{netns=\"host\""));
	free(t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The format's rules a scraper enforces: every sample under its family's
 * HELP and TYPE, a family in one block, no series twice, names in
 * [a-zA-Z_:][a-zA-Z0-9_:]*, no timestamp (name{labels} value, nothing after).
 */
Test(metrics, well_formed_no_duplicates)
{
	char *t = exposition();
	char *series[512], *families[128];
	size_t ns = 0, nf = 0;
	char current[128] = "";

	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];
		size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");

		if (strncmp(line, "# HELP ", 7) == 0) {
			cr_assert_lt(nf, ARRAY_SIZE(families));
			sscanf(line + 7, "%127s", current);
			families[nf++] = strdup(current);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			cr_assert_eq(strncmp(line + 7, current, strlen(current)), 0, "TYPE without HELP: %s", line);
			continue;
		}
		cr_assert(n > 0 && !(line[0] >= '0' && line[0] <= '9'), "bad name: %s", line);
		snprintf(name, sizeof(name), "%.*s", (int)n, line);
		cr_assert_str_eq(name, current, "a sample outside its family's block: %s", line);
		cr_assert(line[n] == '{' || line[n] == ' ', "%s", line);
		/* One space, then the value, then the end of the line. */
		cr_assert_null(strchr(strrchr(line, ' ') + 1, ' '));
		cr_assert_eq(strchr(line[n] == '{' ? strrchr(line, '}') : line, ' '), strrchr(line, ' '),
			     "a timestamp or stray field: %s", line);
		cr_assert_lt(ns, ARRAY_SIZE(series));
		series[ns] = strndup(line, (size_t)(strrchr(line, ' ') - line));
		ns++;
	}
	qsort(series, ns, sizeof(*series), cmp_str);
	for (size_t i = 1; i < ns; i++)
		cr_assert_str_neq(series[i - 1], series[i], "duplicate series %s", series[i]);
	qsort(families, nf, sizeof(*families), cmp_str);
	for (size_t i = 1; i < nf; i++)
		cr_assert_str_neq(families[i - 1], families[i], "family %s in two blocks", families[i]);
	cr_assert_gt(ns, 40);
	for (size_t i = 0; i < ns; i++)
		free(series[i]);
	for (size_t i = 0; i < nf; i++)
		free(families[i]);
	free(t);
}

Test(metrics, textfile_atomic)
{
	char dir[] = "/tmp/test_metrics.XXXXXX";
	char path[64], tmp[80], *want, *got;
	size_t len;
	FILE *f;
	long size;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/backlogd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_eq(metrics_textfile(&fl, path), 0);
	want = metrics_text(&fl, &len);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	got = calloc(1, (size_t)size + 1);
	cr_assert_eq(fread(got, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	cr_assert_str_eq(got, want);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is left behind");
	/* A directory that is not there: an error, and nothing half-written. */
	snprintf(path, sizeof(path), "%s/gone/backlogd.prom", dir);
	cr_assert_eq(metrics_textfile(&fl, path), -ENOENT);
	snprintf(tmp, sizeof(tmp), "%s/backlogd.prom", dir);
	unlink(tmp);
	rmdir(dir);
	free(want);
	free(got);
}
