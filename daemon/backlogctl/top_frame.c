/* top_frame.c: one frame of backlogctl top as lines of text that fit rows x cols, for a terminal or a pipe. */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "render_int.h"
#include "safe_text.h"
#include "spark.h"
#include "top.h"

/* The widest sparkline: one cell per tick of the daemon's history. */
#define SPARK_MAX_CELLS TOP_HISTORY_MAX
/* Columns shown only on a terminal wide enough for them. */
#define COLS_FOR_NS 110
#define COLS_FOR_UNIT 160
#define COLS_FOR_BAR 70
#define BAR_WIDTH 12
#define DROPS_WIDTH 8

/* ---- one line being built: text cut at the frame's width, never in a character ---- */

struct lbuf {
	char *s;
	size_t cap, len;
	size_t w, cols;
};

/* Return: the code point at p (n bytes), or -1 for a byte that is not UTF-8. */
static long decode(const unsigned char *p, size_t avail, size_t *n)
{
	int l;
	long cp;

	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	l = utf8_char_len(p, avail);
	if (l <= 0) {
		*n = 1;
		return -1;
	}
	*n = (size_t)l;
	cp = p[0] & (0x7f >> l);
	for (int i = 1; i < l; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

static size_t char_width(long cp)
{
	int w;

	if (cp < 0)
		return 1;
	if (cp < 0x20 || cp == 0x7f)
		return 0;
	w = wcwidth((wchar_t)cp);
	/* A locale that does not know the character (C): it still takes a cell on a UTF-8 terminal. */
	return w < 0 ? 1 : (size_t)w;
}

size_t top_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, n, avail = strlen(s);

	while (avail) {
		w += char_width(decode(p, avail, &n));
		p += n;
		avail -= n;
	}
	return w;
}

/* Append s, at most max columns of it and never past the line's width. Return: the columns added. */
static size_t lb_put_max(struct lbuf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), added = 0, n;

	while (avail) {
		long cp = decode(p, avail, &n);
		const unsigned char *out = p;
		size_t outn = n, cw = char_width(cp);

		/* The text is clean already; a stray control is shown as '?' rather than left to the terminal. */
		if (cp < 0x20 || cp == 0x7f)
			out = (const unsigned char *)"?", outn = 1, cw = 1;
		if (b->w + cw > b->cols || added + cw > max || b->len + outn >= b->cap)
			break;
		memcpy(b->s + b->len, out, outn);
		b->len += outn;
		b->w += cw;
		added += cw;
		p += n;
		avail -= n;
	}
	b->s[b->len] = '\0';
	return added;
}

static void lb_put(struct lbuf *b, const char *s)
{
	lb_put_max(b, s, (size_t)-1);
}

static void lb_pad(struct lbuf *b, size_t n)
{
	while (n-- > 0 && b->w < b->cols && b->len + 1 < b->cap) {
		b->s[b->len++] = ' ';
		b->w++;
	}
	b->s[b->len] = '\0';
}

static void lb_printf(struct lbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lb_printf(struct lbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	lb_put(b, tmp);
}

/* A cell of exactly width columns (width 0: none), a space before it unless it starts the line. */
static void lb_cell(struct lbuf *b, const char *s, size_t width, bool right)
{
	size_t w;

	if (width == 0)
		return;
	if (b->w > 0)
		lb_pad(b, 1);
	w = top_width(s);
	if (right && w < width)
		lb_pad(b, width - w);
	w = lb_put_max(b, s, width);
	if (!right && w < width)
		lb_pad(b, width - w);
}

/* ---- the frame's lines ---- */

/* Return: a new line of f of the given kind to write into, NULL when the frame is full. */
static struct lbuf *frame_line(struct top_frame *f, struct lbuf *b, enum top_line kind)
{
	if (f->n >= f->rows)
		return NULL;
	b->s = f->line[f->n];
	b->s[0] = '\0';
	b->cap = f->cols * 4 + 8;
	b->len = b->w = 0;
	b->cols = f->cols;
	f->kind[f->n++] = (unsigned char)kind;
	return b;
}

void top_frame_free(struct top_frame *f)
{
	if (f->line)
		free(f->line[0]);
	free(f->line);
	free(f->kind);
	memset(f, 0, sizeof(*f));
}

static int frame_alloc(struct top_frame *f, size_t rows, size_t cols)
{
	size_t each = cols * 4 + 8;
	char *text;

	memset(f, 0, sizeof(*f));
	f->rows = rows;
	f->cols = cols;
	if (rows == 0)
		return 0;
	f->line = calloc(rows, sizeof(*f->line));
	f->kind = calloc(rows, 1);
	text = calloc(rows, each);
	if (!f->line || !f->kind || !text) {
		free(text);
		top_frame_free(f);
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		f->line[i] = text + i * each;
	return 0;
}

/* ---- header ---- */

static void title_line(struct top_frame *f, const struct top_model *m)
{
	const json_t *d = jget(m->doc, "daemon");
	struct lbuf b;
	long long now, ticks, ms, nl, nf;
	char when[16] = "--:--:--", every[24];

	if (!frame_line(f, &b, TOP_LINE_TEXT))
		return;
	if (jget_int(m->doc, "now", &now) && now > 0) {
		time_t t = (time_t)now;
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
	}
	/* What the reader set (the sort, the filters) before what the daemon says: a narrow screen cuts the end. */
	lb_printf(&b, "backlogctl top  %s  sort: %s", when, top_sort_name(m->sort));
	/* The filters are typed text: shown back cleaned like any name. */
	if (m->ns_filter[0]) {
		char c[TOP_INPUT_MAX];

		copy_clean(c, sizeof(c), m->ns_filter);
		lb_printf(&b, "  ns: %s", c);
	}
	if (m->search[0]) {
		char c[TOP_INPUT_MAX];

		copy_clean(c, sizeof(c), m->search);
		lb_printf(&b, "  search: %s", c);
	}
	if (jget_int(d, "ticks", &ticks))
		lb_printf(&b, "  tick %lld", ticks);
	if (jget_int(m->doc, "interval_ms", &ms) && ms > 0) {
		format_ms(every, sizeof(every), ms);
		lb_printf(&b, " every %s", every);
	}
	if (jget_int(d, "listeners_count", &nl))
		lb_printf(&b, "  %lld listener%s", nl, nl == 1 ? "" : "s");
	if (jget_int(d, "findings_active", &nf))
		lb_printf(&b, "  %lld finding%s", nf, nf == 1 ? "" : "s");
}

static void limit_put(struct lbuf *b, const json_t *limits, const char *key, const char *label)
{
	long long v;

	if (jget_int(limits, key, &v))
		lb_printf(b, "  %s %lld", label, v);
	else
		lb_printf(b, "  %s ?", label);
}

static void limits_line(struct top_frame *f, const struct top_model *m)
{
	const json_t *l = jget(m->doc, "limits");
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_TEXT))
		return;
	lb_put(&b, "limits");
	limit_put(&b, l, "somaxconn", "somaxconn");
	limit_put(&b, l, "tcp_max_syn_backlog", "syn backlog");
	limit_put(&b, l, "tcp_syncookies", "syncookies");
	limit_put(&b, l, "tcp_abort_on_overflow", "abort_on_overflow");
}

/* The counters a reader of top looks at first, always shown; the others only while they move. */
static const char *const first_counters[] = { "ListenOverflows", "ListenDrops", "TCPReqQFullDrop" };

static void counter_put(struct lbuf *b, const char *name, const json_t *c)
{
	char rate[32], clean[64];
	double ps;

	copy_clean(clean, sizeof(clean), name);
	if (jget_num(c, "per_sec", &ps) && ps >= 0.0)
		format_rate(rate, sizeof(rate), ps);
	else
		snprintf(rate, sizeof(rate), "-");
	lb_printf(b, "  %s %s", clean, rate);
}

static void host_line(struct top_frame *f, const struct top_model *m)
{
	const json_t *cs = jget(jget(m->doc, "host"), "counters"), *c;
	const char *name;
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_TEXT))
		return;
	lb_put(&b, "host");
	for (size_t i = 0; i < ARRAY_SIZE(first_counters); i++)
		counter_put(&b, first_counters[i], jget(cs, first_counters[i]));
	if (!json_is_object(cs))
		return;
	json_object_foreach((json_t *)cs, name, c) {
		double ps;
		bool first = false;

		for (size_t i = 0; i < ARRAY_SIZE(first_counters); i++)
			first |= strcmp(name, first_counters[i]) == 0;
		if (!first && jget_num(c, "per_sec", &ps) && ps > 0.0)
			counter_put(&b, name, c);
	}
}

/* ---- listeners ---- */

struct top_cols {
	size_t listener, queue, bar, spark, drops, proc, unit, ns;
};

static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void cell_queue(char *buf, size_t len, const struct top_row *r)
{
	char q[24] = "-", b[24] = "-";

	if (r->queue >= 0)
		snprintf(q, sizeof(q), "%lld", r->queue);
	if (r->backlog >= 0)
		snprintf(b, sizeof(b), "%lld", r->backlog);
	snprintf(buf, len, "%s/%s", q, b);
}

static struct top_cols layout_cols(const struct top_model *m, size_t cols)
{
	struct top_cols c = { .listener = 8, .queue = 5, .drops = DROPS_WIDTH, .proc = 7, .unit = 4, .ns = 2 };
	size_t fixed;

	for (size_t i = 0; i < m->nview; i++) {
		const struct top_row *r = &m->rows[m->view[i]];
		char q[64];

		cell_queue(q, sizeof(q), r);
		c.listener = clamp(top_width(r->listener), c.listener, 40);
		c.queue = clamp(top_width(q), c.queue, 15);
		c.proc = clamp(top_width(r->comm), c.proc, 20);
		c.unit = clamp(top_width(r->unit), c.unit, 30);
		c.ns = clamp(top_width(r->ns), c.ns, 16);
	}
	c.bar = cols >= COLS_FOR_BAR ? BAR_WIDTH : 0;
	if (cols < COLS_FOR_UNIT)
		c.unit = 0;
	if (cols < COLS_FOR_NS)
		c.ns = 0;
	fixed = c.listener + 1 + c.queue + 1 + c.drops + 1 + c.proc + (c.bar ? c.bar + 1 : 0) +
		(c.unit ? c.unit + 1 : 0) + (c.ns ? c.ns + 1 : 0);
	/* The sparkline gets what the other columns leave, up to one cell per tick of history. */
	c.spark = cols > fixed + 1 ? clamp(cols - fixed - 1, 0, SPARK_MAX_CELLS) : 0;
	if (c.spark < 4)
		c.spark = 0;
	return c;
}

static void head_line(struct top_frame *f, const struct top_cols *c)
{
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_HEAD))
		return;
	lb_cell(&b, "LISTENER", c->listener, false);
	lb_cell(&b, "QUEUE", c->queue, true);
	lb_cell(&b, "FILL", c->bar, false);
	lb_cell(&b, c->spark >= 12 ? "QUEUE HISTORY" : "HIST", c->spark, false);
	lb_cell(&b, "DROPS/s", c->drops, true);
	lb_cell(&b, "PROCESS", c->proc, false);
	lb_cell(&b, "UNIT", c->unit, false);
	lb_cell(&b, "NS", c->ns, false);
}

static void row_line(struct top_frame *f, const struct top_row *r, const struct top_cols *c, bool sel, bool utf8)
{
	char q[64], bar[BAR_WIDTH + 1], spark[SPARK_MAX_CELLS * 3 + 1], drops[32] = "-";
	bool hot = r->full || r->drops_per_sec > 0.0 || r->drops_minute > 0;
	struct lbuf b;

	if (!frame_line(f, &b, sel ? TOP_LINE_ROW_SEL : hot ? TOP_LINE_ROW_HOT : TOP_LINE_ROW))
		return;
	cell_queue(q, sizeof(q), r);
	spark_bar(bar, sizeof(bar), r->queue, r->backlog, BAR_WIDTH);
	/* A listener the daemon keeps no history for (never busy) has a blank sparkline: no data, not zero. */
	spark_line(spark, sizeof(spark), r->hq, r->nq, c->spark, r->backlog, utf8);
	if (r->drops_per_sec >= 0.0)
		format_rate(drops, sizeof(drops), r->drops_per_sec);
	lb_cell(&b, r->listener, c->listener, false);
	lb_cell(&b, q, c->queue, true);
	lb_cell(&b, bar, c->bar, false);
	lb_cell(&b, spark, c->spark, false);
	lb_cell(&b, drops, c->drops, true);
	lb_cell(&b, r->comm, c->proc, false);
	lb_cell(&b, r->unit, c->unit, false);
	lb_cell(&b, r->ns, c->ns, false);
}

static void empty_line(struct top_frame *f, const struct top_model *m)
{
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_TEXT))
		return;
	if (!m->doc)
		lb_put(&b, "(waiting for backlogd)");
	else if (m->nrows == 0)
		lb_put(&b, "(no listeners)");
	else
		lb_put(&b, "(no listener matches the filter: n or / to change it, Esc clears the search)");
}

/* ---- findings and the status line ---- */

/* "backlog-overflow  [blue] 127.0.0.1:8080: Fix: raise ...": the cause, the subject and the fix. */
static void finding_line(struct top_frame *f, const json_t *fd, bool utf8)
{
	char cause[64], subj[CELL_MAX], ns[104], fix[CELL_MAX * 2], sev[32];
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_FINDING))
		return;
	cell_str(sev, sizeof(sev), fd, "severity");
	cell_str(cause, sizeof(cause), fd, "cause");
	cell_str(subj, sizeof(subj), fd, "subject");
	if (strcmp(subj, "-") == 0)
		cell_str(subj, sizeof(subj), fd, "listener");
	cell_str(fix, sizeof(fix), fd, "remedy");
	if (strcmp(fix, "-") == 0)
		cell_str(fix, sizeof(fix), fd, "message");
	copy_clean(sev, sizeof(sev), sev);
	copy_clean(cause, sizeof(cause), cause);
	copy_clean(subj, sizeof(subj), subj);
	copy_clean(fix, sizeof(fix), fix);
	ns_prefix(ns, sizeof(ns), jget(fd, "netns"));
	lb_printf(&b, "%-8s %s  %s%s %s %s", sev, cause, ns, subj, utf8 ? "—" : "--", fix);
}

static void status_line(struct top_frame *f, const struct top_model *m, bool utf8)
{
	char c[TOP_INPUT_MAX];
	struct lbuf b;

	if (!frame_line(f, &b, TOP_LINE_STATUS))
		return;
	copy_clean(c, sizeof(c), m->input);
	if (m->mode == TOP_MODE_PROMPT_NS)
		lb_printf(&b, "namespace (name, inode or host; empty for all): %s_", c);
	else if (m->mode == TOP_MODE_PROMPT_SEARCH)
		lb_printf(&b, "search (Enter applies, Esc cancels): %s_", c);
	else if (m->error[0])
		lb_printf(&b, "retrying (q quits): %s", m->error);
	else
		lb_printf(&b, "q quit  s sort  n namespace  / search  Enter explain  %s select",
			  utf8 ? "↑↓" : "up/down");
}

/* ---- the frame ---- */

/* How many of the rows each part gets: the title and the status first, listeners before findings. */
struct top_layout {
	bool details, head, status;
	size_t list, findings;
};

static struct top_layout layout_rows(size_t rows, size_t nfindings)
{
	struct top_layout l = { .status = rows >= 2, .details = rows >= 8, .head = rows >= 4 };
	size_t fixed = 1 + l.status + (l.details ? 2 : 0) + l.head;
	size_t room = rows > fixed ? rows - fixed : 0;

	/* A third of the room for findings, one line at least, plus their heading. */
	if (nfindings && room >= 4) {
		l.findings = clamp(room / 3, 1, nfindings);
		room -= l.findings + 1;
	}
	l.list = room;
	return l;
}

static size_t active_findings(const json_t *fs)
{
	size_t n = 0, i;
	const json_t *fd;

	json_array_foreach(fs, i, fd)
		if (json_is_object(fd) && (!jget_str(fd, "state") || str_is(jget_str(fd, "state"), "active")))
			n++;
	return n;
}

static void findings_part(struct top_frame *f, const struct top_model *m, size_t lines, bool utf8)
{
	const json_t *fs = jget_array(m->doc, "findings"), *fd;
	size_t n = active_findings(fs), shown = 0, i;
	struct lbuf b;

	if (!lines || !frame_line(f, &b, TOP_LINE_HEAD))
		return;
	lb_printf(&b, "FINDINGS (%zu active%s)", n, n > lines ? ", the first shown" : "");
	json_array_foreach(fs, i, fd) {
		if (shown == lines)
			break;
		if (!json_is_object(fd) || (jget_str(fd, "state") && !str_is(jget_str(fd, "state"), "active")))
			continue;
		finding_line(f, fd, utf8);
		shown++;
	}
}

int top_frame_render(struct top_frame *f, const struct top_model *m, size_t rows, size_t cols, bool utf8)
{
	struct top_layout l;
	struct top_cols c;
	size_t first, shown;

	if (frame_alloc(f, rows, cols) < 0)
		return -1;
	if (rows == 0 || cols == 0)
		return 0;
	l = layout_rows(rows, active_findings(jget_array(m->doc, "findings")));
	c = layout_cols(m, cols);
	f->list_rows = l.list;
	title_line(f, m);
	if (l.details) {
		limits_line(f, m);
		host_line(f, m);
	}
	if (l.head)
		head_line(f, &c);
	/* Scrolled so that the selected listener is on screen. */
	first = l.list && m->sel >= l.list ? m->sel - l.list + 1 : 0;
	for (shown = 0; shown < l.list && first + shown < m->nview; shown++)
		row_line(f, &m->rows[m->view[first + shown]], &c, first + shown == m->sel, utf8);
	if (m->nview == 0 && l.list) {
		empty_line(f, m);
		shown = 1;
	}
	findings_part(f, m, l.findings, utf8);
	/* Blank lines down to the status line, which stays at the bottom of the screen. */
	while (l.status && f->n + 1 < rows) {
		struct lbuf b;

		frame_line(f, &b, TOP_LINE_FILL);
	}
	if (l.status)
		status_line(f, m, utf8);
	/* Cells are padded to line up; the blanks after the last one would only annoy a pipe's reader. */
	for (size_t i = 0; i < f->n; i++) {
		size_t n = strlen(f->line[i]);

		while (n && f->line[i][n - 1] == ' ')
			f->line[i][--n] = '\0';
	}
	return 0;
}

size_t top_fit(char *out, size_t len, const char *s, size_t cols)
{
	struct lbuf b = { .s = out, .cap = len, .cols = cols };
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), used = 0, n;

	if (len == 0)
		return 0;
	out[0] = '\0';
	/* One character at a time, so that the bytes taken are known for the next line. */
	while (avail) {
		char one[5];

		decode(p, avail, &n);
		memcpy(one, p, n);
		one[n] = '\0';
		if (lb_put_max(&b, one, (size_t)-1) == 0 && top_width(one) > 0)
			break;
		p += n;
		avail -= n;
		used += n;
	}
	return used;
}
