/* test_top.c: backlogctl top without a terminal: sparklines, the model's order and keys, frames at every size. */
#include "base.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/backlogctl/spark.h"
#include "daemon/backlogctl/top.h"

/*
 * A top document as the daemon sends it: an idle listener (no history),
 * one that overflows, one in namespace blue held by a process whose name
 * is an escape sequence with a bidirectional override, and a finding.
 */
static const char *const doc_text =
	"{\"now\": 1764780000, \"interval_ms\": 1000, \"history_ticks\": 60,"
	" \"daemon\": {\"ticks\": 321, \"listeners_count\": 3, \"findings_active\": 1, \"namespaces_count\": 2},"
	" \"limits\": {\"somaxconn\": 4096, \"tcp_max_syn_backlog\": 512, \"tcp_syncookies\": 1, \"tcp_abort_on_overflow\": null},"
	" \"host\": {\"counters\": {\"ListenOverflows\": {\"total\": 90, \"delta\": 12, \"per_sec\": 12.0},"
	"   \"ListenDrops\": {\"total\": 90, \"delta\": 12, \"per_sec\": 12.0},"
	"   \"TCPReqQFullDrop\": {\"total\": 0, \"delta\": 0, \"per_sec\": 0},"
	"   \"TCPBacklogDrop\": {\"total\": 5, \"delta\": 1, \"per_sec\": 0.5}}},"
	" \"listeners\": ["
	"  {\"listener\": \"0.0.0.0:22\", \"netns\": {\"inode\": 4026531840, \"name\": \"\", \"kind\": \"host\"},"
	"   \"queue\": 0, \"backlog\": 128, \"full\": false, \"drops_delta\": 0, \"drops_per_sec\": 0, \"drops_minute\": 0,"
	"   \"pid\": 612, \"comm\": \"sshd\", \"unit\": \"ssh.service\"},"
	"  {\"listener\": \"10.0.0.1:443\", \"netns\": {\"inode\": 4026532001, \"name\": \"blue\", \"kind\": \"named\"},"
	"   \"queue\": 3, \"backlog\": 10, \"full\": false, \"drops_delta\": 0, \"drops_per_sec\": 0, \"drops_minute\": 0,"
	"   \"pid\": 700, \"comm\": \"\\u001b[31mevil\\u202e\\u0007\", \"unit\": \"bad\\nunit.service\","
	"   \"history\": {\"queue\": [0, 1, 3, 3], \"drops\": [0, 0, 0, 0]}},"
	"  {\"listener\": \"127.0.0.1:8080\", \"netns\": {\"inode\": 4026531840, \"name\": \"\", \"kind\": \"host\"},"
	"   \"queue\": 9, \"backlog\": 8, \"full\": true, \"drops_delta\": 12, \"drops_per_sec\": 12.0, \"drops_minute\": 80,"
	"   \"pid\": 812, \"comm\": \"tcpload\", \"unit\": null,"
	"   \"history\": {\"queue\": [0, 0, 2, 4, 6, 8, 9, 9], \"drops\": [0, 0, 0, 0, 3, 12, 12, 12]}}],"
	" \"findings\": [{\"cause\": \"backlog-overflow\", \"severity\": \"warning\", \"listener\": \"127.0.0.1:8080\","
	"   \"subject\": \"127.0.0.1:8080\", \"message\": \"accept queue full\", \"remedy\": \"raise listen()'s backlog\\u001b[2J\","
	"   \"state\": \"active\", \"netns\": {\"inode\": 4026531840, \"name\": \"\", \"kind\": \"host\"}}]}";

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *doc = json_loads(text, 0, &err);

	cr_assert_not_null(doc, "%s", err.text);
	return doc;
}

static void model_of(struct top_model *m, const char *text)
{
	json_t *doc = load(text);

	top_model_init(m);
	cr_assert_eq(top_model_set(m, doc), 0);
	json_decref(doc);
}

static const char *row_name(const struct top_model *m, size_t i)
{
	cr_assert_lt(i, m->nview);
	return m->rows[m->view[i]].listener;
}

/* Return: whether s holds a byte that acts on a terminal: C0 but none here, DEL, C1 or U+202E in UTF-8. */
static bool has_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
			return true;
	return false;
}

/* ---- sparklines and bars ---- */

Test(top, spark_scales_to_the_max)
{
	long long v[] = { 0, 1, 4, 8, 9 };
	char buf[64];

	cr_assert_eq(spark_line(buf, sizeof(buf), v, 5, 5, 8, true), 5);
	cr_assert_str_eq(buf, "▁▂▅██");
	spark_line(buf, sizeof(buf), v, 5, 5, 8, false);
	cr_assert_str_eq(buf, "_.=##");
	/* A single drop on a large scale still rises above zero. */
	long long one[] = { 0, 1 };
	spark_line(buf, sizeof(buf), one, 2, 2, 1000, true);
	cr_assert_str_eq(buf, "▁▂");
}

Test(top, spark_no_data_is_blank_and_newest_right)
{
	long long v[] = { 5, SPARK_NONE, 5 };
	char buf[64];

	spark_line(buf, sizeof(buf), v, 0, 4, 10, true);
	cr_assert_str_eq(buf, "    ");
	spark_line(buf, sizeof(buf), v, 3, 5, 10, true);
	cr_assert_str_eq(buf, "  ▅ ▅");
	/* More points than cells: the newest are kept. */
	long long w[] = { 10, 10, 0, 0 };
	spark_line(buf, sizeof(buf), w, 4, 2, 10, true);
	cr_assert_str_eq(buf, "▁▁");
	/* A buffer too short holds whole characters only. */
	cr_assert_eq(spark_line(buf, 7, w, 4, 4, 10, true), 2);
	cr_assert_str_eq(buf, "██");
	cr_assert_eq(spark_max(w, 4), 10);
	cr_assert_eq(spark_max(w, 0), 0);
}

Test(top, bar)
{
	char buf[32];

	spark_bar(buf, sizeof(buf), 5, 10, 12);
	cr_assert_str_eq(buf, "[#####     ]");
	spark_bar(buf, sizeof(buf), 99, 10, 12);
	cr_assert_str_eq(buf, "[##########]");
	spark_bar(buf, sizeof(buf), 1, 1000, 12);
	cr_assert_str_eq(buf, "[#         ]");
	spark_bar(buf, sizeof(buf), 0, 10, 12);
	cr_assert_str_eq(buf, "[          ]");
	spark_bar(buf, sizeof(buf), 3, -1, 7);
	cr_assert_str_eq(buf, "[  ?  ]");
	cr_assert_eq(spark_bar(buf, sizeof(buf), 3, 10, 2), 0);
}

/* ---- the model ---- */

Test(top, busiest_first_and_sort_cycles)
{
	struct top_model m;

	model_of(&m, doc_text);
	cr_assert_eq(m.nview, 3);
	cr_assert_str_eq(row_name(&m, 0), "127.0.0.1:8080");
	/* busiest: drops in the last minute, then fill: 3/10 before 0/128. */
	cr_assert_str_eq(row_name(&m, 1), "10.0.0.1:443");
	cr_assert_eq(top_key(&m, 's'), TOP_ACT_REDRAW);
	cr_assert_str_eq(top_sort_name(m.sort), "fill");
	cr_assert_str_eq(row_name(&m, 0), "127.0.0.1:8080");
	top_key(&m, 's');
	cr_assert_str_eq(top_sort_name(m.sort), "drops/s");
	top_key(&m, 's');
	cr_assert_str_eq(top_sort_name(m.sort), "listener");
	cr_assert_str_eq(row_name(&m, 0), "0.0.0.0:22");
	cr_assert_str_eq(row_name(&m, 2), "127.0.0.1:8080");
	top_key(&m, 's');
	cr_assert_str_eq(top_sort_name(m.sort), "namespace");
	cr_assert_str_eq(row_name(&m, 2), "10.0.0.1:443");
	top_key(&m, 's');
	cr_assert_eq(m.sort, TOP_SORT_BUSIEST);
	top_model_done(&m);
}

Test(top, names_are_neutralised_in_the_rows)
{
	struct top_model m;

	model_of(&m, doc_text);
	for (size_t i = 0; i < m.nrows; i++) {
		cr_assert(!has_controls(m.rows[i].comm), "%s", m.rows[i].comm);
		cr_assert(!has_controls(m.rows[i].unit), "%s", m.rows[i].unit);
	}
	cr_assert_str_eq(m.rows[1].comm, "?[31mevil??[700]");
	cr_assert_str_eq(m.rows[1].unit, "bad?unit.service");
	cr_assert_str_eq(m.rows[1].ns, "blue");
	cr_assert_str_eq(m.rows[1].target, "4026532001/10.0.0.1:443");
	cr_assert_str_eq(m.rows[0].ns, "host");
	cr_assert_str_eq(m.rows[2].unit, "-");
	top_model_done(&m);
}

Test(top, namespace_filter_and_search)
{
	struct top_model m;

	model_of(&m, doc_text);
	cr_assert_eq(top_key(&m, 'n'), TOP_ACT_REDRAW);
	cr_assert_eq(m.mode, TOP_MODE_PROMPT_NS);
	top_key(&m, 'b');
	top_key(&m, 'x');
	top_key(&m, TOP_KEY_BACKSPACE);
	top_key(&m, 'l');
	top_key(&m, 'u');
	top_key(&m, 'e');
	/* Typing keys are text in a prompt, not commands. */
	cr_assert_eq(top_key(&m, 'q'), TOP_ACT_REDRAW);
	top_key(&m, TOP_KEY_BACKSPACE);
	cr_assert_str_eq(m.input, "blue");
	top_key(&m, '\r');
	cr_assert_eq(m.mode, TOP_MODE_LIST);
	cr_assert_eq(m.nview, 1);
	cr_assert_str_eq(row_name(&m, 0), "10.0.0.1:443");
	/* By inode, and "host" for backlogd's own. */
	snprintf(m.ns_filter, sizeof(m.ns_filter), "4026532001");
	top_model_refresh(&m);
	cr_assert_eq(m.nview, 1);
	snprintf(m.ns_filter, sizeof(m.ns_filter), "host");
	top_model_refresh(&m);
	cr_assert_eq(m.nview, 2);
	/* An empty answer clears the filter. */
	top_key(&m, 'n');
	top_key(&m, 'U' - '@');
	top_key(&m, TOP_KEY_ENTER);
	cr_assert_eq(m.nview, 3);

	/* Search: a substring of the listener, the process, the unit or the namespace. */
	top_key(&m, '/');
	top_key(&m, 'S');
	top_key(&m, 'S');
	top_key(&m, 'h');
	top_key(&m, TOP_KEY_ENTER);
	cr_assert_eq(m.nview, 1);
	cr_assert_str_eq(row_name(&m, 0), "0.0.0.0:22");
	/* Esc cancels a prompt, keeping the search; Esc in the list clears it. */
	top_key(&m, '/');
	top_key(&m, 'z');
	top_key(&m, TOP_KEY_ESC);
	cr_assert_str_eq(m.search, "SSh");
	cr_assert_eq(m.nview, 1);
	top_key(&m, TOP_KEY_ESC);
	cr_assert_eq(m.nview, 3);
	top_model_done(&m);
}

Test(top, selection_keys_and_explain)
{
	struct top_model m;
	json_t *doc = load(doc_text);

	model_of(&m, doc_text);
	cr_assert_eq(top_key(&m, 'x'), TOP_ACT_NONE);
	cr_assert_eq(top_key(&m, TOP_KEY_UP), TOP_ACT_REDRAW);
	cr_assert_eq(m.sel, 0);
	top_key(&m, TOP_KEY_DOWN);
	top_key(&m, TOP_KEY_DOWN);
	top_key(&m, TOP_KEY_DOWN);
	cr_assert_eq(m.sel, 2);
	top_key(&m, TOP_KEY_HOME);
	top_key(&m, 'j');
	cr_assert_str_eq(top_selected(&m)->listener, "10.0.0.1:443");
	cr_assert_eq(top_key(&m, '\r'), TOP_ACT_EXPLAIN);
	/* The selection follows its listener when a new document comes and the order changes. */
	top_key(&m, 's');
	top_key(&m, 's');
	top_key(&m, 's');
	cr_assert_eq(top_model_set(&m, doc), 0);
	cr_assert_str_eq(top_selected(&m)->listener, "10.0.0.1:443");
	cr_assert_eq(top_key(&m, 'q'), TOP_ACT_QUIT);
	/* A search that matches nothing: nothing to explain. */
	snprintf(m.search, sizeof(m.search), "nomatch");
	top_model_refresh(&m);
	cr_assert_null(top_selected(&m));
	cr_assert_eq(top_key(&m, TOP_KEY_ENTER), TOP_ACT_NONE);
	cr_assert_eq(top_key(&m, TOP_KEY_PGDN), TOP_ACT_REDRAW);
	json_decref(doc);
	top_model_done(&m);
}

/* ---- frames ---- */

/* Return: the index of the frame's line holding needle, or f->n. */
static size_t line_with(const struct top_frame *f, const char *needle)
{
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->line[i], needle))
			return i;
	return f->n;
}

static void check_frame(const struct top_model *m, size_t rows, size_t cols, bool utf8, struct top_frame *f)
{
	size_t first_row = SIZE_MAX;

	cr_assert_eq(top_frame_render(f, m, rows, cols, utf8), 0);
	cr_assert_leq(f->n, rows);
	for (size_t i = 0; i < f->n; i++) {
		cr_assert_leq(top_width(f->line[i]), cols, "%zux%zu line %zu is %zu wide: '%s'", rows, cols, i,
			      top_width(f->line[i]), f->line[i]);
		cr_assert(!has_controls(f->line[i]), "%zux%zu line %zu: '%s'", rows, cols, i, f->line[i]);
		if (first_row == SIZE_MAX && f->kind[i] >= TOP_LINE_ROW && f->kind[i] <= TOP_LINE_ROW_SEL)
			first_row = i;
	}
	/* Two lines are the title and the status: no room for a listener. */
	if (rows < 3)
		return;
	cr_assert_neq(first_row, SIZE_MAX, "%zux%zu: no listener row", rows, cols);
	cr_assert(strncmp(f->line[first_row], "127.0.0.1:8080", cols < 14 ? cols : 14) == 0,
		  "%zux%zu: first row '%s'", rows, cols, f->line[first_row]);
	/* The status line stays at the bottom of the screen. */
	if (rows >= 2)
		cr_assert_eq(f->kind[rows - 1], TOP_LINE_STATUS);
}

Test(top, frames_fit_every_size)
{
	static const size_t sizes[][2] = { { 3, 20 }, { 24, 80 }, { 40, 120 }, { 50, 200 }, { 5, 40 }, { 2, 15 } };
	struct top_model m;

	setlocale(LC_ALL, "C.UTF-8");
	model_of(&m, doc_text);
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		for (int utf8 = 0; utf8 < 2; utf8++) {
			struct top_frame f;

			check_frame(&m, sizes[s][0], sizes[s][1], utf8, &f);
			top_frame_free(&f);
		}
	top_model_done(&m);
	setlocale(LC_ALL, "C");
}

Test(top, frame_24x80)
{
	struct top_model m;
	struct top_frame f;
	size_t i;

	model_of(&m, doc_text);
	check_frame(&m, 24, 80, true, &f);
	cr_assert(strstr(f.line[0], "tick 321 every 1 s") && strstr(f.line[0], "sort: busiest"), "%s", f.line[0]);
	cr_assert(strstr(f.line[1], "somaxconn 4096") && strstr(f.line[1], "abort_on_overflow ?"), "%s", f.line[1]);
	/* The three counters always, the others only while they move. */
	cr_assert(strstr(f.line[2], "host  ListenOverflows 12.0/s") && strstr(f.line[2], "TCPReqQFullDrop 0/s"),
		  "%s", f.line[2]);
	cr_assert(strstr(f.line[3], "LISTENER") && strstr(f.line[3], "DROPS/s") && !strstr(f.line[3], "UNIT") &&
		  !strstr(f.line[3], "NS"), "%s", f.line[3]);
	i = line_with(&f, "127.0.0.1:8080");
	cr_assert_eq(f.kind[i], TOP_LINE_ROW_SEL);
	cr_assert(strstr(f.line[i], "9/8") && strstr(f.line[i], "[##########]") && strstr(f.line[i], "12.0/s") &&
		  strstr(f.line[i], "▁▁▃▅▇███") && strstr(f.line[i], "tcpload[812]"), "%s", f.line[i]);
	/* No history: a blank sparkline, not a row of zeros. */
	i = line_with(&f, "0.0.0.0:22");
	cr_assert_eq(f.kind[i], TOP_LINE_ROW);
	cr_assert(!strstr(f.line[i], "▁"), "%s", f.line[i]);
	i = line_with(&f, "10.0.0.1:443");
	cr_assert(strstr(f.line[i], "?[31mevil??[700]"), "%s", f.line[i]);
	i = line_with(&f, "FINDINGS (1 active)");
	cr_assert_lt(i, f.n);
	cr_assert(strstr(f.line[i + 1], "backlog-overflow  127.0.0.1:8080 — raise listen()'s backlog?[2J"),
		  "%s", f.line[i + 1]);
	cr_assert(strstr(f.line[23], "q quit"), "%s", f.line[23]);
	top_frame_free(&f);
	top_model_done(&m);
}

Test(top, wide_frames_show_namespace_then_unit)
{
	struct top_model m;
	struct top_frame f;

	model_of(&m, doc_text);
	check_frame(&m, 40, 120, true, &f);
	cr_assert(strstr(f.line[3], " NS") && !strstr(f.line[3], "UNIT"), "%s", f.line[3]);
	cr_assert(strstr(f.line[2], "TCPBacklogDrop 0.5/s"), "%s", f.line[2]);
	cr_assert(strstr(f.line[line_with(&f, "10.0.0.1:443")], "blue"));
	top_frame_free(&f);
	check_frame(&m, 50, 200, true, &f);
	cr_assert(strstr(f.line[3], "UNIT") && strstr(f.line[3], "QUEUE HISTORY"), "%s", f.line[3]);
	cr_assert(strstr(f.line[line_with(&f, "0.0.0.0:22")], "ssh.service"));
	cr_assert(strstr(f.line[line_with(&f, "10.0.0.1:443")], "bad?unit.service"));
	top_frame_free(&f);
	top_model_done(&m);
}

Test(top, ascii_frame_without_utf8)
{
	struct top_model m;
	struct top_frame f;

	model_of(&m, doc_text);
	check_frame(&m, 24, 100, false, &f);
	for (size_t i = 0; i < f.n; i++)
		for (const unsigned char *p = (const unsigned char *)f.line[i]; *p; p++)
			cr_assert_lt(*p, 0x80, "line %zu: '%s'", i, f.line[i]);
	cr_assert(strstr(f.line[line_with(&f, "127.0.0.1:8080")], "__,=*###"));
	top_frame_free(&f);
	top_model_done(&m);
}

Test(top, prompt_error_and_empty_states)
{
	struct top_model m;
	struct top_frame f;

	top_model_init(&m);
	cr_assert_eq(top_frame_render(&f, &m, 10, 60, true), 0);
	cr_assert_lt(line_with(&f, "(waiting for backlogd)"), f.n);
	top_frame_free(&f);
	model_of(&m, doc_text);
	snprintf(m.error, sizeof(m.error), "cannot connect");
	cr_assert_eq(top_frame_render(&f, &m, 10, 60, true), 0);
	cr_assert(strstr(f.line[9], "retrying (q quits): cannot connect"), "%s", f.line[9]);
	top_frame_free(&f);
	top_key(&m, '/');
	top_key(&m, 'z');
	top_key(&m, 27 + 0x80);   /* not printable ASCII: ignored */
	cr_assert_eq(top_frame_render(&f, &m, 10, 60, true), 0);
	cr_assert(strstr(f.line[9], "search (Enter applies, Esc cancels): z_"), "%s", f.line[9]);
	top_frame_free(&f);
	top_key(&m, TOP_KEY_ENTER);
	cr_assert_eq(top_frame_render(&f, &m, 10, 60, true), 0);
	cr_assert(strstr(f.line[0], "search: z"), "%s", f.line[0]);
	cr_assert_lt(line_with(&f, "(no listener matches"), f.n);
	top_frame_free(&f);
	cr_assert_eq(top_frame_render(&f, &m, 0, 0, true), 0);
	cr_assert_eq(f.n, 0);
	top_frame_free(&f);
	top_model_done(&m);
}

/* A daemon of another version: every key odd or missing; never crash, always fit. */
Test(top, odd_documents)
{
	static const char *const docs[] = {
		"{}", "{\"listeners\": 5}", "{\"listeners\": [1, null, {}, {\"listener\": 7, \"queue\": \"x\","
		"\"history\": {\"queue\": [null, -3, \"a\", 1e30]}, \"netns\": 4, \"pid\": -1, \"comm\": 9}],"
		"\"findings\": [1, {\"state\": \"resolved\"}, {}], \"host\": {\"counters\": [1]}, \"daemon\": 3}",
	};

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++) {
		struct top_model m;
		struct top_frame f;

		model_of(&m, docs[d]);
		for (int k = 0; k < 12; k++)
			top_key(&m, "s\r/x\rjGgk\x1bn"[k]);
		cr_assert_eq(top_frame_render(&f, &m, 24, 80, true), 0);
		for (size_t i = 0; i < f.n; i++)
			cr_assert_leq(top_width(f.line[i]), 80);
		top_frame_free(&f);
		top_model_done(&m);
	}
}

Test(top, width_and_fit)
{
	char buf[64];

	setlocale(LC_ALL, "C.UTF-8");
	cr_assert_eq(top_width("abc"), 3);
	cr_assert_eq(top_width("▁▂█"), 3);
	cr_assert_eq(top_width("日本"), 4);
	cr_assert_eq(top_fit(buf, sizeof(buf), "日本語", 5), 6);
	cr_assert_str_eq(buf, "日本");
	cr_assert_eq(top_fit(buf, sizeof(buf), "a\x1b[2J", 10), 5);
	cr_assert_str_eq(buf, "a?[2J");
	setlocale(LC_ALL, "C");
}
