/* render_events.c: findings --since: what opened, was revised and resolved in a window, one row per event, oldest first. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render_int.h"

/* "03:12:05" today (as of the document's now), "2026-12-02 03:12:05" another day; "-" unknown. */
static void cell_when(char *buf, size_t len, const json_t *ev, long long now)
{
	struct tm tm, today;
	long long at;
	time_t t, n = (time_t)now;

	if (!jget_int(ev, "at", &at) || at <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)at;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "%lld", at);
		return;
	}
	if (now > 0 && localtime_r(&n, &today) && today.tm_year == tm.tm_year && today.tm_yday == tm.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tm);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* "opened", "revised from backlog-small", "resolved". */
static void cell_event(char *buf, size_t len, const json_t *ev)
{
	const char *from = jget_str(ev, "revised_from");
	char what[32], was[40];

	cell_str(what, sizeof(what), ev, "event");
	if (str_is(what, "revised") && from && *from) {
		copy_clean(was, sizeof(was), from);
		snprintf(buf, len, "revised from %s", was);
	} else {
		snprintf(buf, len, "%s", what);
	}
}

/* "127.0.0.1:8080", "[blue] 127.0.0.1:8080": marked as the other tables mark another namespace. */
static void cell_listener(char *buf, size_t len, const json_t *ev)
{
	char ns[104], l[CELL_MAX];

	ns_prefix(ns, sizeof(ns), jget(ev, "netns"));
	cell_str(l, sizeof(l), ev, "listener");
	snprintf(buf, len, "%s%.*s", ns, (int)(CELL_MAX - 1 - strlen(ns)), l);
}

/* The line over the rows: the window, and how far back the daemon's memory goes when the window asks for more. */
static void window_head(FILE *out, const json_t *doc)
{
	long long since, from, kept_from, kept, dropped, now = 0;
	char span[32], when[40];

	jget_int(doc, "now", &now);
	if (jget_int(doc, "since", &since)) {
		format_duration(span, sizeof(span), since);
		format_time(when, sizeof(when), doc, "from");
		fprintf(out, "Findings opened, revised and resolved in the last %s (since %s):\n", span, when);
	}
	if (jget_int(doc, "from", &from) && jget_int(doc, "kept_from", &kept_from) && from < kept_from &&
	    jget_int(doc, "kept", &kept) && jget_int(doc, "dropped", &dropped)) {
		format_time(when, sizeof(when), doc, "kept_from");
		fprintf(out, "backlogd's memory only goes back to %s (%lld event%s kept, %lld dropped)%s\n", when,
			kept, kept == 1 ? "" : "s", dropped,
			dropped ? "" : "; it started then");
	}
}

void render_finding_events(FILE *out, const json_t *doc)
{
	static const char *const head[] = { "TIME", "EVENT", "CAUSE", "LISTENER" };
	const json_t *a = array_or_member(doc, "events");
	size_t width = term_width(out), n = json_array_size(a), *rows;
	long long now = 0;
	struct table t;

	window_head(out, doc);
	if (n == 0) {
		fputs("No events.\n", out);
		return;
	}
	jget_int(doc, "now", &now);
	rows = calloc(n, sizeof(*rows));
	table_init(&t, head, "llll");
	for (size_t i = 0; i < n; i++) {
		const json_t *ev = json_array_get(a, i);
		char cells[4][CELL_MAX];

		cell_when(cells[0], CELL_MAX, ev, now);
		cell_event(cells[1], CELL_MAX, ev);
		cell_str(cells[2], CELL_MAX, ev, "cause");
		cell_listener(cells[3], CELL_MAX, ev);
		/* A row dropped for memory is left out; rows[] keeps the others in step with the array. */
		if (table_add(&t, cells) && rows)
			rows[t.nrows - 1] = i;
	}
	table_print_head(out, &t);
	for (size_t r = 0; r < t.nrows; r++) {
		table_print_row(out, &t, r);
		render_finding_words(out, json_array_get(a, rows ? rows[r] : r), width);
	}
	table_free(&t);
	free(rows);
}
