/* test_said_once.c: a side effect that diagnose() found says "side effect of" once, in the journal, JSON and the tables. */
#include "base.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "daemon/backlogctl/render.h"
#include "daemon/backlogd/alert.h"
#include "diagnose.h"
#include "findings.h"
#include "netstat.h"
#include "report.h"
#include "sample.h"
#include "track.h"

/*
 * The whole path a finding takes, from a tick the kernel could have given:
 * track_tick, diagnose (with its causal chain), findings_update, then each
 * consumer. Nothing in between is written by hand.
 */
struct said {
	struct track t;
	struct finding_list firing;
	struct finding_table ft;
	struct diag_thresholds thr;
	struct listener_set set;
	struct counters counters;
	struct limits lim;
	struct sockstat ss;
	struct kmsg_event ev;
	size_t n_ev;
	int64_t now_ms;
};

static void said_init(struct said *s)
{
	memset(s, 0, sizeof(*s));
	track_init(&s->t);
	finding_list_init(&s->firing);
	findings_init(&s->ft, 16);
	diag_thresholds_default(&s->thr);
	listener_set_init(&s->set);
	counters_init(&s->counters);
	s->lim = (struct limits){ .somaxconn = 4096, .tcp_abort_on_overflow = 0, .tcp_syncookies = 1,
				  .tcp_max_syn_backlog = 128, .tcp_max_orphans = 1024,
				  .tcp_mem = { 100, 150, 300 }, .port_range_lo = 32768, .port_range_hi = 60999,
				  .tcp_max_tw_buckets = 4096 };
	s->ss = (struct sockstat){ .sockets_used = 10, .tcp_inuse = 5, .tcp_orphan = 0, .tcp_tw = 0,
				   .tcp_alloc = 6, .tcp_mem = 10, .tcp6_inuse = 0 };
	s->now_ms = 1000000;
}

static void said_free(struct said *s)
{
	track_free(&s->t);
	finding_list_free(&s->firing);
	findings_free(&s->ft);
	listener_set_free(&s->set);
	counters_free(&s->counters);
}

static void said_counters(struct said *s, const char *text)
{
	counters_clear(&s->counters);
	cr_assert_eq(netstat_parse(text, strlen(text), &s->counters), 0);
}

/* One tick, diagnosed; the findings table takes what fired. */
static void said_tick(struct said *s)
{
	struct tick_sample sample = { .listeners = &s->set, .counters = &s->counters, .limits = &s->lim,
				      .sockstat = &s->ss, .kmsg = s->n_ev ? &s->ev : NULL, .n_kmsg = s->n_ev };

	s->now_ms += 1000;
	cr_assert_eq(track_tick(&s->t, &sample, s->now_ms), 0);
	cr_assert_eq(diagnose(&s->t, &s->thr, &s->firing), 0);
	cr_assert_eq(findings_update(&s->ft, &s->firing, s->now_ms / 1000, 30, NULL, NULL), 0);
	s->n_ev = 0;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const struct finding_entry *entry_for(const struct said *s, enum cause c)
{
	for (size_t i = 0; i < s->ft.count; i++)
		if (s->ft.items[i].f.cause == c)
			return &s->ft.items[i];
	cr_assert_fail("no %s finding among %zu", cause_code(c), s->ft.count);
	return NULL;
}

/* Every consumer of the side effect e (of cause by) says it once. */
static void assert_said_once(const struct said *s, const struct finding_entry *e, enum cause by)
{
	char message[8192], clause[64];
	char *table = NULL;
	size_t table_len = 0;
	json_t *doc = report_findings(&s->ft), *je = NULL;
	FILE *out;

	snprintf(clause, sizeof(clause), "ide effect of %s", cause_code(by));
	cr_assert_eq(e->f.explained_by, by, "%s is not a side effect of %s", cause_code(e->f.cause), cause_code(by));

	/* The journal record's MESSAGE. */
	alert_message(e, FINDING_EVENT_OPENED, message, sizeof(message));
	cr_assert_eq(count_of(message, "ide effect of"), 1, "%s", message);
	cr_assert_eq(count_of(message, clause), 1, "%s", message);

	/* The JSON that status, findings and Prometheus' neighbours read. */
	cr_assert_not_null(doc);
	for (size_t i = 0; i < json_array_size(doc); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(doc, i), "cause")),
			   cause_code(e->f.cause)) == 0)
			je = json_array_get(doc, i);
	cr_assert_not_null(je);
	cr_assert_str_eq(json_string_value(json_object_get(je, "explained_by")), cause_code(by));
	cr_assert_eq(count_of(json_string_value(json_object_get(je, "message")), "ide effect of"), 1, "%s",
		     json_string_value(json_object_get(je, "message")));

	/* backlogctl findings: the side effect's entry, from that JSON. */
	out = open_memstream(&table, &table_len);
	cr_assert_not_null(out);
	render_findings(out, doc);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(count_of(table, "ide effect of"), 1, "%s", table);
	cr_assert_eq(count_of(table, clause), 1, "%s", table);
	free(table);
	json_decref(doc);
}

Test(said_once, orphans_side_effect_of_tcp_memory)
{
	static const char counters[] = "TcpExt: TCPMemoryPressures TCPAbortOnMemory\nTcpExt: 0 0\n";
	struct said s;

	said_init(&s);
	said_counters(&s, counters);
	said_tick(&s);
	cr_assert_eq(s.ft.count, 0, "a healthy first tick has no finding");

	/* TCP memory past tcp_mem's pressure threshold, orphans past 80% of their limit. */
	s.ss.tcp_mem = 200;
	s.ss.tcp_orphan = 1000;
	said_tick(&s);
	cr_assert_eq(entry_for(&s, CAUSE_TCP_MEMORY)->f.explained_by, CAUSE_NONE);
	assert_said_once(&s, entry_for(&s, CAUSE_ORPHANS), CAUSE_TCP_MEMORY);
	said_free(&s);
}

Test(said_once, overflow_side_effect_of_a_syn_flood_on_its_listener)
{
	struct said s;
	struct listener *l;
	const struct finding_entry *flood, *se = NULL;

	said_init(&s);
	l = listener_set_add(&s.set);
	cr_assert_not_null(l);
	*l = (struct listener){ .cookie = 100, .inode = 5100, .queue = 0, .backlog = 8, .drops = 0,
				.has_drops = true, .family = AF_INET, .port = 8080 };
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.1", l->addr), 1);
	said_counters(&s, "TcpExt: ListenOverflows ListenDrops TCPReqQFullDoCookies SyncookiesSent SyncookiesRecv\n"
			  "TcpExt: 0 0 0 0 0\n");
	said_tick(&s);

	/* The flood fills the SYN queue (cookies that never come back) and the accept queue overflows. */
	s.set.items[0].queue = 9;
	s.set.items[0].drops = 20;
	said_counters(&s, "TcpExt: ListenOverflows ListenDrops TCPReqQFullDoCookies SyncookiesSent SyncookiesRecv\n"
			  "TcpExt: 20 20 50 50 0\n");
	s.ev = (struct kmsg_event){ .kind = KMSG_SYN_FLOOD, .seq = 7, .port = 8080, .addr = "127.0.0.1",
				    .cookies = true };
	s.n_ev = 1;
	said_tick(&s);

	flood = entry_for(&s, CAUSE_SYN_FLOOD);
	cr_assert_eq(flood->f.explained_by, CAUSE_NONE);
	for (size_t i = 0; i < s.ft.count; i++)
		if (s.ft.items[i].f.explained_by == CAUSE_SYN_FLOOD)
			se = &s.ft.items[i];
	cr_assert_not_null(se, "the overflow was not told as the flood's side effect");
	assert_said_once(&s, se, CAUSE_SYN_FLOOD);
	/* On the flood's own listener: the clause names it. */
	cr_assert_str_eq(se->f.explained_by_key, "127.0.0.1:8080");
	said_free(&s);
}
