/* test_report.c: the JSON documents scripts rely on (daemon/report/) and the human renderer on odd input (daemon/backlogctl/). */
#include "base.h"

#ifdef HAVE_CONFIG_H
#endif

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "finding_text.h"
#include "findings.h"
#include "fleet.h"
#include "monitor.h"
#include "netns.h"
#include "netstat.h"
#include "daemon/backlogctl/render.h"
#include "report.h"
#include "track.h"
#include "tick_fixture.h"
#include "owner_fixture.h"

/*
 * The fixture: a monitor built by hand (no netlink), fed two ticks through
 * the real track_tick so the documents see real deltas.
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

/* f's message as every output shows it (finding_words), for comparing steps against. */
static const char *message_of(const struct finding *f)
{
	static struct finding_words w;

	finding_words(f, &w);
	return w.message;
}

static struct finding_entry *add_entry_in(struct finding_table *ft, enum cause cause, const char *listener,
					  enum finding_state state, int64_t first_seen)
{
	struct finding_entry *e;

	ft->items = realloc(ft->items, (ft->count + 1) * sizeof(*ft->items));
	cr_assert_not_null(ft->items);
	e = &ft->items[ft->count++];
	memset(e, 0, sizeof(*e));
	e->f.cause = cause;
	e->f.underlying = cause;
	e->f.scope = SCOPE_LISTENER;
	e->f.explained_by = CAUSE_NONE;
	e->f.priority = LOG_WARNING;
	snprintf(e->f.listener, sizeof(e->f.listener), "%s", listener);
	snprintf(e->f.subject, sizeof(e->f.subject), "%s nginx[812] nginx.service", listener);
	snprintf(e->f.body.happened, sizeof(e->f.body.happened), "%s overflowed its accept queue.", listener);
	snprintf(e->f.body.fix, sizeof(e->f.body.fix), "raise the backlog");
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

static struct finding_entry *add_entry(enum cause cause, const char *listener, enum finding_state state,
				       int64_t first_seen)
{
	return add_entry_in(&m.findings, cause, listener, state, first_seen);
}

static void setup(void)
{
	struct listener_set set;
	struct counters host;
	struct limits lim;
	struct tracked *tr;
	struct finding_entry *e;

	limits_unknown(&lim);
	lim.somaxconn = 4096;
	lim.tcp_syncookies = 1;
	lim.tcp_abort_on_overflow = 0;

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
	cr_assert_eq(tick_listeners(&m.track, &set, &host, &lim, T0_MS), 0);

	listener_set_clear(&set);
	add_listener(&set, 300, AF_INET6, "::", 8080, 0, 4096, 0, true);
	add_listener(&set, 200, AF_INET6, "::1", 443, 0, 128, 0, false);
	add_listener(&set, 100, AF_INET, "127.0.0.1", 8080, 9, 8, 15, true);
	parse_counters(&host, "TcpExt: ListenOverflows ListenDrops\nTcpExt: 15 17\n"
			      "Tcp: RtoAlgorithm OutRsts\nTcp: 1 9\n");
	cr_assert_eq(tick_listeners(&m.track, &set, &host, &lim, T1_MS), 0);
	m.limits = lim;

	tr = track_find(&m.track, 100);
	cr_assert_not_null(tr);
	owner_mut(tr)->nprocs = 2;
	owner_mut(tr)->nprocs_total = 3;
	owner_mut(tr)->procs[0].pid = 812;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "nginx");
	owner_mut(tr)->procs[1].pid = 813;
	snprintf(owner_mut(tr)->procs[1].comm, sizeof(owner_mut(tr)->procs[1].comm), "nginx");
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "nginx.service");
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

	memcpy(owner_mut(tr)->procs[0].comm, "ng\xff\xfe", 5);
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
	cr_assert_eq(tick_listeners(&t, NULL, &host, NULL, T0_MS), 0);
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
	/* ListenOverflows is the monitor's namespace's counter, not the listener's and not always the host's. */
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"),
			 "this network namespace's ListenOverflows +5 this tick") != NULL);
	/* The listener's findings, resolved included, active first. */
	findings = get(c, "findings");
	cr_assert_eq(json_array_size(findings), 3);
	cr_assert_str_eq(get_str(json_array_get(findings, 0), "cause"), "overflow-reset");
	/* What clients saw is the first finding's own message, quoted, not explain's words. */
	cr_assert_str_eq(get_str(json_array_get(steps, 4), "text"), get_str(json_array_get(findings, 0), "message"));
	/* Active findings in order (overflow-reset opened first), with their remedy; the message is not said twice. */
	cr_assert_str_eq(get_str(json_array_get(steps, 5), "text"), "overflow-reset (err). Fix: raise the backlog");
	cr_assert_str_eq(get_str(json_array_get(steps, 6), "text"),
			 "backlog-clamped (warning): 127.0.0.1:8080 overflowed its accept queue. Fix: raise the backlog");
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
	cr_assert_eq(json_array_size(steps), 5);
	last = get_str(json_array_get(steps, 4), "text");
	cr_assert_str_eq(get_str(json_array_get(steps, 4), "step"), "finding");
	cr_assert(strncmp(last, "healthy", 7) == 0, "%s", last);
	cr_assert(strstr(last, "backlog-small resolved") != NULL, "%s", last);
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"), "no drop counter") != NULL);
	json_decref(x);
}

/* Whether text names a cause or says what clients saw: explain's steps leave that to diagnose. */
static bool asserts_a_cause(const char *text)
{
	static const char *const words[] = { "clamped", "clients", "stall", "time out", "reset", "refused",
					     "ECONN", "will be dropped", "set by the application" };

	for (int c = CAUSE_FIRST; c < CAUSE_COUNT; c++)
		if (strstr(text, cause_code((enum cause)c)))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(text, words[i]))
			return true;
	return false;
}

/* A full queue that dropped, with no finding yet: the numbers, and no cause, no "clients" step. */
Test(report, explain_without_a_finding_shows_numbers_only)
{
	static const char *const order[] = { "listener", "backlog", "queue", "drops", "finding" };
	char err[128] = "";
	json_t *x;
	const json_t *steps;

	m.findings.count = 0;
	x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	steps = get(only_chain(x), "steps");
	cr_assert_eq(json_array_size(steps), ARRAY_SIZE(order));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const char *text = get_str(json_array_get(steps, i), "text");

		cr_assert_str_eq(get_str(json_array_get(steps, i), "step"), order[i], "step %zu", i);
		cr_assert(!asserts_a_cause(text), "step %zu: %s", i, text);
	}
	cr_assert_str_eq(get_str(json_array_get(steps, 1), "text"), "effective backlog 8; net.core.somaxconn 4096");
	cr_assert(strstr(get_str(json_array_get(steps, 2), "text"), "queue 9 of 8: full for 1 tick") != NULL);
	cr_assert(strstr(get_str(json_array_get(steps, 3), "text"), "listener dropped 5 since first seen") != NULL);
	cr_assert_str_eq(get_str(json_array_get(steps, 4), "text"), "healthy: no finding on this listener");
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
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
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
/* fuzz/run.sh seeds fuzz_render with the documents these tests render (BACKLOGD_FUZZ_SEEDS=DIR). */
static void seed_render(const json_t *doc)
{
	const char *dir = getenv("BACKLOGD_FUZZ_SEEDS");
	static unsigned n;
	char path[512];

	if (!dir || !doc)
		return;
	snprintf(path, sizeof(path), "%s/report-%d-%u.json", dir, (int)getpid(), n++);
	json_dump_file(doc, path, JSON_COMPACT | JSON_ENCODE_ANY);
}

static char *render(render_fn fn, const json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	seed_render(doc);
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

/* Return: how many times needle occurs in text. */
static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
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

/* No byte of out can act on a terminal: no C0 control but newline, no DEL, no C1 in UTF-8. */
static void assert_terminal_safe(const char *out)
{
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		cr_assert(*p >= 0x20 || *p == '\n', "control 0x%02x in:\n%s", *p, out);
		cr_assert(*p != 0x7f, "DEL in:\n%s", out);
		cr_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0), "C1 control in:\n%s", out);
	}
}

/* A comm and a unit made by a local user to clear the screen reach the tables neutralised. */
Test(report, render_hostile_names_neutralised)
{
	static const char hostile[] = "\x1b[2J\a\xc2\x9b<0>x";
	struct tracked *tr = track_find(&m.track, 100);
	struct finding_entry *e;
	json_t *s, *ls;
	char *out;

	cr_assert_not_null(tr);
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->procs[0].pid = 812;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "%s", hostile);
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "u\x1b]0;x\a.service");
	e = add_entry(CAUSE_OVERFLOW_RESET, "127.0.0.1:8080", FINDING_ACTIVE, 100);
	e->f.pid = 812;
	snprintf(e->f.comm, sizeof(e->f.comm), "%s", hostile);
	snprintf(e->f.subject, sizeof(e->f.subject), "%s[812]", hostile);
	/* JSON keeps the name exact: the encoder escapes, the terminal edge neutralises. */
	ls = report_listeners(&m.track);
	cr_assert_str_eq(get_str(json_array_get(get(find_listener(ls, "127.0.0.1:8080"), "processes"), 0), "comm"),
			 hostile);
	json_decref(ls);
	s = report_status(&m, T1_MS / 1000);
	out = render(render_status, s);
	assert_terminal_safe(out);
	cr_assert(strstr(out, "?[2J?" "?<0>x[812]") != NULL, "%s", out);
	free(out);
	out = render(render_listeners, json_object_get(s, "listeners"));
	assert_terminal_safe(out);
	cr_assert(strstr(out, "?[2J") != NULL, "%s", out);
	free(out);
	out = render(render_findings, json_object_get(s, "findings"));
	assert_terminal_safe(out);
	cr_assert(strstr(out, "?[2J") != NULL, "%s", out);
	free(out);
	json_decref(s);
}

/* A file the tick could not read is named in status, in JSON and on the terminal. */
Test(report, status_names_unreadable_sources)
{
	json_t *s, *u;
	char *out;

	s = report_status(&m, T1_MS / 1000);
	u = json_object_get(json_object_get(s, "daemon"), "unreadable");
	cr_assert(json_is_array(u) && json_array_size(u) == 0);
	out = render(render_status, s);
	cr_assert_null(strstr(out, "cannot read"), "%s", out);
	free(out);
	json_decref(s);

	m.sources.err[SOURCE_NETSTAT] = -ENOENT;
	m.sources.err[SOURCE_SOCKSTAT] = -EFBIG;
	s = report_status(&m, T1_MS / 1000);
	u = json_object_get(json_object_get(s, "daemon"), "unreadable");
	cr_assert_eq(json_array_size(u), 2);
	cr_assert_str_eq(json_string_value(json_array_get(u, 0)), "net/netstat");
	cr_assert_str_eq(json_string_value(json_array_get(u, 1)), "net/sockstat");
	out = render(render_status, s);
	cr_assert(strstr(out, "\ncannot read: net/netstat, net/sockstat (what they count is unknown)\n") != NULL,
		  "%s", out);
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

/* A listener's history: two sparklines with their scales, each under its step's evidence. */
Test(report, render_explain_history)
{
	static const char *const doc =
		"{\"target\":\"8080\",\"chains\":[{\"listener\":{\"listener\":\"127.0.0.1:8080\"},"
		"\"steps\":[{\"step\":\"listener\",\"text\":\"held by x\"},{\"step\":\"queue\",\"text\":\"queue 9 of 8\"},"
		"{\"step\":\"drops\",\"text\":\"dropped 80\"},{\"step\":\"finding\",\"text\":\"f\"}],"
		"\"history\":{\"interval_ms\":500,\"backlog\":8,\"queue\":[null,0,2,4,6,8,9,9],\"drops\":[0,0,0,0,3,12,12,12]}},"
		"{\"listener\":{\"listener\":\"[::]:8080\"},\"steps\":[{\"step\":\"listener\",\"text\":\"held by y\"}],"
		"\"history\":{\"queue\":[1],\"drops\":[]}},"
		"{\"listener\":{\"listener\":\"0.0.0.0:8080\"},\"steps\":[{\"step\":\"queue\",\"text\":\"q\"}],"
		"\"history\":{\"queue\":[\"x\",{}],\"drops\":5,\"backlog\":\"b\"}}]}";
	char *out;

	setlocale(LC_CTYPE, "C.UTF-8");
	out = render_text(render_explain, doc);
	cr_assert(strstr(out, "\n  queue          queue 9 of 8\n"
			     "  queue history   ▁▃▅▇███  0..8 (the backlog) over the last 8 ticks (4 s)\n"
			     "  drops          dropped 80\n"
			     "  drops history  ▁▁▁▁▃███  0..12 per tick\n"
			     "  finding        f\n") != NULL, "%s", out);
	/* No queue or drops step: the history closes the chain; an empty series prints nothing. */
	cr_assert(strstr(out, "  listener       held by y\n  queue history  █  0..1 over the last 1 tick\n\n") != NULL,
		  "%s", out);
	/* Points that are not counts are gaps. */
	cr_assert(strstr(out, "  queue history      0..0 over the last 2 ticks\n") != NULL, "%s", out);
	free(out);
	/* Without UTF-8, the ASCII ramp. */
	setlocale(LC_CTYPE, "C");
	out = render_text(render_explain, doc);
	cr_assert(strstr(out, "  drops history  ____,###  0..12 per tick\n") != NULL, "%s", out);
	free(out);
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

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++)
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

/* ---- the cause catalogue: scopes, side effects, host state, gaps ---- */

static void add_extra(struct finding *f, const char *name, int64_t value)
{
	cr_assert_lt(f->n_extra, FINDING_EXTRA_MAX);
	snprintf(f->extra[f->n_extra].name, sizeof(f->extra[f->n_extra].name), "%s", name);
	f->extra[f->n_extra].value = value;
	f->n_extra++;
}

/* A host-scope finding (no listener behind it) with named numbers and a detail list. */
static struct finding_entry *add_host_entry(enum cause cause, const char *key, enum finding_scope scope)
{
	struct finding_entry *e = add_entry(cause, key, FINDING_ACTIVE, 300);

	e->f.scope = scope;
	snprintf(e->f.subject, sizeof(e->f.subject), "%s", key);
	snprintf(e->f.body.happened, sizeof(e->f.body.happened), "%s is in trouble.", key);
	e->f.ev.somaxconn = -1;
	e->f.ev.abort_on_overflow = -1;
	return e;
}

/* Host samples of two ticks, this tick's kernel events, and a deep sample. */
static struct synrecv_count synrecv[3];
static struct deep_sample deep;

static void setup_host_state(void)
{
	struct track *t = &m.track;
	struct host_state *pv = &t->hs_prev, *cur = &t->hs_cur;

	memset(pv, 0, sizeof(*pv));
	memset(cur, 0, sizeof(*cur));
	pv->valid = cur->valid = true;
	cur->ss = (struct sockstat){ .sockets_used = 200, .tcp_inuse = 120, .tcp_orphan = 3, .tcp_tw = 20,
				     .tcp_alloc = 130, .tcp_mem = 50, .tcp6_inuse = -1 };
	pv->ss = cur->ss;
	pv->ct = (struct conntrack_stat){ .present = true, .count = 90, .have_stat = true,
					  .drop = 10, .early_drop = 1, .insert_failed = 0 };
	cur->ct = (struct conntrack_stat){ .present = true, .count = 100, .have_stat = true,
					   .drop = 17, .early_drop = 1, .insert_failed = 2 };
	pv->links.count = 2;
	pv->links.items[0] = (struct link_stat){ .ifindex = 1, .name = "lo", .rx_packets = 10 };
	pv->links.items[1] = (struct link_stat){ .ifindex = 2, .name = "eth0", .rx_packets = 1000,
						 .rx_dropped = 5, .rx_missed_errors = 1 };
	cur->links.count = 3;
	cur->links.items[0] = (struct link_stat){ .ifindex = 1, .name = "lo", .rx_packets = 12 };
	cur->links.items[1] = (struct link_stat){ .ifindex = 2, .name = "eth0", .rx_packets = 1500,
						  .rx_dropped = 9, .rx_missed_errors = 1, .rx_fifo_errors = 3 };
	cur->links.items[2] = (struct link_stat){ .ifindex = 7, .name = "veth7", .rx_dropped = 4 };
	t->limits.nf_conntrack_max = 128;
	t->limits.tcp_max_orphans = 1024;
	t->limits.tcp_max_tw_buckets = 4096;

	t->n_kmsg = 2;
	t->kmsg[0] = (struct kmsg_event){ .kind = KMSG_SYN_FLOOD, .seq = 7, .ts_usec = 5000000,
					  .port = 8080, .addr = "127.0.0.1", .cookies = true };
	t->kmsg[1] = (struct kmsg_event){ .kind = KMSG_CONNTRACK_FULL, .seq = 8, .ts_usec = 5000001 };

	memset(&deep, 0, sizeof(deep));
	memset(synrecv, 0, sizeof(synrecv));
	synrecv[0].family = AF_INET;
	synrecv[0].port = 8080;
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.1", synrecv[0].addr), 1);
	synrecv[0].count = 3;
	synrecv[1].family = AF_INET6;
	synrecv[1].port = 443;
	cr_assert_eq(inet_pton(AF_INET6, "::1", synrecv[1].addr), 1);
	synrecv[1].count = 40;
	deep.synrecv = synrecv;
	deep.n_synrecv = 2;
	deep.n_dests = 1;
	deep.dests[0].family = AF_INET;
	deep.dests[0].port = 5432;
	cr_assert_eq(inet_pton(AF_INET, "10.0.0.5", deep.dests[0].addr), 1);
	deep.dests[0].total = 28000;
	deep.dests[0].established = 100;
	deep.dests[0].time_wait = 27800;
	deep.dests[0].syn_sent = 50;
	deep.dests[0].other = 50;
	deep.dests[0].in_port_range = 27990;
	deep.n_holders = 1;
	deep.holders[0].family = AF_INET6;
	deep.holders[0].state = 8;
	deep.holders[0].lport = 443;
	deep.holders[0].rport = 50000;
	cr_assert_eq(inet_pton(AF_INET6, "::1", deep.holders[0].laddr), 1);
	cr_assert_eq(inet_pton(AF_INET6, "::1", deep.holders[0].raddr), 1);
	deep.holders[0].rqueue = 1 << 20;
	deep.holders[0].wqueue = 10;
	deep.holders[0].pid = 0;
	deep.sockets_seen = 28100;
	deep.port_lo = 32768;
	deep.port_hi = 60999;
	t->deep = &deep;
}

/* Two gaps: 127.0.0.1:9090 came back under a new owner; 0.0.0.0:7070 is still gone. */
static void setup_gaps(void)
{
	struct track *t = &m.track;
	struct listener_gap *g = &t->gaps[0];

	memset(t->gaps, 0, 2 * sizeof(t->gaps[0]));
	t->n_gaps = 2;
	g->family = AF_INET;
	g->port = 9090;
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.1", g->addr), 1);
	snprintf(g->listener, sizeof(g->listener), "127.0.0.1:9090");
	g->old_owner.nprocs = 1;
	g->old_owner.procs[0].pid = 700;
	snprintf(g->old_owner.procs[0].comm, sizeof(g->old_owner.procs[0].comm), "oldsrv");
	g->last_seen_ms = T0_MS;
	g->missing_ms = T0_MS + 500;
	g->returned_ms = T0_MS + 1500;
	g->new_cookie = 100;          /* the nginx listener stands in for the one that came back */
	g->out_rsts = 4;

	g = &t->gaps[1];
	g->family = AF_INET;
	g->port = 7070;
	snprintf(g->listener, sizeof(g->listener), "0.0.0.0:7070");
	g->last_seen_ms = T0_MS;
	g->missing_ms = T0_MS + 500;
	g->out_rsts = -1;
}

Test(report, limits_of_every_cause)
{
	struct limits lim;
	json_t *o;
	const json_t *a;

	limits_unknown(&lim);
	o = report_limits(&lim);
	assert_null(o, "ip_local_port_range");
	assert_null(o, "tcp_tw_reuse");
	assert_null(o, "tcp_max_tw_buckets");
	assert_null(o, "tcp_max_orphans");
	assert_null(o, "tcp_mem");
	assert_null(o, "nf_conntrack_max");
	json_decref(o);

	lim.port_range_lo = 32768;
	lim.port_range_hi = 60999;
	lim.tcp_tw_reuse = 2;
	lim.tcp_max_tw_buckets = 262144;
	lim.tcp_max_orphans = 65536;
	lim.tcp_mem[0] = 1000;
	lim.tcp_mem[1] = 2000;
	lim.tcp_mem[2] = 3000;
	lim.nf_conntrack_max = 0;
	o = report_limits(&lim);
	a = get(o, "ip_local_port_range");
	cr_assert_eq(json_array_size(a), 2);
	cr_assert_eq(json_integer_value(json_array_get(a, 0)), 32768);
	cr_assert_eq(json_integer_value(json_array_get(a, 1)), 60999);
	cr_assert_eq(get_int(o, "tcp_tw_reuse"), 2);
	cr_assert_eq(get_int(o, "tcp_max_tw_buckets"), 262144);
	cr_assert_eq(get_int(o, "tcp_max_orphans"), 65536);
	a = get(o, "tcp_mem");
	cr_assert_eq(json_array_size(a), 3);
	cr_assert_eq(json_integer_value(json_array_get(a, 2)), 3000);
	cr_assert_eq(get_int(o, "nf_conntrack_max"), 0);
	json_decref(o);

	/* Half a port range is a file that was not read: null, not [lo, null]. */
	lim.port_range_hi = SYSCTL_UNKNOWN;
	lim.tcp_mem[1] = SYSCTL_UNKNOWN;
	o = report_limits(&lim);
	assert_null(o, "ip_local_port_range");
	assert_null(o, "tcp_mem");
	json_decref(o);
}

Test(report, finding_scope_role_detail_and_named_evidence)
{
	struct finding_entry *e = add_host_entry(CAUSE_ORPHANS, "host", SCOPE_HOST);
	json_t *o;
	const json_t *ev;

	add_extra(&e->f, "orphans", 980);
	add_extra(&e->f, "tcp_max_orphans", 1024);
	add_extra(&e->f, "Bad-Name\xff", 1);
	add_extra(&e->f, "", 2);
	snprintf(e->f.detail, sizeof(e->f.detail), "FIN_WAIT1 900\nLAST_ACK 80");
	o = report_finding_entry(e);
	cr_assert_not_null(o);
	cr_assert_str_eq(get_str(o, "cause"), "orphans");
	cr_assert_str_eq(get_str(o, "scope"), "host");
	cr_assert_str_eq(get_str(o, "role"), "cause");
	assert_null(o, "explained_by");
	cr_assert_str_eq(get_str(o, "detail"), "FIN_WAIT1 900\nLAST_ACK 80");
	ev = get(o, "evidence");
	cr_assert_eq(get_int(ev, "orphans"), 980);
	cr_assert_eq(get_int(ev, "tcp_max_orphans"), 1024);
	/* A name jansson would refuse is made safe instead of losing the finding; an empty one is skipped. */
	cr_assert_eq(get_int(ev, "Bad_Name_"), 1);
	cr_assert_eq(json_object_size(ev), 3, "%s", json_dumps(ev, 0));
	/* Accept-queue numbers are a listener's: a host finding has none. */
	cr_assert_null(json_object_get(ev, "queue"));
	json_decref(o);
}

Test(report, side_effect_finding_and_listener_evidence_kept)
{
	struct finding_entry *e = &m.findings.items[1];   /* backlog-clamped on 127.0.0.1:8080 */
	json_t *o;
	const json_t *ev;

	e->f.explained_by = CAUSE_SYN_FLOOD;
	add_extra(&e->f, "synrecv", 120);
	add_extra(&e->f, "queue", 999);   /* repeats an accept-queue key: that key keeps its meaning */
	o = report_finding_entry(e);
	cr_assert_str_eq(get_str(o, "scope"), "listener");
	cr_assert_str_eq(get_str(o, "role"), "side-effect");
	cr_assert_str_eq(get_str(o, "explained_by"), "syn-flood");
	assert_null(o, "detail");
	ev = get(o, "evidence");
	cr_assert_eq(get_int(ev, "synrecv"), 120);
	cr_assert_eq(get_int(ev, "queue"), 0);
	cr_assert_eq(get_int(ev, "somaxconn"), 4096);
	json_decref(o);

	/* A rule that left explained_by at 0 on a backlog-clamped finding did not make it its own side effect. */
	e->f.explained_by = CAUSE_BACKLOG_CLAMPED;
	o = report_finding_entry(e);
	cr_assert_str_eq(get_str(o, "role"), "cause");
	assert_null(o, "explained_by");
	json_decref(o);
}

Test(report, host_sockstat_conntrack_links_kmsg_deep)
{
	json_t *h;
	const json_t *ss, *ct, *links, *eth0, *k, *d, *x;

	setup_host_state();
	h = report_host(&m.track);
	cr_assert_not_null(h);
	ss = get(h, "sockstat");
	cr_assert_eq(get_int(ss, "inuse"), 120);
	cr_assert_eq(get_int(ss, "orphan"), 3);
	cr_assert_eq(get_int(ss, "tw"), 20);
	cr_assert_eq(get_int(ss, "alloc"), 130);
	cr_assert_eq(get_int(ss, "mem"), 50);
	assert_null(ss, "tcp6_inuse");

	ct = get(h, "conntrack");
	cr_assert(json_is_true(get(ct, "present")));
	cr_assert_eq(get_int(ct, "count"), 100);
	cr_assert_eq(get_int(ct, "max"), 128);
	cr_assert_eq(get_int(ct, "drop"), 17);
	cr_assert_eq(get_int(ct, "insert_failed"), 2);
	cr_assert_eq(get_int(get(ct, "deltas"), "drop"), 7);
	cr_assert_eq(get_int(get(ct, "deltas"), "early_drop"), 0);
	cr_assert_eq(get_int(get(ct, "deltas"), "insert_failed"), 2);

	links = get(h, "links");
	cr_assert_eq(json_array_size(links), 3);
	eth0 = json_array_get(links, 1);
	cr_assert_str_eq(get_str(eth0, "name"), "eth0");
	cr_assert_eq(get_int(eth0, "ifindex"), 2);
	cr_assert_eq(get_int(eth0, "rx_dropped"), 9);
	cr_assert_eq(get_int(eth0, "rx_missed_errors"), 1);
	cr_assert_eq(get_int(eth0, "rx_fifo_errors"), 3);
	cr_assert_eq(get_int(get(eth0, "deltas"), "rx_dropped"), 4);
	cr_assert_eq(get_int(get(eth0, "deltas"), "rx_fifo_errors"), 3);
	/* An interface that appeared this tick has no deltas yet. */
	assert_null(json_array_get(links, 2), "deltas");

	k = get(h, "kmsg");
	cr_assert_eq(json_array_size(k), 2);
	x = json_array_get(k, 0);
	cr_assert_str_eq(get_str(x, "kind"), "syn-flood");
	cr_assert_eq(get_int(x, "port"), 8080);
	cr_assert_str_eq(get_str(x, "listener"), "127.0.0.1:8080");
	cr_assert(json_is_true(get(x, "cookies")));
	x = json_array_get(k, 1);
	cr_assert_str_eq(get_str(x, "kind"), "conntrack-full");
	assert_null(x, "port");
	assert_null(x, "listener");

	d = get(h, "deep");
	cr_assert_eq(json_array_size(get(d, "synrecv")), 2);
	/* Most half-open connections first. */
	cr_assert_str_eq(get_str(json_array_get(get(d, "synrecv"), 0), "listener"), "[::1]:443");
	cr_assert_eq(get_int(json_array_get(get(d, "synrecv"), 0), "count"), 40);
	x = json_array_get(get(d, "destinations"), 0);
	cr_assert_str_eq(get_str(x, "destination"), "10.0.0.5:5432");
	cr_assert_eq(get_int(x, "total"), 28000);
	cr_assert_eq(get_int(x, "established"), 100);
	cr_assert_eq(get_int(x, "time_wait"), 27800);
	cr_assert_eq(get_int(x, "syn_sent"), 50);
	cr_assert_eq(get_int(x, "other"), 50);
	cr_assert_eq(get_int(x, "in_port_range"), 27990);
	x = json_array_get(get(d, "holders"), 0);
	cr_assert_str_eq(get_str(x, "local"), "[::1]:443");
	cr_assert_str_eq(get_str(x, "remote"), "[::1]:50000");
	cr_assert_str_eq(get_str(x, "state"), "close_wait");
	cr_assert_eq(get_int(x, "rqueue"), 1 << 20);
	cr_assert_eq(get_int(x, "wqueue"), 10);
	assert_null(x, "pid");
	assert_null(x, "comm");
	json_decref(h);

	/* The deep tier did not run this tick; no host sample yet. */
	m.track.deep = NULL;
	m.track.hs_cur.valid = false;
	m.track.n_kmsg = 0;
	h = report_host(&m.track);
	assert_null(h, "deep");
	assert_null(h, "sockstat");
	assert_null(h, "conntrack");
	cr_assert_eq(json_array_size(get(h, "links")), 0);
	cr_assert_eq(json_array_size(get(h, "kmsg")), 0);
	json_decref(h);
}

Test(report, status_gaps)
{
	json_t *s;
	const json_t *gaps, *g;

	setup_gaps();
	s = report_status(&m, T1_MS / 1000);
	cr_assert_not_null(s);
	gaps = get(s, "gaps");
	cr_assert_eq(json_array_size(gaps), 2);
	g = json_array_get(gaps, 0);
	cr_assert_str_eq(get_str(g, "listener"), "127.0.0.1:9090");
	cr_assert_eq(get_int(g, "vanished_at"), (T0_MS + 500) / 1000);
	cr_assert_eq(get_int(g, "returned_at"), (T0_MS + 1500) / 1000);
	cr_assert_eq(get_int(g, "gap_ms"), 1500);
	cr_assert(json_is_false(get(g, "absent")));
	cr_assert_eq(get_int(g, "old_pid"), 700);
	cr_assert_str_eq(get_str(g, "old_comm"), "oldsrv");
	cr_assert_eq(get_int(g, "new_pid"), 812);
	cr_assert_str_eq(get_str(g, "new_comm"), "nginx");
	cr_assert_eq(get_int(g, "out_rsts"), 4);
	cr_assert(json_is_false(get(g, "replaced")));
	g = json_array_get(gaps, 1);
	cr_assert(json_is_true(get(g, "absent")));
	assert_null(g, "returned_at");
	assert_null(g, "old_pid");
	assert_null(g, "new_pid");
	assert_null(g, "out_rsts");
	/* Still missing: the gap runs up to now. */
	cr_assert_eq(get_int(g, "gap_ms"), T1_MS - T0_MS);
	json_decref(s);
}

/* The step names of a chain, joined by spaces. */
static char *step_names(const json_t *chain)
{
	const json_t *steps = get(chain, "steps");
	char *buf = NULL;
	size_t len = 0, i;
	const json_t *st;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	json_array_foreach(steps, i, st)
		fprintf(f, "%s%s", i ? " " : "", get_str(st, "step"));
	fclose(f);
	return buf;
}

static const char *step_text(const json_t *chain, size_t i)
{
	return get_str(json_array_get(get(chain, "steps"), i), "text");
}

Test(report, explain_listener_primary_cause_then_side_effects)
{
	char err[128] = "";
	struct finding_entry *flood, *se;
	json_t *x;
	const json_t *c;
	char *names;

	/* Only these two are active, opened in the same tick; the side effect sorts first in the table. */
	m.findings.items[1].state = FINDING_RESOLVED;
	m.findings.items[2].state = FINDING_RESOLVED;
	se = add_entry(CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", FINDING_ACTIVE, 300);
	se->f.explained_by = CAUSE_SYN_FLOOD;
	se->f.priority = LOG_NOTICE;
	/* Core writes the side-effect clause into the message, once, for every output. */
	snprintf(se->f.body.happened, sizeof(se->f.body.happened), "The queue overflowed.");
	flood = add_entry(CAUSE_SYN_FLOOD, "127.0.0.1:8080", FINDING_ACTIVE, 300);
	add_extra(&flood->f, "syncookies_sent", 512);
	snprintf(flood->f.detail, sizeof(flood->f.detail), "kernel: Possible SYN flooding on port 127.0.0.1:8080");
	setup_host_state();
	x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "scope"), "listener");
	names = step_names(c);
	cr_assert_str_eq(names, "listener backlog queue drops syn queue clients finding evidence detail side effect",
			 "%s", names);
	free(names);
	cr_assert(strstr(step_text(c, 4), "3 connections half-open (SYN_RECV)") != NULL, "%s", step_text(c, 4));
	/* The primary cause speaks for the clients, in its own words; its step then gives the fix. */
	cr_assert_str_eq(step_text(c, 5), message_of(&flood->f));
	cr_assert_str_eq(step_text(c, 6), "syn-flood (warning). Fix: raise the backlog");
	cr_assert_str_eq(step_text(c, 7), "syncookies_sent 512");
	cr_assert_str_eq(step_text(c, 8), "kernel: Possible SYN flooding on port 127.0.0.1:8080");
	cr_assert_str_eq(step_text(c, 9), "backlog-small (notice): Side effect of syn-flood: the queue overflowed. "
			 "Fix: raise the backlog");
	cr_assert_eq(count_of(step_text(c, 9), "ide effect of"), 1, "%s", step_text(c, 9));
	json_decref(x);
}

Test(report, explain_listener_side_effect_of_a_host_cause_and_gap)
{
	char err[128] = "";
	struct finding_entry *mem, *se;
	json_t *x;
	const json_t *c;
	char *names;

	setup_gaps();
	/* Pretend 127.0.0.1:8080 was restarted: a gap on its name. */
	snprintf(m.track.gaps[0].listener, sizeof(m.track.gaps[0].listener), "127.0.0.1:8080");
	m.findings.items[1].state = FINDING_RESOLVED;
	m.findings.items[2].state = FINDING_RESOLVED;
	se = add_entry(CAUSE_SLOW_ACCEPT, "127.0.0.1:8080", FINDING_ACTIVE, 300);
	se->f.explained_by = CAUSE_TCP_MEMORY;
	mem = add_host_entry(CAUSE_TCP_MEMORY, "host", SCOPE_HOST);
	(void)mem;
	x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	names = step_names(c);
	cr_assert_str_eq(names, "listener backlog queue drops gap clients side effect", "%s", names);
	free(names);
	cr_assert(strstr(step_text(c, 4), "127.0.0.1:8080 had no listener for up to 1.5 s") != NULL, "%s", step_text(c, 4));
	cr_assert(strstr(step_text(c, 4), "oldsrv[700] before, nginx[812] after") != NULL, "%s", step_text(c, 4));
	cr_assert(strstr(step_text(c, 4), "this network namespace sent 4 resets") != NULL, "%s", step_text(c, 4));
	/* Only a side effect on this listener: its message is what the clients step quotes. */
	cr_assert_str_eq(step_text(c, 5), "Side effect of tcp-memory: 127.0.0.1:8080 overflowed its accept queue.");
	cr_assert_str_eq(step_text(c, 6), "slow-accept (warning). Fix: raise the backlog");
	/* The listener's four findings; the host finding is not one of them. */
	cr_assert_eq(json_array_size(get(c, "findings")), 4);
	json_decref(x);
}

Test(report, explain_host_interface_destination)
{
	char err[128] = "";
	struct finding_entry *e;
	json_t *x;
	const json_t *c;
	char *names;

	setup_host_state();
	e = add_host_entry(CAUSE_CONNTRACK_FULL, "host", SCOPE_HOST);
	add_extra(&e->f, "nf_conntrack_count", 100);
	add_host_entry(CAUSE_LINK_DROPS, "eth0", SCOPE_INTERFACE);
	add_host_entry(CAUSE_EPHEMERAL_PORTS, "10.0.0.5:5432", SCOPE_DESTINATION);
	/* The deep tier's top holder, named by procmap: the server that does not read. */
	deep.holders[0].pid = 812;
	snprintf(deep.holders[0].comm, sizeof(deep.holders[0].comm), "nginx");
	deep.holders[0].inode = 77;

	x = report_explain(&m, "host", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "match"), "subject");
	cr_assert_str_eq(get_str(c, "scope"), "host");
	cr_assert_str_eq(get_str(c, "subject"), "host");
	assert_null(c, "listener");
	names = step_names(c);
	cr_assert_str_eq(names, "sockets holders conntrack kernel finding evidence", "%s", names);
	free(names);
	cr_assert(strstr(step_text(c, 0), "orphaned 3 of net.ipv4.tcp_max_orphans 1024") != NULL, "%s", step_text(c, 0));
	cr_assert_str_eq(step_text(c, 1), "the sockets holding most memory, unread bytes first: [::1]:443 -> "
			 "[::1]:50000 CLOSE_WAIT unread 1048576 B unsent 10 B nginx[812]");
	cr_assert(strstr(step_text(c, 2), "100 connections tracked of net.netfilter.nf_conntrack_max 128; "
			 "this tick: drop +7") != NULL, "%s", step_text(c, 2));
	cr_assert(strstr(step_text(c, 3), "possible SYN flooding on 127.0.0.1 port 8080 (sending cookies); "
			 "conntrack-full") != NULL, "%s", step_text(c, 3));
	cr_assert(strncmp(step_text(c, 4), "conntrack-full (warning): host is in trouble.", 45) == 0);
	cr_assert_eq(json_array_size(get(c, "findings")), 1);
	json_decref(x);

	x = report_explain(&m, "eth0", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "scope"), "interface");
	cr_assert(strstr(step_text(c, 0), "eth0 (ifindex 2): rx_dropped 9 (+4 this tick), rx_missed_errors 1 (+0), "
			 "rx_fifo_errors 3 (+3)") != NULL, "%s", step_text(c, 0));
	cr_assert(strncmp(step_text(c, 1), "link-drops", 10) == 0);
	json_decref(x);

	/* An interface with no finding still answers, healthy. */
	x = report_explain(&m, "lo", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(step_text(c, 1), "healthy: no finding on this interface");
	json_decref(x);

	x = report_explain(&m, "10.0.0.5:5432", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "scope"), "destination");
	cr_assert_str_eq(get_str(c, "subject"), "10.0.0.5:5432");
	cr_assert(strstr(step_text(c, 0), "28000 sockets towards it (established 100, time_wait 27800") != NULL,
		  "%s", step_text(c, 0));
	cr_assert(strstr(step_text(c, 0), "32768-60999: 28232 ports") != NULL, "%s", step_text(c, 0));
	cr_assert(strncmp(step_text(c, 1), "ephemeral-ports", 15) == 0);
	json_decref(x);

	/* The port alone names local ports: a destination port does not match it. */
	cr_assert_null(report_explain(&m, "5432", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 5432");
	cr_assert_null(report_explain(&m, "eth9", err, sizeof(err)));
	cr_assert(strncmp(err, "bad target 'eth9'", 17) == 0, "%s", err);
}

Test(report, explain_host_with_no_sample_and_no_finding)
{
	char err[128] = "";
	json_t *x = report_explain(&m, "host", err, sizeof(err));
	const json_t *c;

	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(step_text(c, 0), "no host-wide sample yet (sockstat, conntrack, interfaces)");
	cr_assert_str_eq(step_text(c, 1), "healthy: no finding on the host");
	json_decref(x);
}

Test(report, explain_a_vanished_listener_by_its_gap)
{
	char err[128] = "";
	struct finding_entry *e;
	json_t *x;
	const json_t *c;

	setup_gaps();
	e = add_entry(CAUSE_LISTENER_GAP, "0.0.0.0:7070", FINDING_ACTIVE, 300);
	snprintf(e->f.body.happened, sizeof(e->f.body.happened), "0.0.0.0:7070 vanished.");
	x = report_explain(&m, "7070", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	cr_assert_str_eq(get_str(c, "scope"), "listener");
	cr_assert_str_eq(get_str(c, "subject"), "0.0.0.0:7070");
	cr_assert_str_eq(step_text(c, 0), "no listener on 0.0.0.0:7070 now");
	cr_assert(strstr(step_text(c, 1), "0.0.0.0:7070 has had no listener for 2.0 s") != NULL, "%s", step_text(c, 1));
	/* What clients saw during the gap is the finding's to say, not the gap step's. */
	cr_assert(!asserts_a_cause(step_text(c, 1)), "%s", step_text(c, 1));
	cr_assert(strncmp(step_text(c, 2), "listener-gap (warning): 0.0.0.0:7070 vanished.", 46) == 0, "%s",
		  step_text(c, 2));
	json_decref(x);

	/* A gap with no finding answers too, by its exact name. */
	x = report_explain(&m, "127.0.0.1:9090", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert(strstr(step_text(only_chain(x), 1), "had no listener for up to 1.5 s") != NULL);
	cr_assert(strstr(step_text(only_chain(x), 1), "refused") == NULL, "%s", step_text(only_chain(x), 1));
	json_decref(x);
}

Test(report, render_side_effects_detail_scopes_and_host)
{
	struct finding_entry *flood, *se, *e;
	json_t *s;
	char *out, *p, *q;

	setup_host_state();
	setup_gaps();
	m.track.limits.port_range_lo = 32768;
	m.track.limits.port_range_hi = 60999;
	se = add_entry(CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", FINDING_ACTIVE, 300);
	se->f.explained_by = CAUSE_SYN_FLOOD;
	se->f.priority = LOG_NOTICE;
	/* Core writes the side-effect clause into the message, once, for every output. */
	snprintf(se->f.body.happened, sizeof(se->f.body.happened), "The queue overflowed.");
	flood = add_entry(CAUSE_SYN_FLOOD, "127.0.0.1:8080", FINDING_ACTIVE, 300);
	snprintf(flood->f.detail, sizeof(flood->f.detail), "first line\nsecond line");
	e = add_host_entry(CAUSE_LINK_DROPS, "eth0", SCOPE_INTERFACE);
	(void)e;
	s = report_status(&m, T1_MS / 1000);
	out = render(render_status, s);

	cr_assert(strstr(out, "\n        port_range 32768-60999  max_tw_buckets 4096  max_orphans 1024  "
			 "conntrack_max 128\n") != NULL, "%s", out);
	cr_assert(strstr(out, "\nhost: tcp 120 in use, 3 orphaned, 20 time-wait, mem 50 pages; conntrack 100 of 128, "
			 "+7 drops, +2 insert failures; link drops: eth0 +7 (13 total), veth7 4 total\n") != NULL,
		  "%s", out);
	cr_assert(strstr(out, "\nRECENT LISTENER GAPS\nLISTENER        VANISHED") != NULL, "%s", out);
	cr_assert(strstr(out, "1.5 s  oldsrv[700]  nginx[812]       4\n") != NULL, "%s", out);
	cr_assert(strstr(out, "still absent  -            -                -\n") != NULL, "%s", out);
	/* The cause, its detail indented deeper, then its side effect, said once by its message. */
	p = strstr(out, "syn-flood        127.0.0.1:8080");
	cr_assert_not_null(p, "%s", out);
	cr_assert(strstr(p, "\n      first line\n      second line\n") != NULL, "%s", out);
	q = strstr(p, "backlog-small    127.0.0.1:8080");
	cr_assert_not_null(q, "%s", out);
	cr_assert(strncmp(strchr(q, '\n'), "\n    Side effect of syn-flood: the queue overflowed.\n", 52) == 0,
		  "%s", out);
	cr_assert_eq(count_of(out, "ide effect of"), 1, "%s", out);
	cr_assert(strstr(out, "link-drops       interface eth0\n") != NULL, "%s", out);
	free(out);
	json_decref(s);
}

Test(report, render_explain_subject_and_multiline_steps)
{
	char err[128] = "";
	struct finding_entry *e;
	json_t *x;
	char *out;

	setup_host_state();
	e = add_host_entry(CAUSE_LINK_DROPS, "eth0", SCOPE_INTERFACE);
	snprintf(e->f.detail, sizeof(e->f.detail), "rx_dropped +4\nrx_fifo_errors +3");
	x = report_explain(&m, "eth0", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	out = render(render_explain, x);
	cr_assert(strncmp(out, "interface eth0\n  interface  eth0 (ifindex 2)", 44) == 0, "%s", out);
	cr_assert(strstr(out, "\n  detail     rx_dropped +4\n             rx_fifo_errors +3\n") != NULL, "%s", out);
	free(out);
	json_decref(x);
}

/* New keys of the wrong type from a broken or other-version daemon: never crash. */
Test(report, render_odd_catalogue_documents)
{
	static const char *const docs[] = {
		"{\"limits\":{\"ip_local_port_range\":[1,\"x\"],\"tcp_mem\":{},\"tcp_tw_reuse\":\"y\"},"
		"\"host\":{\"sockstat\":[],\"conntrack\":{\"present\":true,\"deltas\":7},\"links\":[1,{\"name\":5,"
		"\"rx_dropped\":1e300,\"deltas\":[]},{\"rx_dropped\":9223372036854775807,\"rx_fifo_errors\":9223372036854775807}]},"
		"\"gaps\":[1,null,{\"gap_ms\":\"x\",\"absent\":1,\"old_pid\":\"p\",\"old_comm\":7},{}],"
		"\"findings\":[{\"explained_by\":\"syn-flood\",\"detail\":\"\\n\\n\"},{\"explained_by\":5,\"scope\":\"\","
		"\"detail\":\"a\\u0001\\nb\"},{\"cause\":\"syn-flood\",\"explained_by\":\"syn-flood\"}]}",
		"{\"host\":{\"conntrack\":{\"present\":true,\"count\":-5}},\"gaps\":{},\"findings\":[{\"scope\":5}]}",
		"{\"chains\":[{\"scope\":\"interface\",\"subject\":7,\"listener\":null,\"steps\":[{\"step\":\"x\","
		"\"text\":\"\\n\\na\\n\"}]},{\"scope\":3,\"subject\":\"s\"}]}",
	};
	render_fn fns[] = { render_status, render_listeners, render_findings, render_explain };

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++)
		for (size_t f = 0; f < 4; f++)
			free(render_text(fns[f], docs[d]));
}

/* ---- every namespace: a fleet built by hand ---- */

/*
 * Four namespaces, listed out of document order on purpose:
 *   host                 the fixture monitor m (3 listeners, 2 active findings)
 *   pid 812 (nginx)      found but its monitor not ready yet
 *   docker:3f2a9c1b7d2e  ready, no listeners
 *   blue                 127.0.0.1:8080 (same address as the host's) owned by
 *                        tcpload[4242] of alice, and 0.0.0.0:9000; somaxconn 128;
 *                        its last tick failed with EPERM
 */
#define HOST_INODE 4026531840ULL
#define BLUE_INODE 4026532500ULL
#define RED_INODE 4026532600ULL
#define PIDNS_INODE 4026532700ULL

static struct fleet fl;
static struct fleet_member fm_host, fm_blue, fm_red, fm_pid;
static struct fleet_member *fl_members[4];

static void member_ns(struct fleet_member *fm, uint64_t inode, enum netns_kind kind, const char *name, int pid)
{
	fm->ns.inode = inode;
	fm->ns.kind = kind;
	fm->ns.pid = pid;
	snprintf(fm->ns.name, sizeof(fm->ns.name), "%s", name);
	fm->nsfd = -1;
	fm->first_seen = T0_MS / 1000 - 5;
	fm->mon.netns_inode = inode;
	snprintf(fm->mon.netns_name, sizeof(fm->mon.netns_name), "%s", name);
}

static void setup_blue(void)
{
	struct monitor *b = &fm_blue.mon;
	struct listener_set set;
	struct counters host;
	struct limits lim;
	struct tracked *tr;
	struct finding_entry *e;

	limits_unknown(&lim);
	lim.somaxconn = 128;
	lim.tcp_abort_on_overflow = 0;
	b->cfg.tick_ms = 1000;
	b->started = T0_MS / 1000 - 5;
	track_init(&b->track);
	listener_set_init(&set);
	counters_init(&host);
	add_listener(&set, 900, AF_INET, "127.0.0.1", 8080, 0, 4, 0, true);
	add_listener(&set, 901, AF_INET, "0.0.0.0", 9000, 0, 128, 0, true);
	parse_counters(&host, "TcpExt: ListenOverflows\nTcpExt: 0\n");
	cr_assert_eq(tick_listeners(&b->track, &set, &host, &lim, T0_MS), 0);
	listener_set_clear(&set);
	add_listener(&set, 900, AF_INET, "127.0.0.1", 8080, 5, 4, 7, true);
	add_listener(&set, 901, AF_INET, "0.0.0.0", 9000, 0, 128, 0, true);
	parse_counters(&host, "TcpExt: ListenOverflows\nTcpExt: 7\n");
	cr_assert_eq(tick_listeners(&b->track, &set, &host, &lim, T1_MS), 0);
	b->limits = lim;
	b->last_error = -EPERM;
	b->failed_ticks = 1;

	tr = track_find(&b->track, 900);
	cr_assert_not_null(tr);
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->nprocs_total = 1;
	owner_mut(tr)->procs[0].pid = 4242;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "tcpload");
	snprintf(owner_mut(tr)->procs[0].cmdline, sizeof(owner_mut(tr)->procs[0].cmdline),
		 "tcpload --listen 127.0.0.1:8080 --no-accept");
	owner_mut(tr)->uid = 1000;
	snprintf(owner_mut(tr)->user, sizeof(owner_mut(tr)->user), "alice");

	findings_init(&b->findings, 8);
	e = add_entry_in(&b->findings, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", FINDING_ACTIVE, 150);
	snprintf(e->f.subject, sizeof(e->f.subject), "127.0.0.1:8080 tcpload[4242]");
	e->f.pid = 4242;
	snprintf(e->f.comm, sizeof(e->f.comm), "tcpload");
	snprintf(e->f.user, sizeof(e->f.user), "alice");
	e->f.uid = 1000;
	snprintf(e->f.cmdline, sizeof(e->f.cmdline), "tcpload --listen 127.0.0.1:8080 --no-accept");
	e->f.cookie = 900;
	/* The monitor's stamp; the fleet's view (with the kind) is what the documents show. */
	e->f.netns_inode = BLUE_INODE;
	snprintf(e->f.netns_name, sizeof(e->f.netns_name), "blue");
	add_entry_in(&b->findings, CAUSE_BACKLOG_SMALL, "0.0.0.0:9000", FINDING_RESOLVED, 20);

	listener_set_free(&set);
	counters_free(&host);
}

static void setup_fleet(void)
{
	memset(&fl, 0, sizeof(fl));
	memset(&fm_host, 0, sizeof(fm_host));
	memset(&fm_blue, 0, sizeof(fm_blue));
	memset(&fm_red, 0, sizeof(fm_red));
	memset(&fm_pid, 0, sizeof(fm_pid));
	/* The host member shares the fixture's monitor (a shallow copy: m owns the memory). */
	fm_host.mon = m;
	member_ns(&fm_host, HOST_INODE, NETNS_HOST, "host", 1);
	fm_host.ready = true;
	member_ns(&fm_blue, BLUE_INODE, NETNS_NAMED, "blue", 0);
	setup_blue();
	fm_blue.ready = true;
	member_ns(&fm_red, RED_INODE, NETNS_CONTAINER, "docker:3f2a9c1b7d2e", 3000);
	track_init(&fm_red.mon.track);
	findings_init(&fm_red.mon.findings, 8);
	limits_unknown(&fm_red.mon.limits);
	fm_red.ready = true;
	member_ns(&fm_pid, PIDNS_INODE, NETNS_PROCESS, "pid 812 (nginx)", 812);
	fm_pid.ready = false;

	fl_members[0] = &fm_host;
	fl_members[1] = &fm_pid;
	fl_members[2] = &fm_red;
	fl_members[3] = &fm_blue;
	fl.members = fl_members;
	fl.count = 4;
	fl.cap = 4;
	fl.scan = true;
	fl.scans = 9;
	fl.ns_added = 3;
	fl.ns_removed = 1;
}

static void teardown_fleet(void)
{
	free(fm_blue.mon.findings.items);
	track_free(&fm_blue.mon.track);
	track_free(&fm_red.mon.track);
	findings_free(&fm_red.mon.findings);
	teardown();
}

static void setup_with_fleet(void)
{
	setup();
	setup_fleet();
}

TestSuite(fleet, .init = setup_with_fleet, .fini = teardown_fleet);

static void assert_netns(const json_t *o, const char *name, uint64_t inode, const char *kind)
{
	const json_t *ns = get(o, "netns");

	cr_assert(json_is_object(ns), "no netns object");
	cr_assert_str_eq(get_str(ns, "name"), name);
	cr_assert_eq(get_int(ns, "inode"), (json_int_t)inode);
	if (kind)
		cr_assert_str_eq(get_str(ns, "kind"), kind);
	else
		assert_null(ns, "kind");
}

Test(fleet, status_daemon_limits_and_host_are_the_hosts)
{
	json_t *s = report_fleet_status(&fl, T1_MS / 1000);
	const json_t *d;

	cr_assert_not_null(s);
	d = get(s, "daemon");
	/* The keys scripts read keep their meaning: the host's monitor, counts over every namespace. */
	cr_assert_eq(get_int(d, "ticks"), 2);
	cr_assert_eq(get_int(d, "uptime_s"), 12);
	cr_assert_eq(get_int(d, "tick_interval_ms"), 1000);
	assert_null(d, "last_error");
	cr_assert_eq(get_int(d, "listeners_count"), 5);
	cr_assert_eq(get_int(d, "findings_active"), 3);
	cr_assert_eq(get_int(d, "namespaces_count"), 4);
	cr_assert(json_is_true(get(d, "scan")));
	cr_assert_eq(get_int(d, "scans"), 9);
	cr_assert_eq(get_int(d, "ns_added"), 3);
	cr_assert_eq(get_int(d, "ns_removed"), 1);
	assert_null(d, "scan_error");
	cr_assert_eq(get_int(get(s, "limits"), "somaxconn"), 4096);
	cr_assert_eq(get_int(get(get(get(s, "host"), "counters"), "ListenOverflows"), "total"), 15);
	json_decref(s);

	fl.last_scan_error = -EMFILE;
	s = report_fleet_status(&fl, T1_MS / 1000);
	cr_assert_str_eq(get_str(get(s, "daemon"), "scan_error"), strerror(EMFILE));
	json_decref(s);
}

Test(fleet, listeners_flat_host_first_each_with_netns)
{
	json_t *s = report_fleet_status(&fl, T1_MS / 1000);
	json_t *a = report_fleet_listeners(&fl);
	const json_t *ls = get(s, "listeners"), *l;
	static const char *const names[] = { "[::1]:443", "127.0.0.1:8080", "[::]:8080", "127.0.0.1:8080", "0.0.0.0:9000" };

	cr_assert_eq(json_array_size(ls), 5);
	cr_assert(json_equal(a, (json_t *)ls), "the listeners command and status disagree");
	for (size_t i = 0; i < 5; i++) {
		l = json_array_get(ls, i);
		cr_assert_str_eq(get_str(l, "listener"), names[i], "listener %zu", i);
		if (i < 3)
			assert_netns(l, "host", HOST_INODE, "host");
		else
			assert_netns(l, "blue", BLUE_INODE, "named");
	}
	/* The owner: per-process command line, the user and uid when procmap read them. */
	l = json_array_get(ls, 3);
	cr_assert_str_eq(get_str(json_array_get(get(l, "processes"), 0), "cmdline"),
			 "tcpload --listen 127.0.0.1:8080 --no-accept");
	cr_assert_str_eq(get_str(l, "user"), "alice");
	cr_assert_eq(get_int(l, "owner_uid"), 1000);
	/* "uid" stays the socket's (sock_diag), as scripts know it. */
	cr_assert_eq(get_int(l, "uid"), 33);
	l = json_array_get(ls, 1);
	assert_null(json_array_get(get(l, "processes"), 0), "cmdline");
	assert_null(l, "user");
	/* A zeroed owner (uid 0, no name) is unknown, not root. */
	assert_null(l, "owner_uid");
	json_decref(a);
	json_decref(s);
}

Test(fleet, findings_flat_active_first_across_namespaces)
{
	json_t *s = report_fleet_status(&fl, T1_MS / 1000);
	json_t *a = report_fleet_findings(&fl);
	const json_t *fs = get(s, "findings"), *f;
	static const struct {
		const char *cause, *state, *ns;
		json_int_t first_seen;
	} want[] = {
		{ "overflow-reset", "active", "host", 100 },
		{ "backlog-small", "active", "blue", 150 },
		{ "backlog-clamped", "active", "host", 200 },
		{ "backlog-small", "resolved", "host", 10 },
		{ "backlog-small", "resolved", "blue", 20 },
		{ "backlog-small", "resolved", "host", 50 },
	};

	cr_assert_eq(json_array_size(fs), 6);
	cr_assert(json_equal(a, (json_t *)fs), "the findings command and status disagree");
	for (size_t i = 0; i < 6; i++) {
		f = json_array_get(fs, i);
		cr_assert_str_eq(get_str(f, "cause"), want[i].cause, "entry %zu", i);
		cr_assert_str_eq(get_str(f, "state"), want[i].state, "entry %zu", i);
		cr_assert_eq(get_int(f, "first_seen"), want[i].first_seen, "entry %zu", i);
		cr_assert_str_eq(get_str(get(f, "netns"), "name"), want[i].ns, "entry %zu", i);
	}
	f = json_array_get(fs, 1);
	assert_netns(f, "blue", BLUE_INODE, "named");
	cr_assert_str_eq(get_str(f, "user"), "alice");
	cr_assert_eq(get_int(f, "uid"), 1000);
	cr_assert_str_eq(get_str(f, "cmdline"), "tcpload --listen 127.0.0.1:8080 --no-accept");
	f = json_array_get(fs, 0);
	assert_null(f, "user");
	assert_null(f, "uid");
	assert_null(f, "cmdline");
	json_decref(a);
	json_decref(s);
}

Test(fleet, namespaces_entries)
{
	json_t *s = report_fleet_status(&fl, T1_MS / 1000);
	const json_t *nss = get(s, "namespaces"), *x;
	static const char *const names[] = { "host", "blue", "docker:3f2a9c1b7d2e", "pid 812 (nginx)" };
	static const char *const kinds[] = { "host", "named", "container", "process" };

	cr_assert_eq(json_array_size(nss), 4);
	for (size_t i = 0; i < 4; i++) {
		x = json_array_get(nss, i);
		cr_assert_str_eq(get_str(x, "name"), names[i], "entry %zu", i);
		cr_assert_str_eq(get_str(x, "kind"), kinds[i], "entry %zu", i);
	}
	x = json_array_get(nss, 0);
	cr_assert_eq(get_int(x, "inode"), (json_int_t)HOST_INODE);
	cr_assert_eq(get_int(x, "listeners_count"), 3);
	cr_assert_eq(get_int(x, "findings_active"), 2);
	cr_assert(json_is_true(get(x, "ready")));
	x = json_array_get(nss, 1);
	cr_assert_eq(get_int(x, "inode"), (json_int_t)BLUE_INODE);
	assert_null(x, "pid");
	cr_assert_eq(get_int(get(x, "limits"), "somaxconn"), 128);
	cr_assert_eq(get_int(x, "listeners_count"), 2);
	cr_assert_eq(get_int(x, "findings_active"), 1);
	cr_assert_eq(get_int(x, "ticks"), 2);
	cr_assert_str_eq(get_str(x, "last_error"), strerror(EPERM));
	cr_assert_eq(get_int(x, "first_seen"), T0_MS / 1000 - 5);
	x = json_array_get(nss, 2);
	cr_assert_eq(get_int(x, "pid"), 3000);
	cr_assert_eq(get_int(x, "listeners_count"), 0);
	assert_null(x, "last_error");
	/* Not looked at yet: no numbers rather than zeros. */
	x = json_array_get(nss, 3);
	cr_assert(json_is_false(get(x, "ready")));
	cr_assert_eq(get_int(x, "pid"), 812);
	assert_null(x, "listeners_count");
	assert_null(x, "findings_active");
	assert_null(x, "limits");
	json_decref(s);
}

Test(fleet, gaps_carry_their_namespace)
{
	json_t *s;
	const json_t *gaps;

	setup_gaps();
	fm_host.mon = m;
	s = report_fleet_status(&fl, T1_MS / 1000);
	gaps = get(s, "gaps");
	cr_assert_eq(json_array_size(gaps), 2);
	assert_netns(json_array_get(gaps, 0), "host", HOST_INODE, "host");
	json_decref(s);
}

Test(fleet, one_monitor_status_tags_its_own_namespace)
{
	json_t *s;

	m.netns_inode = BLUE_INODE;
	snprintf(m.netns_name, sizeof(m.netns_name), "blue");
	s = report_status(&m, T1_MS / 1000);
	cr_assert_not_null(s);
	/* No fleet: the kind is not known, the rest is the monitor's. */
	assert_netns(json_array_get(get(s, "listeners"), 0), "blue", BLUE_INODE, NULL);
	assert_netns(json_array_get(get(s, "findings"), 0), "blue", BLUE_INODE, NULL);
	cr_assert_null(json_object_get(get(s, "daemon"), "namespaces_count"));
	json_decref(s);
}

Test(fleet, no_members_and_a_host_not_ready)
{
	struct fleet empty;
	json_t *s;
	char err[256] = "";

	memset(&empty, 0, sizeof(empty));
	s = report_fleet_status(&empty, 42);
	cr_assert_not_null(s);
	cr_assert_eq(get_int(get(s, "daemon"), "namespaces_count"), 0);
	assert_null(s, "limits");
	assert_null(s, "host");
	cr_assert_eq(json_array_size(get(s, "listeners")), 0);
	json_decref(s);
	cr_assert_null(report_fleet_explain(&empty, "8080", err, sizeof(err)));
	cr_assert_str_eq(err, "no namespace is watched yet");

	fm_host.ready = false;
	s = report_fleet_status(&fl, T1_MS / 1000);
	cr_assert_not_null(s);
	assert_null(s, "limits");
	cr_assert_eq(get_int(get(s, "daemon"), "listeners_count"), 2);
	cr_assert_eq(json_array_size(get(s, "listeners")), 2);
	json_decref(s);
}

Test(fleet, explain_with_a_namespace_prefix)
{
	char err[256] = "";
	const char *targets[] = { "blue/127.0.0.1:8080", "4026532500/127.0.0.1:8080" };

	for (size_t i = 0; i < 2; i++) {
		json_t *x = report_fleet_explain(&fl, targets[i], err, sizeof(err));
		const json_t *c;

		cr_assert_not_null(x, "%s: %s", targets[i], err);
		cr_assert_str_eq(get_str(x, "target"), "127.0.0.1:8080");
		assert_netns(x, "blue", BLUE_INODE, "named");
		c = only_chain(x);
		assert_netns(c, "blue", BLUE_INODE, "named");
		assert_netns(get(c, "listener"), "blue", BLUE_INODE, "named");
		assert_netns(json_array_get(get(c, "findings"), 0), "blue", BLUE_INODE, "named");
		/* The listener step names who runs it and how it was started. */
		cr_assert_str_eq(step_text(c, 0), "127.0.0.1:8080 held by tcpload[4242], user alice; "
				 "command: tcpload --listen 127.0.0.1:8080 --no-accept");
		cr_assert(strstr(step_text(c, 1), "net.core.somaxconn 128") != NULL, "%s", step_text(c, 1));
		/* blue's monitor reads blue's counters: the drops step must not call them the host's. */
		cr_assert(strstr(step_text(c, 3), "this network namespace's ListenOverflows +7") != NULL, "%s",
			  step_text(c, 3));
		cr_assert(strstr(step_text(c, 3), "host") == NULL, "%s", step_text(c, 3));
		json_decref(x);
	}
}

Test(fleet, explain_the_same_address_in_two_namespaces)
{
	char err[256] = "";
	json_t *x = report_fleet_explain(&fl, "127.0.0.1:8080", err, sizeof(err));
	const json_t *chains;

	cr_assert_not_null(x, "%s", err);
	assert_null(x, "netns");
	chains = get(x, "chains");
	cr_assert_eq(json_array_size(chains), 2);
	assert_netns(json_array_get(chains, 0), "host", HOST_INODE, "host");
	assert_netns(json_array_get(chains, 1), "blue", BLUE_INODE, "named");
	cr_assert(strstr(step_text(json_array_get(chains, 0), 0), "nginx[812]") != NULL);
	cr_assert(strstr(step_text(json_array_get(chains, 1), 0), "tcpload[4242]") != NULL);
	json_decref(x);

	/* A port: the host's two listeners on it and blue's one. */
	x = report_fleet_explain(&fl, "8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert_eq(json_array_size(get(x, "chains")), 3);
	json_decref(x);

	/* Only blue listens on 9000. */
	x = report_fleet_explain(&fl, "9000", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	assert_netns(only_chain(x), "blue", BLUE_INODE, "named");
	json_decref(x);
}

Test(fleet, explain_wildcards_and_subjects_across_namespaces)
{
	char err[256] = "";
	json_t *x;
	struct finding_entry *e;

	/* An exact listener in one namespace beats a wildcard in another. */
	x = report_fleet_explain(&fl, "10.1.2.3:9000", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert_str_eq(get_str(only_chain(x), "match"), "wildcard");
	assert_netns(only_chain(x), "blue", BLUE_INODE, "named");
	json_decref(x);
	x = report_fleet_explain(&fl, "10.1.2.3:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	assert_netns(only_chain(x), "host", HOST_INODE, "host");
	json_decref(x);

	/* "host" exists in every namespace: the host's, and another's only when it has a finding there. */
	x = report_fleet_explain(&fl, "host", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	assert_netns(only_chain(x), "host", HOST_INODE, "host");
	json_decref(x);
	e = add_entry_in(&fm_blue.mon.findings, CAUSE_ORPHANS, "host", FINDING_ACTIVE, 300);
	e->f.scope = SCOPE_HOST;
	x = report_fleet_explain(&fl, "host", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert_eq(json_array_size(get(x, "chains")), 2);
	assert_netns(json_array_get(get(x, "chains"), 1), "blue", BLUE_INODE, "named");
	json_decref(x);
	x = report_fleet_explain(&fl, "blue/host", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_assert(strncmp(step_text(only_chain(x), 1), "orphans", 7) == 0, "%s", step_text(only_chain(x), 1));
	json_decref(x);
}

Test(fleet, explain_errors)
{
	char err[256] = "";

	cr_assert_null(report_fleet_explain(&fl, "green/8080", err, sizeof(err)));
	cr_assert_str_eq(err, "no namespace green (known: host, blue, docker:3f2a9c1b7d2e, pid 812 (nginx))");
	cr_assert_null(report_fleet_explain(&fl, "/8080", err, sizeof(err)));
	cr_assert(strncmp(err, "no namespace  (known: host", 26) == 0, "%s", err);
	cr_assert_null(report_fleet_explain(&fl, "pid 812 (nginx)/8080", err, sizeof(err)));
	cr_assert_str_eq(err, "namespace pid 812 (nginx) is not watched yet");
	cr_assert_null(report_fleet_explain(&fl, "blue/7777", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 7777 (namespace blue)");
	cr_assert_null(report_fleet_explain(&fl, "blue/", err, sizeof(err)));
	cr_assert(strncmp(err, "bad target ''", 13) == 0, "%s", err);
	cr_assert_null(report_fleet_explain(&fl, "1.2.3.4:7777", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 1.2.3.4:7777 in any of the 3 namespaces");
	cr_assert_null(report_fleet_explain(&fl, "nonsense", err, sizeof(err)));
	cr_assert(strncmp(err, "bad target 'nonsense'", 21) == 0, "%s", err);
	/* The inode as a number that overflows, a name longer than any: unknown, not a crash. */
	cr_assert_null(report_fleet_explain(&fl, "99999999999999999999999/8080", err, sizeof(err)));
	cr_assert(strncmp(err, "no namespace 9999", 17) == 0, "%s", err);
	{
		char longname[400];

		memset(longname, 'x', sizeof(longname));
		memcpy(longname + 300, "/8080", 6);
		cr_assert_null(report_fleet_explain(&fl, longname, err, sizeof(err)));
		cr_assert(strncmp(err, "no namespace xxx", 16) == 0, "%s", err);
	}
	cr_assert_null(report_fleet_explain(&fl, NULL, err, sizeof(err)));
	cr_assert_null(report_fleet_explain(&fl, "green/1", NULL, 0));
	/* With one namespace the daemon's old wording stays. */
	fl.count = 1;
	cr_assert_null(report_fleet_explain(&fl, "1.2.3.4:7777", err, sizeof(err)));
	cr_assert_str_eq(err, "no listener on 1.2.3.4:7777");
}

/* A namespace name that is not UTF-8, or fills its array with no NUL: the documents still come out. */
Test(fleet, odd_namespace_names)
{
	json_t *s;
	char err[256] = "";

	snprintf(fm_blue.ns.name, sizeof(fm_blue.ns.name), "bl\xff" "e");
	memset(fm_red.ns.name, 'r', sizeof(fm_red.ns.name));
	fm_red.ns.kind = (enum netns_kind)77;
	s = report_fleet_status(&fl, T1_MS / 1000);
	cr_assert_not_null(s);
	cr_assert_str_eq(get_str(get(json_array_get(get(s, "listeners"), 3), "netns"), "name"), "bl?e");
	cr_assert_eq(strlen(get_str(json_array_get(get(s, "namespaces"), 3), "name")), NETNS_NAME_MAX);
	cr_assert_str_eq(get_str(json_array_get(get(s, "namespaces"), 3), "kind"), "unknown");
	json_decref(s);
	cr_assert_null(report_fleet_explain(&fl, "nope/1", err, sizeof(err)));
	cr_assert(strstr(err, "rrrr") != NULL, "%s", err);
}

/* ---- render: namespaces ---- */

Test(fleet, render_status_groups_listeners_by_namespace)
{
	json_t *s = report_fleet_status(&fl, T1_MS / 1000);
	char *out = render(render_status, s);
	const char *host_h, *blue_h, *empty, *blue_row, *host_row;

	cr_assert(strstr(out, ", 4 namespaces, 5 listeners, 3 active findings\n") != NULL, "%s", out);
	host_h = strstr(out, "\nnamespace host (backlogd's own, inode 4026531840)\nLISTENER ");
	blue_h = strstr(out, "\n\nnamespace blue (named, inode 4026532500)\nLISTENER ");
	empty = strstr(out, "\n2 namespaces without listeners: docker:3f2a9c1b7d2e, pid 812 (nginx)\n");
	cr_assert_not_null(host_h, "%s", out);
	cr_assert_not_null(blue_h, "%s", out);
	cr_assert_not_null(empty, "%s", out);
	cr_assert(host_h < blue_h && blue_h < empty, "%s", out);
	/* Each namespace's rows under its own heading. */
	host_row = strstr(out, "\n127.0.0.1:8080 ");
	blue_row = strstr(blue_h, "\n127.0.0.1:8080 ");
	cr_assert(host_row && host_row < blue_h, "%s", out);
	cr_assert(blue_row && strstr(blue_row, "tcpload[4242]") < strchr(blue_row + 1, '\n'), "%s", out);
	cr_assert(strstr(out, "\nnamespace blue: latest tick failed: ") != NULL, "%s", out);
	/* Findings outside the host say where; the host's do not. */
	cr_assert(strstr(out, "backlog-small    [blue] 127.0.0.1:8080 tcpload[4242]\n") != NULL, "%s", out);
	cr_assert(strstr(out, "overflow-reset   127.0.0.1:8080 nginx[812] nginx.service\n") != NULL, "%s", out);
	free(out);
	json_decref(s);
}

Test(fleet, render_listeners_array_and_empty_namespaces)
{
	json_t *a = report_fleet_listeners(&fl);
	char *out = render(render_listeners, a);

	cr_assert(strncmp(out, "namespace host (backlogd's own, inode 4026531840)\nLISTENER", 58) == 0, "%s", out);
	cr_assert(strstr(out, "\n\nnamespace blue (named, inode 4026532500)\nLISTENER") != NULL, "%s", out);
	/* No namespaces[] here: nothing to count without listeners. */
	cr_assert_null(strstr(out, "without listeners"), "%s", out);
	free(out);
	json_decref(a);

	/* Only the host, with scan off or an older daemon: the table as it always was. */
	fl.count = 1;
	a = report_fleet_status(&fl, T1_MS / 1000);
	out = render(render_status, a);
	cr_assert_null(strstr(out, "namespace host ("), "%s", out);
	cr_assert_null(strstr(out, "without listeners"), "%s", out);
	cr_assert(strstr(out, "\n\nLISTENER ") != NULL, "%s", out);
	/* Scan on: the count is news even when only the host is there. */
	cr_assert(strstr(out, ", 1 namespace, 3 listeners") != NULL, "%s", out);
	free(out);
	json_decref(a);

	/* No listener anywhere: said once, the namespaces counted. */
	out = render_text(render_status, "{\"listeners\":[],\"namespaces\":[{\"name\":\"host\",\"kind\":\"host\"},"
			  "{\"name\":\"blue\",\"kind\":\"named\"}]}");
	cr_assert(strstr(out, "No listeners.\n2 namespaces without listeners: host, blue\n") != NULL, "%s", out);
	free(out);
}

Test(fleet, render_explain_names_the_namespace)
{
	char err[256] = "";
	json_t *x = report_fleet_explain(&fl, "127.0.0.1:8080", err, sizeof(err));
	char *out;

	cr_assert_not_null(x, "%s", err);
	out = render(render_explain, x);
	cr_assert(strncmp(out, "127.0.0.1:8080\n  listener  127.0.0.1:8080 held by nginx[812]", 60) == 0, "%s", out);
	cr_assert(strstr(out, "\n\n[blue] 127.0.0.1:8080\n  listener  127.0.0.1:8080 held by tcpload[4242], "
			 "user alice; command: tcpload --listen") != NULL, "%s", out);
	free(out);
	json_decref(x);
}

/* A side effect is explained by a cause in its own namespace only. */
Test(fleet, render_side_effect_cause_in_the_same_namespace)
{
	char *out = render_text(render_findings,
				"[{\"cause\":\"syn-flood\",\"state\":\"active\",\"listener\":\"1.2.3.4:80\",\"subject\":\"1.2.3.4:80\","
				"\"netns\":{\"name\":\"host\",\"kind\":\"host\",\"inode\":1}},"
				"{\"cause\":\"syn-flood\",\"state\":\"active\",\"listener\":\"5.6.7.8:80\",\"subject\":\"5.6.7.8:80\","
				"\"netns\":{\"name\":\"blue\",\"kind\":\"named\",\"inode\":2}},"
				"{\"cause\":\"backlog-small\",\"state\":\"active\",\"listener\":\"9.9.9.9:80\",\"subject\":\"9.9.9.9:80\","
				"\"message\":\"Side effect of syn-flood on 5.6.7.8:80: 9.9.9.9:80 dropped connections.\","
				"\"explained_by\":\"syn-flood\",\"netns\":{\"name\":\"blue\",\"kind\":\"named\",\"inode\":2}}]");

	/* The message says it, and nothing else repeats it. */
	cr_assert(strstr(out, "\n    Side effect of syn-flood on 5.6.7.8:80: 9.9.9.9:80 dropped connections.\n") != NULL,
		  "%s", out);
	cr_assert_eq(count_of(out, "ide effect of"), 1, "%s", out);
	/* It follows its cause, blue's. */
	cr_assert(strstr(out, "[blue] 5.6.7.8:80") < strstr(out, "[blue] 9.9.9.9:80"), "%s", out);
	free(out);
}

/* Namespace keys of every wrong type from a broken or other-version daemon: never crash. */
Test(fleet, render_odd_namespace_documents)
{
	static const char *const docs[] = {
		"{\"daemon\":{\"namespaces_count\":\"x\",\"scan\":1,\"scan_error\":5},\"namespaces\":{},"
		"\"listeners\":[{\"listener\":\"a\",\"netns\":5},{\"listener\":\"b\",\"netns\":{\"inode\":\"x\",\"name\":7,\"kind\":[]}},"
		"{\"listener\":\"c\",\"netns\":{}},{\"listener\":\"d\",\"netns\":{\"kind\":\"named\"}},{\"listener\":\"e\"}],"
		"\"findings\":[{\"netns\":[]},{\"netns\":{\"name\":\"a\\u0001b\",\"kind\":\"named\"},\"subject\":\"s\"}],"
		"\"gaps\":[{\"listener\":\"g\",\"netns\":{\"name\":\"\",\"inode\":-1}}]}",
		"{\"daemon\":{\"namespaces_count\":3,\"scan_error\":\"bad\\nscan\"},\"namespaces\":[1,null,[],{\"name\":5},"
		"{\"kind\":\"named\"},{\"name\":\"blue\",\"inode\":1e300,\"last_error\":\"x\\u0002y\"}],"
		"\"listeners\":[{\"listener\":\"a\",\"netns\":{\"name\":\"blue\"}},{\"listener\":\"b\",\"netns\":{\"inode\":1}}]}",
		"{\"chains\":[{\"netns\":\"blue\",\"steps\":[]},{\"netns\":{\"name\":\"x\\u001by\",\"kind\":\"named\"},\"subject\":\"s\"}]}",
	};
	render_fn fns[] = { render_status, render_listeners, render_findings, render_explain };
	char *out;

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++)
		for (size_t f = 0; f < 4; f++)
			free(render_text(fns[f], docs[d]));
	/* Control characters in a namespace name are made harmless. */
	out = render_text(render_findings, "[{\"subject\":\"s\",\"netns\":{\"name\":\"a\\u0001b\",\"kind\":\"named\"}}]");
	cr_assert(strstr(out, "[a?b] s\n") != NULL, "%s", out);
	free(out);
	out = render_text(render_status, "{\"daemon\":{\"scan_error\":\"bad\\nscan\"}}");
	cr_assert(strstr(out, "namespace scan failed: bad?scan (") != NULL, "%s", out);
	free(out);
}

/* Skipped namespaces are said under the header, with why; nothing when none are. */
Test(fleet, render_capped_namespaces)
{
	char *out;

	out = render_text(render_status, "{\"daemon\":{\"namespaces_count\":8,\"namespaces_found\":302,"
			  "\"namespaces_cap\":8,\"namespaces_capped\":\"max_namespaces\",\"scan\":true}}");
	cr_assert(strstr(out, "namespaces capped: watching 8 of 302, max_namespaces = 8; named and "
			  "container namespaces come first\n") != NULL, "%s", out);
	free(out);
	out = render_text(render_status, "{\"daemon\":{\"namespaces_count\":43,\"namespaces_found\":302,"
			  "\"namespaces_cap\":256,\"namespaces_capped\":\"open files\",\"scan\":true}}");
	cr_assert(strstr(out, "watching 43 of 302, the open-file limit is near;") != NULL, "%s", out);
	free(out);
	out = render_text(render_status, "{\"daemon\":{\"namespaces_count\":3,\"namespaces_found\":3,"
			  "\"namespaces_cap\":256,\"namespaces_capped\":null,\"scan\":true}}");
	cr_assert(strstr(out, "capped") == NULL, "%s", out);
	free(out);
}

/* The namespace prefix takes room only when it is printed: a long host subject is not cut. */
Test(fleet, render_long_subject_keeps_its_room)
{
	char subj[201], doc[512], *out;

	memset(subj, 's', 200);
	subj[200] = '\0';
	snprintf(doc, sizeof(doc), "[{\"subject\":\"%s\"}]", subj);
	out = render_text(render_findings, doc);
	cr_assert(strstr(out, subj) != NULL, "%s", out);
	free(out);
	snprintf(doc, sizeof(doc), "[{\"subject\":\"%s\",\"netns\":{\"name\":\"blue\",\"kind\":\"named\"}}]", subj);
	out = render_text(render_findings, doc);
	cr_assert(strstr(out, "[blue] sss") != NULL, "%s", out);
	free(out);
}

/* The owner's user and command line reach a finding from diagnose itself. */
Test(fleet, diagnose_copies_the_owner_account)
{
	struct diag_thresholds thr;
	struct finding_list out;
	const struct finding *hit = NULL;

	diag_thresholds_default(&thr);
	finding_list_init(&out);
	cr_assert_eq(diagnose(&fm_blue.mon.track, &thr, &out), 0);
	for (size_t i = 0; i < out.count; i++)
		if (out.items[i].cookie == 900)
			hit = &out.items[i];
	cr_assert_not_null(hit, "no finding on blue's 127.0.0.1:8080 (%zu findings)", out.count);
	cr_assert_str_eq(hit->user, "alice");
	cr_assert_eq(hit->uid, 1000);
	cr_assert_str_eq(hit->cmdline, "tcpload --listen 127.0.0.1:8080 --no-accept");
	finding_list_free(&out);
}

/* ---- the journal catalog ---- */

struct catalog_entry {
	char id[64];
	char subject[512];
	bool defined_by;
	bool documentation;
	size_t body_lines;
};

/* Parse systemd/backlogd.catalog the way journalctl does: "-- ID" opens an entry, headers, a blank line, the body. */
static size_t read_catalog(struct catalog_entry *ents, size_t max)
{
	FILE *f = fopen(FIXTURES "/../../systemd/backlogd.catalog", "r");
	char line[1024];
	size_t n = 0;
	bool in_header = false;

	cr_assert_not_null(f, "cannot open the catalog: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (strncmp(line, "-- ", 3) == 0) {
			cr_assert_lt(n, max, "too many catalog entries");
			memset(&ents[n], 0, sizeof(ents[n]));
			snprintf(ents[n].id, sizeof(ents[n].id), "%.63s", line + 3);
			n++;
			in_header = true;
			continue;
		}
		if (n == 0)
			continue;
		if (in_header) {
			if (line[0] == '\0')
				in_header = false;
			else if (strncmp(line, "Subject: ", 9) == 0)
				snprintf(ents[n - 1].subject, sizeof(ents[n - 1].subject), "%.511s", line + 9);
			else if (strcmp(line, "Defined-By: backlogd") == 0)
				ents[n - 1].defined_by = true;
			else if (strncmp(line, "Documentation: ", 15) == 0)
				ents[n - 1].documentation = true;
			continue;
		}
		if (line[0])
			ents[n - 1].body_lines++;
	}
	fclose(f);
	return n;
}

Test(catalog, one_entry_per_cause_naming_its_code)
{
	struct catalog_entry ents[64];
	size_t n = read_catalog(ents, 64);

	for (int c = CAUSE_FIRST; c < CAUSE_COUNT; c++) {
		const char *id = cause_message_id((enum cause)c);
		const char *code = cause_code((enum cause)c);
		size_t found = 0;

		cr_assert_not_null(id, "cause %d has no MESSAGE_ID", c);
		cr_assert_not_null(code, "cause %d has no code", c);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ents[i].id, id) != 0)
				continue;
			found++;
			cr_assert(strstr(ents[i].subject, code) != NULL, "%s: Subject does not name %s: %s",
				  id, code, ents[i].subject);
		}
		cr_assert_eq(found, 1, "%s (%s): %zu catalog entries", code, id, found);
	}
}

Test(catalog, entries_well_formed_and_ids_unique)
{
	struct catalog_entry ents[64];
	size_t n = read_catalog(ents, 64);

	/* Every cause, and the one shared by resolutions. */
	cr_assert_eq(n, (size_t)(CAUSE_COUNT - CAUSE_FIRST) + 1);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(strlen(ents[i].id), 32, "bad MESSAGE_ID '%s'", ents[i].id);
		cr_assert_eq(strspn(ents[i].id, "0123456789abcdef"), 32, "bad MESSAGE_ID '%s'", ents[i].id);
		cr_assert(ents[i].subject[0], "%s has no Subject", ents[i].id);
		cr_assert(ents[i].defined_by, "%s lacks Defined-By: backlogd", ents[i].id);
		cr_assert(ents[i].documentation, "%s lacks Documentation", ents[i].id);
		cr_assert_gt(ents[i].body_lines, 2, "%s has no body", ents[i].id);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(ents[i].id, ents[j].id, "MESSAGE_ID %s twice", ents[i].id);
	}
}

/* ---- the clients the eBPF tier saw dropped or refused ---- */

static void set_client(struct finding_clients *c, size_t i, int family, const char *addr, uint16_t port,
		       uint64_t count, int64_t first_ms, int64_t last_ms)
{
	struct finding_client *p = &c->top[i];

	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	cr_assert_eq(inet_pton(family, addr, p->addr), 1);
	p->port = port;
	p->count = count;
	p->first_ms = first_ms;
	p->last_ms = last_ms;
	if (c->n < i + 1)
		c->n = i + 1;
}

/*
 * The overflow-reset on 127.0.0.1:8080: 40 drops from 6 peers, the two
 * busiest named; a listener-gap on [::1]:9090 that refused one peer.
 * now is T1_MS: 1002 s.
 */
static struct finding_entry *setup_clients(void)
{
	struct finding_clients *c = &m.findings.items[2].f.clients;
	struct finding_entry *gap;

	cr_assert_eq(m.findings.items[2].f.cause, CAUSE_OVERFLOW_RESET);
	c->known = true;
	set_client(c, 0, AF_INET, "127.0.0.11", 40000, 12, 990000, 1001000);
	set_client(c, 1, AF_INET, "127.0.0.12", 41000, 9, 992250, 1000000);
	c->total = 40;
	c->peers = 6;
	c->first_ms = 990000;
	c->last_ms = 1001500;
	gap = add_entry(CAUSE_LISTENER_GAP, "[::1]:9090", FINDING_ACTIVE, 300);
	gap->f.clients.known = true;
	set_client(&gap->f.clients, 0, AF_INET6, "::1", 50000, 1, 1000000, 1000000);
	gap->f.clients.total = 1;
	gap->f.clients.peers = 1;
	gap->f.clients.first_ms = 1000000;
	gap->f.clients.last_ms = 1000000;
	return gap;
}

Test(report, finding_clients_json)
{
	json_t *a;
	const json_t *f, *c, *top, *p;

	setup_clients();
	a = report_findings(&m.findings);
	f = json_array_get(a, 0);
	cr_assert_str_eq(get_str(f, "cause"), "overflow-reset");
	c = get(f, "clients");
	cr_assert(json_is_object(c));
	cr_assert_eq(get_int(c, "total"), 40);
	cr_assert_eq(get_int(c, "peers"), 6);
	cr_assert_eq(get_int(c, "first_ms"), 990000);
	cr_assert_eq(get_int(c, "last_ms"), 1001500);
	top = get(c, "top");
	cr_assert_eq(json_array_size(top), 2);
	p = json_array_get(top, 0);
	cr_assert_str_eq(get_str(p, "addr"), "127.0.0.11");
	cr_assert_eq(get_int(p, "port"), 40000);
	cr_assert_eq(get_int(p, "count"), 12);
	cr_assert_eq(get_int(p, "first_ms"), 990000);
	cr_assert_eq(get_int(p, "last_ms"), 1001000);
	cr_assert_str_eq(get_str(json_array_get(top, 1), "addr"), "127.0.0.12");
	cr_assert_eq(json_object_size(p), 5);
	cr_assert_eq(json_object_size(c), 5);

	/* The gap's refused peer, IPv6 written bare. */
	f = json_array_get(a, 2);
	cr_assert_str_eq(get_str(f, "cause"), "listener-gap");
	cr_assert_str_eq(get_str(json_array_get(get(get(f, "clients"), "top"), 0), "addr"), "::1");
	/* Nothing seen (or no tier): null, as other unknown values. */
	f = json_array_get(a, 1);
	cr_assert_str_eq(get_str(f, "cause"), "backlog-clamped");
	assert_null(f, "clients");
	json_decref(a);
}

Test(report, explain_names_the_peers)
{
	char err[128] = "";
	json_t *x;
	const json_t *c;
	char *names, *out;

	setup_clients();
	x = report_explain(&m, "127.0.0.1:8080", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	names = step_names(c);
	cr_assert_str_eq(names, "listener backlog queue drops clients finding peers finding", "%s", names);
	free(names);
	cr_assert_str_eq(step_text(c, 6), "127.0.0.11:40000 12 drops, first 12 s ago, last 1 s ago\n"
			 "127.0.0.12:41000 9 drops, first 10 s ago, last 2 s ago\n"
			 "and 4 more peers, 40 drops in all");
	out = render(render_explain, x);
	cr_assert(strstr(out, "\n  peers     127.0.0.11:40000 12 drops, first 12 s ago, last 1 s ago\n"
			 "            127.0.0.12:41000 9 drops") != NULL, "%s", out);
	free(out);
	json_decref(x);

	/* A gap's peers were refused; all of them named: the total alone. */
	x = report_explain(&m, "[::1]:9090", err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	c = only_chain(x);
	names = step_names(c);
	cr_assert_str_eq(names, "listener finding peers", "%s", names);
	free(names);
	out = render(render_explain, x);
	cr_assert(strstr(out, "\n  peers     [::1]:50000 1 refused, first 2 s ago, last 2 s ago\n"
			 "            1 refused in all\n") != NULL, "%s", out);
	free(out);
	json_decref(x);
}

Test(report, render_findings_lists_the_clients)
{
	json_t *a;
	char *out;

	setenv("TZ", "UTC", 1);
	tzset();
	setup_clients();
	a = report_findings(&m.findings);
	out = render(render_findings, a);
	cr_assert(strstr(out, "\n    clients: 127.0.0.11:40000 12 drops, 00:16:30.000 .. 00:16:41.000\n"
			 "             127.0.0.12:41000 9 drops, 00:16:32.250 .. 00:16:40.000\n"
			 "             and 4 more peers, 40 drops in all\n") != NULL, "%s", out);
	cr_assert(strstr(out, "\n    clients: [::1]:50000 1 refused, 00:16:40.000 .. 00:16:40.000\n"
			 "             1 refused in all\n") != NULL, "%s", out);
	/* Once per finding that has them. */
	cr_assert_eq(count_of(out, "clients:"), 2, "%s", out);
	free(out);
	json_decref(a);
}

/* clients of the wrong shape from another daemon: never crash, show what is sound. */
Test(report, render_odd_clients)
{
	static const char *const docs[] = {
		"[{\"cause\":\"slow-accept\",\"clients\":\"many\"}]",
		"[{\"cause\":\"slow-accept\",\"clients\":{\"total\":\"x\",\"top\":[{\"addr\":\"1.2.3.4\",\"count\":1}]}}]",
		"[{\"cause\":\"slow-accept\",\"clients\":{\"total\":3,\"top\":{\"addr\":\"1.2.3.4\"}}}]",
		"[{\"cause\":\"slow-accept\",\"clients\":{\"total\":3,\"peers\":1e300,\"top\":[5,null,{\"addr\":7},"
		"{\"addr\":\"a\\u0001b\",\"count\":2,\"port\":\"p\",\"first_ms\":-5,\"last_ms\":1e300}]}}]",
	};
	char *out;

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++)
		free(render_text(render_findings, docs[d]));
	out = render_text(render_findings, docs[1]);
	cr_assert_null(strstr(out, "clients:"), "%s", out);
	free(out);
	out = render_text(render_findings, docs[2]);
	cr_assert(strstr(out, "    clients: 3 drops in all\n") != NULL, "%s", out);
	free(out);
	out = render_text(render_findings, docs[3]);
	cr_assert(strstr(out, "    clients: a?b 2 drops, - .. -\n") != NULL, "%s", out);
	assert_terminal_safe(out);
	free(out);
}
