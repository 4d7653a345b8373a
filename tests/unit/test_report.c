/* test_report.c: the JSON documents scripts rely on (report.c) and the human renderer on odd input (render.c). */
#ifdef HAVE_CONFIG_H
#include "version.h"
#endif

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include <jansson.h>

#include "findings.h"
#include "monitor.h"
#include "netstat.h"
#include "render.h"
#include "report.h"
#include "track.h"

/*
 * The fixture: a monitor built by hand (no netlink), fed two ticks through
 * the real track_update so the documents see real deltas.
 *   127.0.0.1:8080  cookie 100, owned by nginx (2 shown of 3), overflowing
 *   [::1]:443       cookie 200, no SK_MEMINFO, no owner
 *   [::]:8080       cookie 300, wildcard, idle
 */
#define T0_MS 1000000
#define T1_MS 1002000

static struct monitor m;

static void add_listener(struct listener_set *set, uint64_t cookie, int family, const char *addr,
			 uint16_t port, uint32_t queue, uint32_t backlog, uint32_t drops, bool has_drops)
{
	struct listener *l = listener_set_add(set);

	cr_assert_not_null(l);
	l->cookie = cookie;
	l->inode = (uint32_t)(5000 + cookie);
	l->uid = 33;
	l->family = (uint8_t)family;
	l->port = port;
	l->queue = queue;
	l->backlog = backlog;
	l->drops = drops;
	l->has_drops = has_drops;
	cr_assert_eq(inet_pton(family, addr, l->addr), 1);
}

static void parse_counters(struct counters *c, const char *text)
{
	counters_clear(c);
	cr_assert_eq(netstat_parse(text, strlen(text), c), 0);
}

static struct finding_entry *add_entry(enum cause cause, const char *listener, enum finding_state state,
				       int64_t first_seen)
{
	struct finding_table *ft = &m.findings;
	struct finding_entry *e;

	ft->items = realloc(ft->items, (ft->count + 1) * sizeof(*ft->items));
	cr_assert_not_null(ft->items);
	e = &ft->items[ft->count++];
	memset(e, 0, sizeof(*e));
	e->f.cause = cause;
	e->f.underlying = cause;
	e->f.priority = LOG_WARNING;
	snprintf(e->f.listener, sizeof(e->f.listener), "%s", listener);
	snprintf(e->f.subject, sizeof(e->f.subject), "%s nginx[812] nginx.service", listener);
	snprintf(e->f.message, sizeof(e->f.message), "%s overflowed its accept queue.", listener);
	snprintf(e->f.remedy, sizeof(e->f.remedy), "raise the backlog");
	snprintf(e->f.knob, sizeof(e->f.knob), "net.core.somaxconn");
	e->f.knob_current = -1;
	e->f.knob_suggested = 4096;
	e->f.ev.somaxconn = 4096;
	e->f.ev.abort_on_overflow = 0;
	e->f.ev.host_overflows = -1;
	e->state = state;
	e->first_seen = first_seen;
	e->last_seen = first_seen + 5;
	e->resolved_at = state == FINDING_RESOLVED ? first_seen + 65 : 0;
	return e;
}

static void setup(void)
{
	struct listener_set set;
	struct counters host;
	struct limits lim = { .somaxconn = 4096, .tcp_max_syn_backlog = SYSCTL_UNKNOWN,
			      .tcp_syncookies = 1, .tcp_abort_on_overflow = 0 };
	struct tracked *tr;
	struct finding_entry *e;

	memset(&m, 0, sizeof(m));
	m.proc_root = "/proc";
	m.cfg.tick_ms = 1000;
	m.started = T0_MS / 1000 - 10;
	track_init(&m.track);
	listener_set_init(&set);
	counters_init(&host);

	add_listener(&set, 100, AF_INET, "127.0.0.1", 8080, 0, 8, 10, true);
	add_listener(&set, 200, AF_INET6, "::1", 443, 0, 128, 0, false);
	add_listener(&set, 300, AF_INET6, "::", 8080, 0, 4096, 0, true);
	parse_counters(&host, "TcpExt: ListenOverflows ListenDrops\nTcpExt: 10 12\n"
			      "Tcp: RtoAlgorithm OutRsts\nTcp: 1 7\n");
	cr_assert_eq(track_update(&m.track, &set, &host, &lim, T0_MS), 0);

	listener_set_clear(&set);
	add_listener(&set, 300, AF_INET6, "::", 8080, 0, 4096, 0, true);
	add_listener(&set, 200, AF_INET6, "::1", 443, 0, 128, 0, false);
	add_listener(&set, 100, AF_INET, "127.0.0.1", 8080, 9, 8, 15, true);
	parse_counters(&host, "TcpExt: ListenOverflows ListenDrops\nTcpExt: 15 17\n"
			      "Tcp: RtoAlgorithm OutRsts\nTcp: 1 9\n");
	cr_assert_eq(track_update(&m.track, &set, &host, &lim, T1_MS), 0);
	m.limits = lim;

	tr = track_find(&m.track, 100);
	cr_assert_not_null(tr);
	tr->owner.inode = tr->l.inode;
	tr->owner.nprocs = 2;
	tr->owner.nprocs_total = 3;
	tr->owner.procs[0].pid = 812;
	snprintf(tr->owner.procs[0].comm, sizeof(tr->owner.procs[0].comm), "nginx");
	tr->owner.procs[1].pid = 813;
	snprintf(tr->owner.procs[1].comm, sizeof(tr->owner.procs[1].comm), "nginx");
	snprintf(tr->owner.unit, sizeof(tr->owner.unit), "nginx.service");
	tr->owner_state = 'S';

	/* Table order is deliberately not the expected output order. */
	add_entry(CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", FINDING_RESOLVED, 50);
	add_entry(CAUSE_BACKLOG_CLAMPED, "127.0.0.1:8080", FINDING_ACTIVE, 200);
	e = add_entry(CAUSE_OVERFLOW_RESET, "127.0.0.1:8080", FINDING_ACTIVE, 100);
	e->f.underlying = CAUSE_SLOW_ACCEPT;
	e->f.priority = LOG_ERR;
	e->f.pid = 812;
	snprintf(e->f.comm, sizeof(e->f.comm), "nginx");
	snprintf(e->f.unit, sizeof(e->f.unit), "nginx.service");
	snprintf(e->f.knob, sizeof(e->f.knob), "net.ipv4.tcp_abort_on_overflow");
	e->f.knob_current = 1;
	e->f.knob_suggested = 0;
	e->f.ev.host_overflows = 5;
	add_entry(CAUSE_BACKLOG_SMALL, "[::1]:443", FINDING_RESOLVED, 10);

	listener_set_free(&set);
	counters_free(&host);
}

static void teardown(void)
{
	free(m.findings.items);
	track_free(&m.track);
}

TestSuite(report, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static const json_t *get(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	cr_assert_not_null(v, "missing key \"%s\"", key);
	return v;
}

static const char *get_str(const json_t *o, const char *key)
{
	const json_t *v = get(o, key);

	cr_assert(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_int_t get_int(const json_t *o, const char *key)
{
	const json_t *v = get(o, key);

	cr_assert(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static void assert_null(const json_t *o, const char *key)
{
	cr_assert(json_is_null(get(o, key)), "\"%s\" should be null", key);
}

/* The listener object with this "listener" name in an array. */
static const json_t *find_listener(const json_t *a, const char *name)
{
	size_t i;
	const json_t *l;

	json_array_foreach(a, i, l)
		if (strcmp(get_str(l, "listener"), name) == 0)
			return l;
	cr_assert_fail("no listener %s", name);
	return NULL;
}

/* ---- limits, listeners, host ---- */

Test(report, limits_unknown_is_null)
{
	json_t *lim = report_limits(&m.track.limits);

	cr_assert_eq(get_int(lim, "somaxconn"), 4096);
	assert_null(lim, "tcp_max_syn_backlog");
	cr_assert_eq(get_int(lim, "tcp_syncookies"), 1);
	cr_assert_eq(get_int(lim, "tcp_abort_on_overflow"), 0);
	json_decref(lim);
}

Test(report, listener_ipv4_fields)
{
	json_t *a = report_listeners(&m.track);
	const json_t *l = find_listener(a, "127.0.0.1:8080");
	const json_t *procs = get(l, "processes");

	cr_assert_str_eq(get_str(l, "address"), "127.0.0.1");
	cr_assert_eq(get_int(l, "port"), 8080);
	cr_assert_str_eq(get_str(l, "family"), "ipv4");
	cr_assert_eq(get_int(l, "queue"), 9);
	cr_assert_eq(get_int(l, "backlog"), 8);
	cr_assert_eq(get_int(l, "peak_queue"), 9);
	cr_assert(json_is_true(get(l, "full")));
	cr_assert_eq(get_int(l, "drops"), 15);
	cr_assert_eq(get_int(l, "drops_delta"), 5);
	cr_assert_eq(get_int(l, "drops_total"), 5);
	cr_assert_eq(get_int(l, "ticks_full"), 1);
	cr_assert_eq(get_int(l, "inode"), 5100);
	cr_assert_str_eq(get_str(l, "cookie"), "100");
	cr_assert_eq(get_int(l, "uid"), 33);
	cr_assert_str_eq(get_str(l, "unit"), "nginx.service");
	cr_assert_eq(get_int(l, "first_seen"), T0_MS / 1000);
	cr_assert(json_is_array(procs));
	cr_assert_eq(json_array_size(procs), 2);
	cr_assert_eq(get_int(json_array_get(procs, 0), "pid"), 812);
	cr_assert_str_eq(get_str(json_array_get(procs, 0), "comm"), "nginx");
	cr_assert_eq(get_int(l, "processes_total"), 3);
	json_decref(a);
}

Test(report, listener_ipv6_brackets_and_nulls)
{
	json_t *a = report_listeners(&m.track);
	const json_t *l = find_listener(a, "[::1]:443");

	cr_assert_str_eq(get_str(l, "address"), "::1");
	cr_assert_str_eq(get_str(l, "family"), "ipv6");
	assert_null(l, "drops");
	assert_null(l, "unit");
	cr_assert(json_is_false(get(l, "full")));
	cr_assert_eq(json_array_size(get(l, "processes")), 0);
	json_decref(a);
}

Test(report, listeners_sorted_by_port_then_family)
{
	json_t *a = report_listeners(&m.track);

	cr_assert_eq(json_array_size(a), 3);
	cr_assert_str_eq(get_str(json_array_get(a, 0), "listener"), "[::1]:443");
	cr_assert_str_eq(get_str(json_array_get(a, 1), "listener"), "127.0.0.1:8080");
	cr_assert_str_eq(get_str(json_array_get(a, 2), "listener"), "[::]:8080");
	json_decref(a);
}

Test(report, comm_that_is_not_utf8_is_replaced)
{
	struct tracked *tr = track_find(&m.track, 100);
	json_t *l;

	memcpy(tr->owner.procs[0].comm, "ng\xff\xfe", 5);
	l = report_listener(tr);
	cr_assert_not_null(l);
	cr_assert_str_eq(get_str(json_array_get(get(l, "processes"), 0), "comm"), "ng??");
	json_decref(l);
}

Test(report, host_counters_with_deltas_and_rates)
{
	json_t *h = report_host(&m.track);
	const json_t *c = get(h, "counters");
	const json_t *lo = get(c, "ListenOverflows");

	cr_assert_float_eq(json_real_value(get(h, "interval_s")), 2.0, 1e-9);
	cr_assert_eq(get_int(lo, "total"), 15);
	cr_assert_eq(get_int(lo, "delta"), 5);
	cr_assert_float_eq(json_real_value(get(lo, "per_sec")), 2.5, 1e-9);
	cr_assert_eq(get_int(get(c, "ListenDrops"), "delta"), 5);
	cr_assert_eq(get_int(get(c, "OutRsts"), "total"), 9);
	cr_assert_eq(get_int(get(c, "OutRsts"), "delta"), 2);
	/* Counters the kernel did not give are left out, not zero. */
	cr_assert_null(json_object_get(c, "TCPReqQFullDrop"));
	cr_assert_null(json_object_get(c, "RtoAlgorithm"));
	json_decref(h);
}

Test(report, host_before_second_tick_has_no_rates)
{
	struct track t;
	struct counters host;
	json_t *h;

	track_init(&t);
	counters_init(&host);
	parse_counters(&host, "TcpExt: ListenOverflows\nTcpExt: 3\n");
	cr_assert_eq(track_update(&t, NULL, &host, NULL, T0_MS), 0);
	h = report_host(&t);
	assert_null(h, "interval_s");
	cr_assert_eq(get_int(get(get(h, "counters"), "ListenOverflows"), "total"), 3);
	assert_null(get(get(h, "counters"), "ListenOverflows"), "delta");
	assert_null(get(get(h, "counters"), "ListenOverflows"), "per_sec");
	json_decref(h);
	counters_free(&host);
	track_free(&t);
}

/* ---- findings ---- */

Test(report, findings_active_first_then_by_first_seen)
{
	json_t *a = report_findings(&m.findings);
	static const struct {
		const char *cause, *state;
		json_int_t first_seen;
	} want[] = {
		{ "overflow-reset", "active", 100 },
		{ "backlog-clamped", "active", 200 },
		{ "backlog-small", "resolved", 10 },
		{ "backlog-small", "resolved", 50 },
	};

	cr_assert_eq(json_array_size(a), 4);
	for (size_t i = 0; i < 4; i++) {
		const json_t *f = json_array_get(a, i);

		cr_assert_str_eq(get_str(f, "cause"), want[i].cause, "entry %zu", i);
		cr_assert_str_eq(get_str(f, "state"), want[i].state, "entry %zu", i);
		cr_assert_eq(get_int(f, "first_seen"), want[i].first_seen, "entry %zu", i);
		if (strcmp(want[i].state, "resolved") == 0)
			cr_assert_eq(get_int(f, "resolved_at"), want[i].first_seen + 65);
		else
			cr_assert_null(json_object_get(f, "resolved_at"));
	}
	json_decref(a);
}

Test(report, finding_entry_fields)
{
	json_t *a = report_findings(&m.findings);
	const json_t *f = json_array_get(a, 0);
	const json_t *knob = get(f, "knob");
	const json_t *ev = get(f, "evidence");
	const json_t *clamped = json_array_get(a, 1);

	cr_assert_str_eq(get_str(f, "underlying"), "slow-accept");
	cr_assert_str_eq(get_str(f, "severity"), "err");
	cr_assert_eq(get_int(f, "priority"), LOG_ERR);
	cr_assert_str_eq(get_str(f, "listener"), "127.0.0.1:8080");
	cr_assert_str_eq(get_str(f, "subject"), "127.0.0.1:8080 nginx[812] nginx.service");
	cr_assert_eq(get_int(f, "pid"), 812);
	cr_assert_str_eq(get_str(f, "comm"), "nginx");
	cr_assert_str_eq(get_str(f, "unit"), "nginx.service");
	cr_assert_str_eq(get_str(f, "message"), "127.0.0.1:8080 overflowed its accept queue.");
	cr_assert_str_eq(get_str(f, "remedy"), "raise the backlog");
	cr_assert_str_eq(get_str(knob, "name"), "net.ipv4.tcp_abort_on_overflow");
	cr_assert_eq(get_int(knob, "current"), 1);
	cr_assert_eq(get_int(knob, "suggested"), 0);
	cr_assert_eq(get_int(ev, "somaxconn"), 4096);
	cr_assert_eq(get_int(ev, "abort_on_overflow"), 0);
	cr_assert_eq(get_int(ev, "host_overflows"), 5);
	cr_assert_eq(get_int(f, "last_seen"), 105);

	/* Not an overflow-reset: no "underlying"; unknown pid/comm/unit and knob values are null. */
	cr_assert_null(json_object_get(clamped, "underlying"));
	cr_assert_str_eq(get_str(clamped, "severity"), "warning");
	assert_null(clamped, "pid");
	assert_null(clamped, "comm");
	assert_null(clamped, "unit");
	assert_null(get(clamped, "knob"), "current");
	cr_assert_eq(get_int(get(clamped, "knob"), "suggested"), 4096);
	assert_null(get(clamped, "evidence"), "host_overflows");
	json_decref(a);
}

Test(report, bare_finding_for_one_shot_diagnose)
{
	struct finding f = m.findings.items[1].f;
	json_t *o;

	f.priority = LOG_NOTICE;
	f.knob[0] = '\0';
	o = report_finding(&f, NULL, 42, 43);
	cr_assert_not_null(o);
	cr_assert_str_eq(get_str(o, "state"), "active");
	cr_assert_str_eq(get_str(o, "severity"), "notice");
	cr_assert_eq(get_int(o, "first_seen"), 42);
	cr_assert_eq(get_int(o, "last_seen"), 43);
	assert_null(o, "knob");
	cr_assert_null(json_object_get(o, "resolved_at"));
	json_decref(o);

	f.priority = LOG_INFO;
	f.cause = (enum cause)99;
	o = report_finding(&f, "active", 1, 1);
	cr_assert_str_eq(get_str(o, "severity"), "info");
	cr_assert_str_eq(get_str(o, "cause"), "unknown");
	json_decref(o);
}

/* ---- status ---- */

Test(report, status_document)
{
	json_t *s, *d;

	m.last_error = -EACCES;
	m.failed_ticks = 3;
	s = report_status(&m, T1_MS / 1000);
	cr_assert_not_null(s);
	d = json_object_get(s, "daemon");
#ifdef PACKAGE_VERSION
	cr_assert_str_eq(get_str(d, "version"), PACKAGE_VERSION);
#endif
	cr_assert_eq(get_int(d, "started"), T0_MS / 1000 - 10);
	cr_assert_eq(get_int(d, "uptime_s"), 12);
	cr_assert_eq(get_int(d, "ticks"), 2);
	cr_assert_eq(get_int(d, "tick_interval_ms"), 1000);
	cr_assert_str_eq(get_str(d, "last_error"), strerror(EACCES));
	cr_assert_eq(get_int(d, "listeners_count"), 3);
	cr_assert_eq(get_int(d, "findings_active"), 2);
	assert_null(get(s, "limits"), "tcp_max_syn_backlog");
	cr_assert(json_is_object(get(get(s, "host"), "counters")));
	cr_assert_eq(json_array_size(get(s, "listeners")), 3);
	cr_assert_eq(json_array_size(get(s, "findings")), 4);
	json_decref(s);

	m.last_error = 0;
	s = report_status(&m, T1_MS / 1000);
	assert_null(get(s, "daemon"), "last_error");
	json_decref(s);
}

/* ---- explain ---- */

static const json_t *only_chain(const json_t *x)
{
	const json_t *chains = get(x, "chains");

	cr_assert_eq(json_array_size(chains), 1);
	return json_array_get(chains, 0);
}

Test(report, explain_chain_in_order)
{
	static const char *const order[] = { "listener", "backlog", "queue", "drops", "clients", "finding", "finding" };
	char err[128] = "";
	json_t *x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	const json_t *c, *steps, *findings;

	cr_assert_not_null(x, "%s", err);
	cr_assert_str_eq(get_str(x, "target"), "127.0.0.1:8080");
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "match"), "exact");
	cr_assert_str_eq(get_str(get(c, "listener"), "listener"), "127.0.0.1:8080");
	steps = get(c, "steps");
	cr_assert_eq(json_array_size(steps), 7);
	for (size_t i = 0; i < 7; i++)
		cr_assert_str_eq(get_str(json_array_get(steps, i), "step"), order[i], "step %zu", i);
	cr_assert_str_eq(get_str(json_array_get(steps, 0), "text"),
			 "127.0.0.1:8080 held by nginx[812], nginx[813] and 1 more (nginx.service)");
	cr_assert(strstr(get_str(json_array_get(steps, 1), "text"), "effective backlog 8") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 1), "text"), "net.core.somaxconn 4096") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 2), "text"), "queue 9 of 8: full for 1 tick, peak 9") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"), "dropped 5") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"), "host ListenOverflows +5") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 4), "text"), "tcp_abort_on_overflow = 0") != NULL);
	/* Active findings in order (overflow-reset opened first), with their remedy. */
	cr_assert(strncmp(get_str(json_array_get(steps, 5), "text"), "overflow-reset", 14) == 0);
	cr_assert(strstr(get_str(json_array_get(steps, 5), "text"), "Fix: raise the backlog") != NULL);
	cr_assert(strncmp(get_str(json_array_get(steps, 6), "text"), "backlog-clamped", 15) == 0);
	/* The listener's findings, resolved included, active first. */
	findings = get(c, "findings");
	cr_assert_eq(json_array_size(findings), 3);
	cr_assert_str_eq(get_str(json_array_get(findings, 0), "cause"), "overflow-reset");
	cr_assert_str_eq(get_str(json_array_get(findings, 2), "state"), "resolved");
	json_decref(x);
}

Test(report, explain_names_a_stopped_owner)
{
	char err[128] = "";
	json_t *x;

	track_find(&m.track, 100)->owner_state = 'T';
	x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert_str_eq(get_str(json_array_get(get(only_chain(x), "steps"), 0), "text"),
			 "127.0.0.1:8080 held by nginx[812], nginx[813] and 1 more (nginx.service); "
			 "nginx[812] is stopped");
	json_decref(x);
}

Test(report, explain_healthy_listener)
{
	char err[128] = "";
	json_t *x = report_explain(&m, "[::1]:443", err, sizeof(err));
	const json_t *steps;
	const char *last;

	cr_assert_not_null(x, "%s", err);
	steps = get(only_chain(x), "steps");
	cr_assert_eq(json_array_size(steps), 6);
	last = get_str(json_array_get(steps, 5), "text");
	cr_assert_str_eq(get_str(json_array_get(steps, 5), "step"), "finding");
	cr_assert(strncmp(last, "healthy", 7) == 0, "%s", last);
	cr_assert(strstr(last, "backlog-small resolved") != NULL, "%s", last);
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"), "no drop counter") != NULL);
	json_decref(x);
}

Test(report, explain_port_matches_every_listener_on_it)
{
	char err[128] = "";
	const char *targets[] = { "8080", "*:8080" };

	for (size_t i = 0; i < 2; i++) {
		json_t *x = report_explain(&m, targets[i], err, sizeof(err));
		const json_t *chains;

		cr_assert_not_null(x, "%s: %s", targets[i], err);
		chains = get(x, "chains");
		cr_assert_eq(json_array_size(chains), 2, "%s", targets[i]);
		cr_assert_str_eq(get_str(get(json_array_get(chains, 0), "listener"), "listener"), "127.0.0.1:8080");
		cr_assert_str_eq(get_str(get(json_array_get(chains, 1), "listener"), "listener"), "[::]:8080");
		cr_assert_str_eq(get_str(json_array_get(chains, 1), "match"), "port");
		json_decref(x);
	}
}

Test(report, explain_falls_back_to_wildcard)
{
	char err[128] = "";
	json_t *x = report_explain(&m, "10.1.2.3:8080", err, sizeof(err));
	const json_t *c;

	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "match"), "wildcard");
	cr_assert_str_eq(get_str(get(c, "listener"), "listener"), "[::]:8080");
	cr_assert(strstr(get_str(json_array_get(get(c, "steps"), 0), "text"),
			 "10.1.2.3:8080 is served by the wildcard listener [::]:8080") != NULL);
	json_decref(x);
}

Test(report, explain_no_match_and_bad_targets)
{
	char err[128] = "";
	const char *bad[] = { "", "foo", "::1:443", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
			      "[::1]443", "[::1]:x", "300.1.1.1:80", ":80" };

	cr_assert_null(report_explain(&m, "10.1.2.3:9999", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 10.1.2.3:9999");
	cr_assert_null(report_explain(&m, "[::2]:443", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on [::2]:443");
	cr_assert_null(report_explain(&m, "9", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 9");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_null(report_explain(&m, bad[i], err, sizeof(err)), "'%s'", bad[i]);
		cr_assert(strncmp(err, "bad target", 10) == 0, "'%s': %s", bad[i], err);
	}
	/* No room for the error is not a crash. */
	cr_assert_null(report_explain(&m, "1.2.3.4:1", NULL, 0));
}

/* ---- render ---- */

typedef void (*render_fn)(FILE *, const json_t *);

/* Return: what fn printed for doc, malloc'd. */
static char *render(render_fn fn, const json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	fn(f, doc);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static char *render_text(render_fn fn, const char *json)
{
	json_error_t jerr;
	json_t *doc = json_loads(json, JSON_DECODE_ANY, &jerr);
	char *out;

	cr_assert_not_null(doc, "%s: %s", json, jerr.text);
	out = render(fn, doc);
	json_decref(doc);
	return out;
}

/* Return: the line of text starting with prefix, as a malloc'd string. */
static char *line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return strndup(p, n);
		p = nl ? nl + 1 : NULL;
	}
	cr_assert_fail("no line starting with '%s' in:\n%s", prefix, text);
	return NULL;
}

/* Column where word ends on line: right-aligned columns end together. */
static size_t end_of(const char *line, const char *word)
{
	const char *p = strstr(line, word);

	cr_assert_not_null(p, "'%s' not in '%s'", word, line);
	return (size_t)(p - line) + strlen(word);
}

Test(report, render_status_tables)
{
	json_t *s = report_status(&m, T1_MS / 1000);
	char *out = render(render_status, s);
	char *head = line_starting(out, "LISTENER");
	char *row = line_starting(out, "127.0.0.1:8080");
	char *row6 = line_starting(out, "[::1]:443");

	cr_assert(strstr(out, "backlogd ") != NULL);
	cr_assert(strstr(out, "up 12s, 2 ticks every 1 s, 3 listeners, 2 active findings") != NULL, "%s", out);
	cr_assert(strstr(out, "limits: somaxconn 4096  tcp_max_syn_backlog ?  syncookies 1  abort_on_overflow 0") != NULL,
		  "%s", out);
	cr_assert(strstr(out, "ListenOverflows") != NULL);
	cr_assert(strstr(out, "2.5/s") != NULL, "%s", out);
	/* Right-aligned numbers end under their headers; the process shows "+N" for the others. */
	cr_assert_eq(end_of(head, "QUEUE"), end_of(row, " 9"));
	cr_assert_eq(end_of(head, "+DROPS"), end_of(row, "+5"));
	cr_assert(strstr(row, "nginx[812]+2") != NULL, "%s", row);
	cr_assert(strstr(row, "nginx.service") != NULL);
	cr_assert_eq(strstr(head, "PROCESS") - head, strstr(row, "nginx[812]") - row);
	/* Unknown owner and unit print as "-", and the last column carries no trailing blanks. */
	cr_assert_eq(row6[strstr(head, "PROCESS") - head], '-', "%s\n%s", head, row6);
	cr_assert_eq(row6[strstr(head, "UNIT") - head], '-', "%s\n%s", head, row6);
	cr_assert_neq(row6[strlen(row6) - 1], ' ');
	cr_assert(strstr(out, "SEVERITY  STATE     CAUSE") != NULL, "%s", out);
	cr_assert(strstr(out, "\n    fix: raise the backlog\n") != NULL, "%s", out);
	cr_assert(strstr(out, "\nerr       active    overflow-reset   127.0.0.1:8080 nginx[812] nginx.service\n") != NULL,
		  "%s", out);
	free(head);
	free(row);
	free(row6);
	free(out);
	json_decref(s);
}

Test(report, render_empty_tables)
{
	char *out = render_text(render_listeners, "[]");

	cr_assert_str_eq(out, "No listeners.\n");
	free(out);
	out = render_text(render_findings, "[]");
	cr_assert_str_eq(out, "No findings.\n");
	free(out);
	out = render_text(render_status, "{}");
	cr_assert(strstr(out, "No listeners.") != NULL, "%s", out);
	cr_assert(strstr(out, "No findings.") != NULL, "%s", out);
	free(out);
}

Test(report, render_explain_steps)
{
	char err[128];
	json_t *x = report_explain(&m, "8080", err, sizeof(err));
	char *out = render(render_explain, x);

	cr_assert(strstr(out, "127.0.0.1:8080\n  listener  127.0.0.1:8080 held by nginx[812]") != NULL, "%s", out);
	cr_assert(strstr(out, "\n  backlog   effective backlog 8") != NULL, "%s", out);
	cr_assert(strstr(out, "\n\n[::]:8080\n") != NULL, "%s", out);
	cr_assert(strstr(out, "healthy") != NULL, "%s", out);
	free(out);
	json_decref(x);
}

/* A daemon of another version, or a broken one: never crash, print what can be printed. */
Test(report, render_odd_documents)
{
	static const char *const docs[] = {
		"null", "[]", "{}", "\"text\"", "42", "true",
		"{\"daemon\":\"x\",\"limits\":[1],\"host\":{\"counters\":[]},\"listeners\":{\"a\":1},\"findings\":\"no\"}",
		"{\"daemon\":{\"version\":7,\"uptime_s\":\"long\",\"ticks\":-1,\"last_error\":\"bad\\nline\"},"
		"\"limits\":{\"somaxconn\":null,\"tcp_syncookies\":1.5},"
		"\"host\":{\"interval_s\":\"x\",\"counters\":{\"A\":1,\"B\":{\"total\":\"9\"},\"C\":{\"total\":3,\"delta\":1e300,\"per_sec\":1e300}}},"
		"\"listeners\":[1,null,[],{\"listener\":5,\"queue\":\"x\",\"drops\":1e30,\"processes\":[{\"pid\":\"a\",\"comm\":7}],\"unit\":3},"
		"{\"listener\":\"a\\u0001b\",\"processes\":{\"pid\":1},\"processes_total\":-4}],"
		"\"findings\":[1,null,{\"severity\":3},{\"message\":\"\",\"remedy\":null,\"state\":\"resolved\",\"resolved_at\":\"x\",\"first_seen\":-1}]}",
	};
	render_fn fns[] = { render_status, render_listeners, render_findings, render_explain };

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++)
		for (size_t f = 0; f < 4; f++)
			free(render_text(fns[f], docs[d]));

	free(render(render_status, NULL));
	free(render(render_listeners, NULL));
	free(render(render_findings, NULL));
	free(render(render_explain, NULL));
}

Test(report, render_odd_explain)
{
	char *out = render_text(render_explain, "{\"target\":\"1.2.3.4:5\",\"chains\":[{\"steps\":[{\"step\":1},{\"text\":\"t\"},5]}]}");

	cr_assert(strstr(out, "1.2.3.4:5\n") != NULL, "%s", out);
	cr_assert(strstr(out, "  -  t\n") != NULL, "%s", out);
	free(out);
	out = render_text(render_explain, "{\"target\":\"x\",\"chains\":[]}");
	cr_assert_str_eq(out, "Nothing to explain for x.\n");
	free(out);
	out = render_text(render_explain, "{\"steps\":[{\"step\":\"queue\",\"text\":\"q\"}]}");
	cr_assert(strstr(out, "  queue  q\n") != NULL, "%s", out);
	free(out);
	out = render_text(render_findings, "[{\"severity\":3,\"listener\":\"1.2.3.4:5\"}]");
	cr_assert(strstr(out, "-         -      -      1.2.3.4:5\n") != NULL, "%s", out);
	free(out);
}
