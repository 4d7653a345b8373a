/* test_finding_log.c: the event log keeps the newest events in order, counts what it dropped, selects a window, cuts text cleanly; the events command and findings --since's table show what it holds. */
#include "base.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/backlogctl/render.h"
#include "daemon/backlogd/alert.h"
#include "daemon/backlogd/commands.h"
#include "finding_log.h"
#include "finding_text.h"
#include "fleet.h"
#include "safe_text.h"

/* An entry as findings_update leaves it when it calls back: at is the tick's time. */
static void entry(struct finding_entry *e, enum cause c, const char *listener, int64_t at)
{
	memset(e, 0, sizeof(*e));
	e->f.cause = c;
	e->f.underlying = c;
	e->f.priority = 4;
	snprintf(e->f.listener, sizeof(e->f.listener), "%s", listener);
	snprintf(e->f.subject, sizeof(e->f.subject), "%s tcpload[42]", listener);
	snprintf(e->f.body.happened, sizeof(e->f.body.happened), "%s overflowed its accept queue", listener);
	snprintf(e->f.body.fix, sizeof(e->f.body.fix), "raise the listen() backlog");
	snprintf(e->f.netns_name, sizeof(e->f.netns_name), "host");
	e->f.netns_inode = 4026531840u;
	e->first_seen = at;
	e->last_seen = at;
}

/* Add one opened event at time at for listener 127.0.0.1:PORT. */
static void add_opened(struct finding_log *log, unsigned port, int64_t at)
{
	struct finding_entry e;
	char l[32];

	snprintf(l, sizeof(l), "127.0.0.1:%u", port);
	entry(&e, CAUSE_BACKLOG_SMALL, l, at);
	cr_assert_eq(finding_log_add(log, &e, FINDING_EVENT_OPENED, "host"), 0);
}

/* Return: how many events the window from `from` holds, checking they come in arrival order. */
static size_t window(const struct finding_log *log, int64_t from, int64_t *first_at)
{
	const struct finding_log_event *ev;
	size_t pos = 0, n = 0;
	int64_t last = INT64_MIN;

	while ((ev = finding_log_next(log, from, &pos))) {
		cr_assert_geq(ev->at, from);
		cr_assert_geq(ev->at, last, "out of order: %lld after %lld", (long long)ev->at, (long long)last);
		if (n == 0 && first_at)
			*first_at = ev->at;
		last = ev->at;
		n++;
	}
	return n;
}

Test(finding_log, empty_allocates_nothing)
{
	struct finding_log log;
	size_t pos = 0;

	finding_log_init(&log, 8, 1000);
	cr_assert_null(log.ring);
	cr_assert_null(finding_log_next(&log, 0, &pos));
	cr_assert_eq(finding_log_kept_from(&log), 1000);
	finding_log_free(&log);
}

Test(finding_log, lifecycle_fields)
{
	struct finding_log log;
	struct finding_entry e;
	const struct finding_log_event *ev;
	struct finding_words w;
	size_t pos = 0;

	finding_log_init(&log, 8, 1000);
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1010);
	e.first_seen = 1008;        /* the eBPF tier dated the first drop */
	e.f.clients.known = true;
	e.f.clients.total = 25;
	e.f.clients.peers = 3;
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_OPENED, "host"), 0);
	e.revised_from = CAUSE_BACKLOG_SMALL;
	e.revised_at = 1015;
	e.f.cause = e.f.underlying = CAUSE_SLOW_ACCEPT;
	e.last_seen = 1016;
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_REVISED, "host"), 0);
	e.state = FINDING_RESOLVED;
	e.resolved_at = 1030;
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_RESOLVED, "host"), 0);

	ev = finding_log_next(&log, 0, &pos);
	cr_assert_not_null(ev);
	cr_assert_eq(ev->event, FINDING_EVENT_OPENED);
	cr_assert_eq(ev->at, 1010);
	cr_assert_eq(ev->first_seen, 1008);
	cr_assert_eq(ev->revised_from, CAUSE_NONE);
	cr_assert_str_eq(ev->listener, "127.0.0.1:8080");
	cr_assert_str_eq(ev->netns_kind, "host");
	cr_assert(ev->clients_known);
	cr_assert_eq(ev->clients_total, 25);
	cr_assert_eq(ev->clients_peers, 3);
	/* The words are finding_words()'s, the same the journal and the tables show. */
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1010);
	finding_words(&e.f, &w);
	cr_assert_str_eq(ev->text, w.message);
	cr_assert_str_eq(finding_log_remedy(ev), w.remedy);

	ev = finding_log_next(&log, 0, &pos);
	cr_assert_eq(ev->event, FINDING_EVENT_REVISED);
	cr_assert_eq(ev->at, 1015, "a revision is dated by revised_at");
	cr_assert_eq(ev->cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(ev->revised_from, CAUSE_BACKLOG_SMALL);
	ev = finding_log_next(&log, 0, &pos);
	cr_assert_eq(ev->event, FINDING_EVENT_RESOLVED);
	cr_assert_eq(ev->at, 1030);
	cr_assert_eq(ev->revised_from, CAUSE_NONE, "only a revision says what it was revised from");
	cr_assert_null(finding_log_next(&log, 0, &pos));
	cr_assert_str_eq(finding_event_name(FINDING_EVENT_REVISED), "revised");
	finding_log_free(&log);
}

Test(finding_log, wraps_keeping_the_newest_in_order)
{
	struct finding_log log;
	const struct finding_log_event *ev;
	size_t pos = 0;
	unsigned i;

	finding_log_init(&log, 5, 100);
	for (i = 0; i < 5; i++)
		add_opened(&log, 8000 + i, 200 + i);
	cr_assert_eq(log.count, 5);
	cr_assert_eq(log.dropped, 0);
	cr_assert_eq(finding_log_kept_from(&log), 100, "nothing dropped: the log covers since start");

	for (; i < 13; i++)
		add_opened(&log, 8000 + i, 200 + i);
	cr_assert_eq(log.count, 5, "never more than capacity");
	cr_assert_eq(log.dropped, 8);
	cr_assert_eq(finding_log_kept_from(&log), 208, "the oldest kept event");
	for (i = 8; (ev = finding_log_next(&log, 0, &pos)); i++) {
		char want[32];

		snprintf(want, sizeof(want), "127.0.0.1:%u", 8000 + i);
		cr_assert_str_eq(ev->listener, want);
		cr_assert_eq(ev->at, 200 + i);
	}
	cr_assert_eq(i, 13);
	finding_log_free(&log);
}

Test(finding_log, capacity_one)
{
	struct finding_log log;
	int64_t first = 0;

	finding_log_init(&log, 0, 100);    /* 0 means 1 */
	cr_assert_eq(log.capacity, 1);
	add_opened(&log, 1, 10);
	add_opened(&log, 2, 20);
	cr_assert_eq(log.count, 1);
	cr_assert_eq(log.dropped, 1);
	cr_assert_eq(window(&log, 0, &first), 1);
	cr_assert_eq(first, 20);
	cr_assert_eq(finding_log_kept_from(&log), 20);
	finding_log_free(&log);
}

Test(finding_log, window_selection)
{
	struct finding_log log;
	int64_t first = 0;
	unsigned i;

	finding_log_init(&log, 16, 0);
	for (i = 0; i < 10; i++)
		add_opened(&log, 9000 + i, 1000 + 10 * i);    /* 1000, 1010, ..., 1090 */
	cr_assert_eq(window(&log, 0, &first), 10);
	cr_assert_eq(window(&log, 1050, &first), 5, "the bound is inclusive");
	cr_assert_eq(first, 1050);
	cr_assert_eq(window(&log, 1051, &first), 4);
	cr_assert_eq(first, 1060);
	cr_assert_eq(window(&log, 1090, NULL), 1);
	cr_assert_eq(window(&log, 1091, NULL), 0);
	/* Wrapped: the window never reaches past what is kept. */
	for (; i < 20; i++)
		add_opened(&log, 9000 + i, 1000 + 10 * i);
	cr_assert_eq(window(&log, 0, &first), 16);
	cr_assert_eq(first, 1040);
	cr_assert_eq(window(&log, 1150, &first), 5);
	cr_assert_eq(first, 1150);
	finding_log_free(&log);
}

/* A rule sentence of n copies of a 3-byte character: every cut must fall between them. */
static void long_words(struct finding_entry *e, const char *ch, size_t n)
{
	size_t len = strlen(ch), i;

	for (i = 0; i < n && (i + 1) * len < sizeof(e->f.body.happened); i++)
		memcpy(e->f.body.happened + i * len, ch, len);
	e->f.body.happened[i * len] = '\0';
}

/* Return: true when s is well-formed UTF-8 with nothing safe_text would change. */
static bool clean_utf8(const char *s)
{
	char copy[FINDING_LOG_TEXT_MAX];

	safe_text(copy, sizeof(copy), s, strlen(s));
	return strcmp(copy, s) == 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

Test(finding_log, long_text_cut_at_a_character)
{
	struct finding_log log;
	struct finding_entry e;
	const struct finding_log_event *ev;
	size_t pos = 0, off;

	finding_log_init(&log, 4, 0);
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 10);
	/* "€" is 3 bytes: a cut at a byte count would split one, whatever the offset. */
	long_words(&e, "\xe2\x82\xac", 500);
	memset(e.f.body.fix, 'x', sizeof(e.f.body.fix) - 1);
	e.f.body.fix[sizeof(e.f.body.fix) - 1] = '\0';
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_OPENED, NULL), 0);
	ev = finding_log_next(&log, 0, &pos);
	cr_assert(clean_utf8(ev->text), "message: %s", ev->text);
	cr_assert(clean_utf8(finding_log_remedy(ev)));
	cr_assert(ends_with(ev->text, "\xe2\x80\xa6"), "a cut is marked");
	cr_assert(ends_with(finding_log_remedy(ev), "\xe2\x80\xa6"));
	off = ev->remedy_off;
	cr_assert_leq(off, FINDING_LOG_TEXT_MAX / 2, "two long texts share the room");
	cr_assert_lt(off + strlen(finding_log_remedy(ev)), FINDING_LOG_TEXT_MAX);
	cr_assert_str_eq(ev->netns_kind, "");
	finding_log_free(&log);
}

Test(finding_log, short_remedy_leaves_room_to_the_message)
{
	struct finding_log log;
	struct finding_entry e;
	struct finding_words w;
	const struct finding_log_event *ev;
	size_t pos = 0;

	finding_log_init(&log, 4, 0);
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 10);
	long_words(&e, "\xc3\xa9", 400);          /* as much "é" as a rule's sentence holds */
	memset(e.f.body.fix, 'y', 200);
	e.f.body.fix[200] = '\0';
	finding_words(&e.f, &w);
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_OPENED, "host"), 0);
	ev = finding_log_next(&log, 0, &pos);
	cr_assert_str_eq(finding_log_remedy(ev), w.remedy, "a short remedy is kept whole");
	cr_assert_gt(strlen(ev->text), FINDING_LOG_TEXT_MAX / 2, "the message takes the rest");
	cr_assert(clean_utf8(ev->text));
	cr_assert(ends_with(ev->text, "\xe2\x80\xa6"));
	finding_log_free(&log);
}

Test(finding_log, outside_text_neutralised)
{
	struct finding_log log;
	struct finding_entry e;
	const struct finding_log_event *ev;
	size_t pos = 0;

	finding_log_init(&log, 4, 0);
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 10);
	snprintf(e.f.subject, sizeof(e.f.subject), "127.0.0.1:8080 evil\x1b[2J\n[42]");
	snprintf(e.f.netns_name, sizeof(e.f.netns_name), "bad\xff\x07name");
	cr_assert_eq(finding_log_add(&log, &e, FINDING_EVENT_OPENED, "named"), 0);
	ev = finding_log_next(&log, 0, &pos);
	cr_assert_null(strchr(ev->subject, '\x1b'));
	cr_assert_null(strchr(ev->subject, '\n'));
	cr_assert(clean_utf8(ev->netns_name));
	finding_log_free(&log);
}

Test(finding_log, bounded_memory)
{
	cr_assert_leq(sizeof(struct finding_log_event) * FINDING_LOG_CAPACITY, 1152u * 1024u,
		      "the README says 1.125 MiB at most");
}

/* ---- the events command and findings --since's table, from what the log really holds ---- */

/* The reply to {"command":"events","target":target} over a fleet with log. */
static json_t *ask_events(struct finding_log *log, const char *target)
{
	struct fleet fl = { .log = log };
	json_t *req = json_pack("{s:s, s:s}", "command", "events", "target", target);
	json_t *reply = commands_answer(req, &fl);

	json_decref(req);
	cr_assert_not_null(reply);
	return reply;
}

/* What render_finding_events printed for doc, malloc'd. */
static char *render_events(const json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	render_finding_events(f, doc);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

/* The local time of at as the table shows it: with its date, or the time of day alone. */
static void local_time(char *buf, size_t len, int64_t at, bool with_date)
{
	time_t t = (time_t)at;
	struct tm tm;

	cr_assert_not_null(localtime_r(&t, &tm));
	if (with_date)
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	else
		strftime(buf, len, "%H:%M:%S", &tm);
}

Test(finding_log, events_command_and_table)
{
	int64_t now = (int64_t)time(NULL);
	struct finding_log log;
	struct finding_entry e;
	json_t *reply, *data;
	char *out, when[32], line[128], journal[4096];

	finding_log_init(&log, 4, now - 100);
	add_opened(&log, 7070, now - 2 * 86400);     /* dropped: the log holds 4 */
	entry(&e, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", now - 50);
	snprintf(e.f.subject, sizeof(e.f.subject), "127.0.0.1:8080 evil\x1b]0;owned\x07[42]");
	finding_log_add(&log, &e, FINDING_EVENT_OPENED, "host");
	e.revised_from = CAUSE_BACKLOG_SMALL;
	e.revised_at = now - 40;
	e.f.cause = e.f.underlying = CAUSE_SLOW_ACCEPT;
	finding_log_add(&log, &e, FINDING_EVENT_REVISED, "host");
	/* The journal's record of the same event says the same words. */
	alert_message(&e, FINDING_EVENT_REVISED, journal, sizeof(journal));
	e.state = FINDING_RESOLVED;
	e.resolved_at = now - 20;
	finding_log_add(&log, &e, FINDING_EVENT_RESOLVED, "host");
	entry(&e, CAUSE_BACKLOG_CLAMPED, "127.0.0.1:9090", now - 30);
	snprintf(e.f.netns_name, sizeof(e.f.netns_name), "blue");
	e.f.netns_inode = 4026532000u;
	finding_log_add(&log, &e, FINDING_EVENT_OPENED, "named");

	reply = ask_events(&log, "3600");
	cr_assert(json_is_true(json_object_get(reply, "ok")), "%s", json_dumps(reply, 0));
	data = json_object_get(reply, "data");
	cr_assert_eq(json_integer_value(json_object_get(data, "since")), 3600);
	cr_assert_eq(json_integer_value(json_object_get(data, "kept")), 4);
	cr_assert_eq(json_integer_value(json_object_get(data, "dropped")), 1);
	cr_assert_eq(json_integer_value(json_object_get(data, "kept_from")), now - 50);
	cr_assert_eq(json_integer_value(json_object_get(data, "capacity")), 4);
	cr_assert_eq(json_array_size(json_object_get(data, "events")), 4);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(data, "events"), 1),
							   "revised_from")), "backlog-small");
	cr_assert_not_null(strstr(journal, json_string_value(json_object_get(
		json_array_get(json_object_get(data, "events"), 1), "message"))),
		"the journal's record and the log's event say different words");

	out = render_events(data);
	cr_assert_null(strchr(out, '\x1b'), "outside text reached the terminal: %s", out);
	cr_assert_null(strchr(out, '\x07'));
	local_time(when, sizeof(when), now - 50, true);
	snprintf(line, sizeof(line), "backlogd's memory only goes back to %s (4 events kept, 1 dropped)\n", when);
	cr_assert_not_null(strstr(out, line), "%s", out);
	cr_assert_not_null(strstr(out, "TIME "), "%s", out);
	/* Oldest first: opened, revised, the other namespace's, resolved (by arrival). */
	{
		const char *a = strstr(out, "  opened "), *b = strstr(out, "  revised from backlog-small  slow-accept "),
			   *c = strstr(out, "[blue] 127.0.0.1:9090"), *d = strstr(out, "  resolved ");

		cr_assert(a && b && c && d && a < b && b < d, "%s", out);
	}
	local_time(when, sizeof(when), now - 40, false);
	cr_assert_not_null(strstr(out, when), "%s", out);
	cr_assert_not_null(strstr(out, "    fix: raise the listen() backlog\n"), "%s", out);
	cr_assert_null(strstr(out, "7070"), "a dropped event is not shown");
	free(out);
	json_decref(reply);

	/* A window after every event: none, and no word about memory (it reaches back far enough). */
	reply = ask_events(&log, "10");
	out = render_events(json_object_get(reply, "data"));
	cr_assert_not_null(strstr(out, "No events.\n"), "%s", out);
	cr_assert_null(strstr(out, "memory only goes back"), "%s", out);
	free(out);
	json_decref(reply);
	finding_log_free(&log);
}

Test(finding_log, another_day_has_its_date)
{
	int64_t now = (int64_t)time(NULL);
	struct finding_log log;
	json_t *reply;
	char *out, when[32];

	finding_log_init(&log, 4, now - 3 * 86400);
	add_opened(&log, 8080, now - 2 * 86400);
	reply = ask_events(&log, "3d");
	cr_assert(json_is_false(json_object_get(reply, "ok")), "the daemon takes seconds, backlogctl the units");
	json_decref(reply);
	reply = ask_events(&log, "259200");
	out = render_events(json_object_get(reply, "data"));
	local_time(when, sizeof(when), now - 2 * 86400, true);
	cr_assert_eq(strncmp(strstr(out, "\n") + 1, "TIME ", 5), 0, "%s", out);
	cr_assert_not_null(strstr(out, when), "%s", out);
	cr_assert_not_null(strstr(strstr(out, when), "  opened "), "%s", out);
	free(out);
	json_decref(reply);
	finding_log_free(&log);
}

Test(finding_log, events_command_refuses_a_bad_window)
{
	static const char *const bad[] = { "0", "-1", "+5", " 5", "5 ", "abc", "1e3", "", "315360001",
					   "99999999999999999999" };
	struct finding_log log;
	json_t *reply;

	finding_log_init(&log, 4, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *err;

		reply = ask_events(&log, bad[i]);
		err = json_string_value(json_object_get(reply, "error"));
		cr_assert(json_is_false(json_object_get(reply, "ok")), "target '%s' accepted", bad[i]);
		cr_assert(err && strstr(err, "whole number of seconds from 1 to 315360000"), "'%s': %s", bad[i], err);
		json_decref(reply);
	}
	/* A fleet that keeps no log (diagnose's) says so rather than answer empty. */
	reply = ask_events(NULL, "60");
	cr_assert_str_eq(json_string_value(json_object_get(reply, "error")), "this daemon keeps no event log");
	json_decref(reply);
	reply = ask_events(&log, "315360000");
	cr_assert(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);
}
