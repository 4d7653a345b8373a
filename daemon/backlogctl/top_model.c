/* top_model.c: backlogctl top's state: the rows of a top document, their order, the filters and what each key does. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"
#include "spark.h"
#include "top.h"

static const char *const sort_names[TOP_SORT_COUNT] = {
	[TOP_SORT_BUSIEST] = "busiest",
	[TOP_SORT_FILL] = "fill",
	[TOP_SORT_DROPS] = "drops/s",
	[TOP_SORT_LISTENER] = "listener",
	[TOP_SORT_NS] = "namespace",
};

const char *top_sort_name(enum top_sort s)
{
	return s < TOP_SORT_COUNT ? sort_names[s] : "?";
}

void top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
	m->page = 10;
}

void top_model_done(struct top_model *m)
{
	json_decref(m->doc);
	free(m->rows);
	free(m->view);
	memset(m, 0, sizeof(*m));
}

static void read_owner(struct top_row *r, const json_t *l)
{
	const char *comm = jget_str(l, "comm");
	char clean[64];
	long long pid;

	copy_clean(clean, sizeof(clean), comm ? comm : "?");
	if (jget_int(l, "pid", &pid))
		snprintf(r->comm, sizeof(r->comm), "%s[%lld]", clean, pid);
	else
		snprintf(r->comm, sizeof(r->comm), "%s", comm ? clean : "-");
}

static void read_ns(struct top_row *r, const json_t *l)
{
	const json_t *ns = jget(l, "netns");
	const char *name = jget_str(ns, "name");

	r->ns_host = ns_is_host(ns);
	if (!jget_int(ns, "inode", &r->ns_inode))
		r->ns_inode = -1;
	if (r->ns_host)
		snprintf(r->ns, sizeof(r->ns), "host");
	else
		ns_label(r->ns, sizeof(r->ns), ns);
	/* explain takes the namespace by inode (any namespace has one) or by name. */
	if (r->ns_inode >= 0)
		snprintf(r->target, sizeof(r->target), "%lld/%s", r->ns_inode, r->listener);
	else if (name && *name && !strchr(name, '/'))
		snprintf(r->target, sizeof(r->target), "%s/%s", name, r->listener);
	else
		snprintf(r->target, sizeof(r->target), "%s", r->listener);
}

static void read_row(struct top_row *r, const json_t *l)
{
	const json_t *h = jget(l, "history");

	memset(r, 0, sizeof(*r));
	cell_str(r->listener, sizeof(r->listener), l, "listener");
	cell_str(r->unit, sizeof(r->unit), l, "unit");
	copy_clean(r->listener, sizeof(r->listener), r->listener);
	copy_clean(r->unit, sizeof(r->unit), r->unit);
	read_owner(r, l);
	read_ns(r, l);
	if (!jget_int(l, "queue", &r->queue) || r->queue < 0)
		r->queue = -1;
	if (!jget_int(l, "backlog", &r->backlog) || r->backlog < 0)
		r->backlog = -1;
	if (!jget_int(l, "drops_minute", &r->drops_minute) || r->drops_minute < 0)
		r->drops_minute = -1;
	if (!jget_num(l, "drops_per_sec", &r->drops_per_sec) || !(r->drops_per_sec >= 0.0))
		r->drops_per_sec = -1.0;
	r->full = json_is_true(jget(l, "full"));
	if (r->queue >= 0 && r->backlog > 0)
		r->fill = (double)r->queue / (double)r->backlog;
	r->nq = jvalue_series(jget_array(h, "queue"), r->hq, TOP_HISTORY_MAX, SPARK_NONE);
	r->nd = jvalue_series(jget_array(h, "drops"), r->hd, TOP_HISTORY_MAX, SPARK_NONE);
}

/* ---- order ---- */

static int cmp_num(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0;    /* larger first */
}

static int cmp_rows(const struct top_row *a, const struct top_row *b, enum top_sort s)
{
	int c = 0;

	switch (s) {
	case TOP_SORT_BUSIEST:
		c = cmp_num((double)a->drops_minute, (double)b->drops_minute);
		if (!c)
			c = cmp_num(a->fill, b->fill);
		if (!c)
			c = cmp_num(a->drops_per_sec, b->drops_per_sec);
		break;
	case TOP_SORT_FILL:
		c = cmp_num(a->fill, b->fill);
		if (!c)
			c = cmp_num((double)a->queue, (double)b->queue);
		break;
	case TOP_SORT_DROPS:
		c = cmp_num(a->drops_per_sec, b->drops_per_sec);
		if (!c)
			c = cmp_num((double)a->drops_minute, (double)b->drops_minute);
		break;
	case TOP_SORT_NS:
		/* The host's own namespace first, then the others by name. */
		c = (int)b->ns_host - (int)a->ns_host;
		if (!c)
			c = strcmp(a->ns, b->ns);
		break;
	default:
		break;
	}
	/* Every sort ends in the same total order, so the rows never swap places between frames. */
	if (!c)
		c = strcmp(a->listener, b->listener);
	if (!c)
		c = strcmp(a->ns, b->ns);
	if (!c)
		c = a->ns_inode < b->ns_inode ? -1 : a->ns_inode > b->ns_inode;
	return c;
}

static int cmp_view(const void *pa, const void *pb, void *ctx)
{
	const struct top_model *m = ctx;

	return cmp_rows(&m->rows[*(const size_t *)pa], &m->rows[*(const size_t *)pb], m->sort);
}

/* ---- filters ---- */

static bool ns_matches(const struct top_row *r, const char *want)
{
	char inode[24];

	if (!*want)
		return true;
	if (strcmp(want, r->ns) == 0 || (r->ns_host && strcmp(want, "host") == 0))
		return true;
	snprintf(inode, sizeof(inode), "%lld", r->ns_inode);
	return r->ns_inode >= 0 && strcmp(want, inode) == 0;
}

static bool search_matches(const struct top_row *r, const char *want)
{
	return !*want || strcasestr(r->listener, want) || strcasestr(r->comm, want) ||
	       strcasestr(r->unit, want) || strcasestr(r->ns, want);
}

/* Filter and sort the rows, then select the row whose explain target is keep ("" or gone: the same index). */
static void rebuild_view(struct top_model *m, const char *keep)
{
	m->nview = 0;
	for (size_t i = 0; i < m->nrows; i++)
		if (ns_matches(&m->rows[i], m->ns_filter) && search_matches(&m->rows[i], m->search))
			m->view[m->nview++] = i;
	if (m->nview > 1)
		qsort_r(m->view, m->nview, sizeof(*m->view), cmp_view, m);
	for (size_t i = 0; keep[0] && i < m->nview; i++)
		if (strcmp(m->rows[m->view[i]].target, keep) == 0)
			m->sel = i;
	if (m->sel >= m->nview)
		m->sel = m->nview ? m->nview - 1 : 0;
}

void top_model_refresh(struct top_model *m)
{
	const struct top_row *was = top_selected(m);
	char keep[sizeof(was->target)] = "";

	if (was)
		snprintf(keep, sizeof(keep), "%s", was->target);
	rebuild_view(m, keep);
}

int top_model_set(struct top_model *m, const json_t *doc)
{
	const json_t *ls = jget_array(doc, "listeners");
	size_t n = json_array_size(ls), k = 0;
	struct top_row *rows = n ? calloc(n, sizeof(*rows)) : NULL;
	size_t *view = n ? calloc(n, sizeof(*view)) : NULL;
	const json_t *l;
	size_t i;
	/* The selection follows its listener into the new rows. */
	const struct top_row *was = top_selected(m);
	char keep[sizeof(was->target)] = "";

	if (was)
		snprintf(keep, sizeof(keep), "%s", was->target);
	if (n && (!rows || !view)) {
		free(rows);
		free(view);
		rows = NULL, view = NULL, n = 0;
	}
	json_array_foreach(ls, i, l)
		if (rows && json_is_object(l))
			read_row(&rows[k++], l);
	json_decref(m->doc);
	m->doc = json_incref((json_t *)doc);
	free(m->rows);
	free(m->view);
	m->rows = rows;
	m->view = view;
	m->nrows = k;
	rebuild_view(m, keep);
	return ls && json_array_size(ls) && !rows ? -1 : 0;
}

const struct top_row *top_selected(const struct top_model *m)
{
	return m->sel < m->nview ? &m->rows[m->view[m->sel]] : NULL;
}

/* ---- keys ---- */

static enum top_action prompt_key(struct top_model *m, int key)
{
	size_t n = strlen(m->input);

	switch (key) {
	case TOP_KEY_ESC:
		m->mode = TOP_MODE_LIST;
		break;
	case TOP_KEY_ENTER:
	case '\r':
		if (m->mode == TOP_MODE_PROMPT_NS)
			snprintf(m->ns_filter, sizeof(m->ns_filter), "%s", m->input);
		else
			snprintf(m->search, sizeof(m->search), "%s", m->input);
		m->mode = TOP_MODE_LIST;
		m->sel = 0;
		top_model_refresh(m);
		break;
	case TOP_KEY_BACKSPACE:
	case '\b':
		if (n)
			m->input[n - 1] = '\0';
		break;
	case 'U' - '@':       /* ^U: the whole line, as a shell does */
		m->input[0] = '\0';
		break;
	default:
		/* Printable ASCII only: what is typed is shown back, and names are ASCII in practice. */
		if (key < ' ' || key > '~' || n + 1 >= sizeof(m->input))
			return TOP_ACT_NONE;
		m->input[n] = (char)key;
		m->input[n + 1] = '\0';
		break;
	}
	return TOP_ACT_REDRAW;
}

static enum top_action move_sel(struct top_model *m, long delta)
{
	long last = m->nview ? (long)m->nview - 1 : 0;
	long to = (long)m->sel + delta;

	m->sel = (size_t)(to < 0 ? 0 : to > last ? last : to);
	return TOP_ACT_REDRAW;
}

enum top_action top_key(struct top_model *m, int key)
{
	long page = m->page ? (long)m->page : 1;

	if (m->mode != TOP_MODE_LIST)
		return prompt_key(m, key);
	switch (key) {
	case 'q':
	case 'Q':
		return TOP_ACT_QUIT;
	case 's':
		m->sort = (m->sort + 1) % TOP_SORT_COUNT;
		top_model_refresh(m);
		return TOP_ACT_REDRAW;
	case 'n':
	case '/':
		m->mode = key == 'n' ? TOP_MODE_PROMPT_NS : TOP_MODE_PROMPT_SEARCH;
		snprintf(m->input, sizeof(m->input), "%s", key == 'n' ? m->ns_filter : m->search);
		return TOP_ACT_REDRAW;
	case TOP_KEY_ESC:
		/* Esc in the list clears the search: the way back to every listener. */
		m->search[0] = '\0';
		top_model_refresh(m);
		return TOP_ACT_REDRAW;
	case TOP_KEY_ENTER:
	case '\r':
		return top_selected(m) ? TOP_ACT_EXPLAIN : TOP_ACT_NONE;
	case TOP_KEY_UP:
	case 'k':
		return move_sel(m, -1);
	case TOP_KEY_DOWN:
	case 'j':
		return move_sel(m, 1);
	case TOP_KEY_PGUP:
		return move_sel(m, -page);
	case TOP_KEY_PGDN:
	case ' ':
		return move_sel(m, page);
	case TOP_KEY_HOME:
	case 'g':
		return move_sel(m, -(long)m->nview);
	case TOP_KEY_END:
	case 'G':
		return move_sel(m, (long)m->nview);
	default:
		return TOP_ACT_NONE;
	}
}
