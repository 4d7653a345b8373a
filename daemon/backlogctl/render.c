/* render.c: backlogctl's human output (aligned tables, units) from the report.h JSON documents. */
#include "base.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "render.h"

/*
 * The documents may come from a daemon of another version: every key may be
 * missing, null or of another type. Every reader below therefore checks the
 * type and falls back to "-" rather than trusting the shape.
 */

#define TABLE_MAX_COLS 8
#define CELL_MAX 256
/* An interface name (IFNAMSIZ 16) with room to spare. */
#define LINK_CELL 32
/* Wrapping narrower than this helps nobody; print the long line instead. */
#define WRAP_MIN 40

static const json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *jget_str(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Integers and reals both count: a future daemon may send either. */
static bool jnum(const json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return true;
	}
	return false;
}

static bool jget_num(const json_t *o, const char *key, double *out)
{
	return jnum(jget(o, key), out);
}

static bool jint(const json_t *v, long long *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	/* Reject what a long long cannot hold rather than invoke undefined behaviour. */
	if (jnum(v, &d) && d > -9.2e18 && d < 9.2e18) {
		*out = (long long)d;
		return true;
	}
	return false;
}

static bool jget_int(const json_t *o, const char *key, long long *out)
{
	return jint(jget(o, key), out);
}

static const json_t *jget_array(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_array(v) ? v : NULL;
}

/* Copy s into buf, control characters (a newline in a comm) made harmless for a table. */
static void copy_clean(char *buf, size_t len, const char *s)
{
	size_t i;

	if (len == 0)
		return;
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
}

static void cell_str(char *buf, size_t len, const json_t *o, const char *key)
{
	const char *s = jget_str(o, key);

	copy_clean(buf, len, s && *s ? s : "-");
}

static void cell_int(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;

	if (jget_int(o, key, &v))
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "-");
}

/* Columns count characters, not bytes: a UTF-8 unit name must not skew the table. */
static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* ---- tables ---- */

struct table {
	size_t ncols;
	const char *const *head;
	const char *align;        /* one 'l' or 'r' per column */
	char **cells;             /* nrows * ncols strings */
	size_t nrows;
	size_t cap;
	size_t width[TABLE_MAX_COLS];
};

static void table_init(struct table *t, const char *const *head, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = strlen(align);
	if (t->ncols > TABLE_MAX_COLS)
		t->ncols = TABLE_MAX_COLS;
	t->head = head;
	t->align = align;
	for (size_t c = 0; c < t->ncols; c++)
		t->width[c] = display_width(head[c]);
}

/* Add a row (copied). Out of memory drops the row: output is best effort. Return: true when added. */
static bool table_add(struct table *t, char cells[][CELL_MAX])
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));

		if (!n)
			return false;
		t->cells = n;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c]);
		if (!row[c]) {
			while (c-- > 0)
				free(row[c]);
			return false;
		}
	}
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = display_width(row[c]);

		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
	return true;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static void table_print_cells(FILE *out, const struct table *t, const char *const *cells)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = display_width(cells[c]);
		size_t fill = t->width[c] > w ? t->width[c] - w : 0;
		bool last = c + 1 == t->ncols;

		if (c > 0)
			fputs("  ", out);
		if (t->align[c] == 'r')
			pad(out, fill);
		fputs(cells[c], out);
		/* No trailing blanks after the last column: they annoy diff and grep. */
		if (t->align[c] != 'r' && !last)
			pad(out, fill);
	}
	fputc('\n', out);
}

static void table_print_head(FILE *out, const struct table *t)
{
	table_print_cells(out, t, t->head);
}

static void table_print_row(FILE *out, const struct table *t, size_t i)
{
	table_print_cells(out, t, (const char *const *)(t->cells + i * t->ncols));
}

static void table_print(FILE *out, const struct table *t)
{
	table_print_head(out, t);
	for (size_t i = 0; i < t->nrows; i++)
		table_print_row(out, t, i);
}

/* ---- units ---- */

/* "45s", "12m 05s", "3h 04m", "2d 03h": an uptime, read at a glance. */
static void format_duration(char *buf, size_t len, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd %02lldh", s / 86400, s % 86400 / 3600);
}

/* "1 s", "1.5 s", "250 ms". */
static void format_ms(char *buf, size_t len, long long ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%lld s", ms / 1000);
	else if (ms >= 1000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%lld ms", ms);
}

static void format_rate(char *buf, size_t len, double per_sec)
{
	if (per_sec >= 100.0 || per_sec == 0.0)
		snprintf(buf, len, "%.0f/s", per_sec);
	else
		snprintf(buf, len, "%.1f/s", per_sec);
}

/* Local time of an epoch; "-" when the daemon gave none. */
static void format_time(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;
	struct tm tm;
	time_t t;

	if (!jget_int(o, key, &v) || v <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)v;
	if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", v);
}

/* ---- wrapping ---- */

/* Return: the terminal's width when out is one, 0 (no wrapping) for pipes and files. */
static size_t term_width(FILE *out)
{
	struct winsize ws;
	int fd = fileno(out);

	if (fd < 0 || !isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

/*
 * Print indent spaces, prefix, then text, folding text at spaces to fit
 * width with continuation lines hung under the start of text. width 0
 * prints one line, so that piped output stays one record per line.
 */
static void print_wrapped(FILE *out, size_t indent, const char *prefix, const char *text, size_t width)
{
	size_t hang = indent + display_width(prefix);
	size_t room = width > hang ? width - hang : 0;
	const char *p = text;

	pad(out, indent);
	fputs(prefix, out);
	if (width == 0 || room < WRAP_MIN) {
		for (; *p; p++)
			fputc((unsigned char)*p < 0x20 ? ' ' : *p, out);
		fputc('\n', out);
		return;
	}
	while (*p) {
		size_t used = 0, cut = 0, i;

		while (*p == ' ')
			p++;
		/* Find the last space within room; a word longer than room is cut hard. */
		for (i = 0; p[i]; i++) {
			if (((unsigned char)p[i] & 0xc0) != 0x80)
				used++;
			if (used > room)
				break;
			if (p[i] == ' ')
				cut = i;
		}
		if (!p[i])
			cut = i;
		else if (cut == 0)
			cut = i;
		for (size_t k = 0; k < cut; k++)
			fputc((unsigned char)p[k] < 0x20 ? ' ' : p[k], out);
		fputc('\n', out);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			pad(out, hang);
	}
}

/*
 * print_wrapped for a text that may hold several lines (a finding's detail
 * is a list): each line is wrapped on its own, the later ones hung under
 * the first instead of repeating prefix.
 */
static void print_wrapped_lines(FILE *out, size_t indent, const char *prefix, const char *text, size_t width)
{
	size_t hang = display_width(prefix);
	const char *p = text;
	bool first = true;

	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, n);

		/* Blank lines inside a list say nothing; out of memory prints nothing rather than crash. */
		if (line && (n > 0 || first))
			print_wrapped(out, first ? indent : indent + hang, first ? prefix : "", line, width);
		free(line);
		first = false;
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
}

/* ---- listeners ---- */

/* "nginx[812]", "nginx[812]+3" when several hold the socket, "-" when unknown. */
static void cell_process(char *buf, size_t len, const json_t *l)
{
	const json_t *procs = jget_array(l, "processes");
	const json_t *p = json_array_get(procs, 0);
	const char *comm = jget_str(p, "comm");
	long long pid, total;
	char clean[64];
	size_t n = json_array_size(procs);

	if (!p) {
		snprintf(buf, len, "-");
		return;
	}
	if (jget_int(l, "processes_total", &total) && total > 0 && (size_t)total > n)
		n = (size_t)total;
	copy_clean(clean, sizeof(clean), comm ? comm : "?");
	if (!jget_int(p, "pid", &pid))
		snprintf(buf, len, "%s", clean);
	else if (n > 1)
		snprintf(buf, len, "%s[%lld]+%zu", clean, pid, n - 1);
	else
		snprintf(buf, len, "%s[%lld]", clean, pid);
}

/* "+5" for new drops, "0" when none, "-" when unknown. */
static void cell_delta(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;

	if (!jget_int(o, key, &v))
		snprintf(buf, len, "-");
	else if (v > 0)
		snprintf(buf, len, "+%lld", v);
	else
		snprintf(buf, len, "%lld", v);
}

/* Accept the array itself, or a document (status, diagnose) that carries it under key. */
static const json_t *array_or_member(const json_t *doc, const char *key)
{
	if (json_is_array(doc))
		return doc;
	return jget_array(doc, key);
}

/* ---- namespaces ---- */

static void line_add(char *buf, size_t len, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * A "netns" object ({inode, name, kind}) and a namespaces[] entry carry the
 * same keys, so both are read alike. An entry with none (an older daemon,
 * one namespace) is the host's.
 */
static bool ns_is_host(const json_t *ns)
{
	const char *kind = jget_str(ns, "kind");
	const char *name = jget_str(ns, "name");

	if (!json_is_object(ns))
		return true;
	/* The kind decides when given: a namespace someone called "host" is not ours. */
	if (kind)
		return strcmp(kind, "host") == 0;
	return !name || strcmp(name, "host") == 0;
}

/* Whether two entries are in the same namespace: by inode when both have one, else by name. */
static bool same_ns(const json_t *a, const json_t *b)
{
	long long ia, ib;
	const char *na, *nb;

	if (!json_is_object(a) || !json_is_object(b))
		return json_is_object(a) || json_is_object(b) ? ns_is_host(a) && ns_is_host(b) : true;
	if (jget_int(a, "inode", &ia) && jget_int(b, "inode", &ib))
		return ia == ib;
	na = jget_str(a, "name");
	nb = jget_str(b, "name");
	if (na && nb)
		return strcmp(na, nb) == 0;
	return !na && !nb && ns_is_host(a) == ns_is_host(b);
}

/* "blue", "inode 4026532000", "?": a namespace as a reader names it. */
static void ns_label(char *buf, size_t len, const json_t *ns)
{
	const char *name = jget_str(ns, "name");
	long long inode;

	if (name && *name)
		copy_clean(buf, len, name);
	else if (jget_int(ns, "inode", &inode))
		snprintf(buf, len, "inode %lld", inode);
	else
		copy_clean(buf, len, json_is_object(ns) ? "?" : "host");
}

/* "[blue] " before a subject in another namespace than the host's, "" otherwise. */
static void ns_prefix(char *buf, size_t len, const json_t *ns)
{
	char label[96];

	buf[0] = '\0';
	if (ns_is_host(ns))
		return;
	ns_label(label, sizeof(label), ns);
	snprintf(buf, len, "[%s] ", label);
}

/* "namespace blue (named, inode 4026532000)": the line over a namespace's listeners. */
static void ns_heading(char *buf, size_t len, const json_t *ns)
{
	const char *kind = jget_str(ns, "kind");
	char label[96], what[64] = "", num[40] = "";
	long long inode;

	ns_label(label, sizeof(label), ns);
	if (kind)
		copy_clean(what, sizeof(what), strcmp(kind, "host") == 0 ? "backlogd's own" : kind);
	if (jget_int(ns, "inode", &inode))
		snprintf(num, sizeof(num), "inode %lld", inode);
	if (what[0] || num[0])
		snprintf(buf, len, "namespace %s (%s%s%s)", label, what, what[0] && num[0] ? ", " : "", num);
	else
		snprintf(buf, len, "namespace %s", label);
}

/* One namespace's share of the listener table. */
struct ns_group {
	const json_t *ns;         /* a netns object or a namespaces[] entry; NULL: no namespace given */
	bool host;
	size_t rows;              /* listeners in it */
};

/*
 * The namespaces of a document: namespaces[] first (every one watched, in
 * the daemon's order), then any a listener names that the list lacks.
 * group_of[i] is listener i's group. Return: the groups (malloc'd) and *ng,
 * or NULL when out of memory.
 */
static struct ns_group *group_listeners(const json_t *a, const json_t *nss, size_t *group_of, size_t *ng)
{
	size_t n = json_array_size(a), nn = json_array_size(nss), i;
	struct ns_group *g = calloc(n + nn + 1, sizeof(*g));
	const json_t *x;

	*ng = 0;
	if (!g)
		return NULL;
	json_array_foreach(nss, i, x) {
		if (!json_is_object(x))
			continue;
		g[*ng] = (struct ns_group){ .ns = x, .host = ns_is_host(x) };
		(*ng)++;
	}
	json_array_foreach(a, i, x) {
		const json_t *ns = jget(x, "netns");
		size_t k;

		for (k = 0; k < *ng; k++)
			if (same_ns(g[k].ns, ns))
				break;
		if (k == *ng) {
			g[k] = (struct ns_group){ .ns = json_is_object(ns) ? ns : NULL, .host = ns_is_host(ns) };
			(*ng)++;
		}
		g[k].rows++;
		group_of[i] = k;
	}
	return g;
}

/* "2 namespaces without listeners: red, pid 812 (nginx)"; nothing when every one has some. */
static void render_empty_namespaces(FILE *out, const struct ns_group *g, size_t ng)
{
	enum { SHOWN_MAX = 8 };
	size_t empty = 0, shown = 0;
	char line[1024] = "", label[96];

	for (size_t k = 0; k < ng; k++) {
		if (g[k].rows > 0)
			continue;
		empty++;
		if (shown == SHOWN_MAX)
			continue;
		ns_label(label, sizeof(label), g[k].ns);
		line_add(line, sizeof(line), ", ", "%s", label);
		shown++;
	}
	if (empty == 0)
		return;
	fprintf(out, "%zu namespace%s without listeners: %s", empty, empty == 1 ? "" : "s", line);
	if (empty > shown)
		fprintf(out, " and %zu more", empty - shown);
	fputc('\n', out);
}

/*
 * The LISTENER table, one block per namespace under a heading line, the
 * host's first, one set of column widths for all; namespaces without
 * listeners are only counted. A document with only the host's listeners
 * (one namespace, or an older daemon) prints the plain table.
 */
static void render_listener_groups(FILE *out, const json_t *a, const json_t *nss)
{
	static const char *const head[] = {
		"LISTENER", "QUEUE", "BACKLOG", "PEAK", "DROPS", "+DROPS", "PROCESS", "UNIT",
	};
	size_t n = json_array_size(a), ng = 0, i;
	size_t *group_of = calloc(n + 1, sizeof(*group_of));
	size_t *row_group = calloc(n + 1, sizeof(*row_group));
	struct ns_group *g = group_of ? group_listeners(a, nss, group_of, &ng) : NULL;
	bool headings = g && (ng > 1 || (ng == 1 && !g[0].host));
	const json_t *l;
	struct table t;
	size_t blocks = 0;

	if (n == 0) {
		fputs("No listeners.\n", out);
		if (headings)
			render_empty_namespaces(out, g, ng);
		goto out;
	}
	table_init(&t, head, "lrrrrrll");
	json_array_foreach(a, i, l) {
		char cells[8][CELL_MAX];

		cell_str(cells[0], CELL_MAX, l, "listener");
		cell_int(cells[1], CELL_MAX, l, "queue");
		cell_int(cells[2], CELL_MAX, l, "backlog");
		cell_int(cells[3], CELL_MAX, l, "peak_queue");
		cell_int(cells[4], CELL_MAX, l, "drops");
		cell_delta(cells[5], CELL_MAX, l, "drops_delta");
		cell_process(cells[6], CELL_MAX, l);
		cell_str(cells[7], CELL_MAX, l, "unit");
		/* A row dropped for memory is left out; row_group keeps the others in step. */
		if (table_add(&t, cells) && row_group && g)
			row_group[t.nrows - 1] = group_of[i];
	}
	if (!headings || !row_group) {
		table_print(out, &t);
		goto out_table;
	}
	/* The host's block first, then the others in the daemon's order. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < ng; k++) {
			char line[2 * CELL_MAX];

			if (g[k].rows == 0 || g[k].host != (pass == 0))
				continue;
			ns_heading(line, sizeof(line), g[k].ns);
			/* Blocks after the first are set apart; the caller spaced the first. */
			fprintf(out, "%s%s\n", blocks++ ? "\n" : "", line);
			table_print_head(out, &t);
			for (size_t r = 0; r < t.nrows; r++)
				if (row_group[r] == k)
					table_print_row(out, &t, r);
		}
	}
	render_empty_namespaces(out, g, ng);
out_table:
	table_free(&t);
out:
	free(g);
	free(row_group);
	free(group_of);
}

/* Print the LISTENERS table for a listeners array (or a status document, grouped by its namespaces). */
void render_listeners(FILE *out, const json_t *listeners)
{
	const json_t *a = array_or_member(listeners, "listeners");

	render_listener_groups(out, a, json_is_object(listeners) ? jget_array(listeners, "namespaces") : NULL);
}

/* ---- findings ---- */

static bool str_is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* A finding that follows from another: explained_by names the cause (role "side-effect"). */
static const char *side_effect_of(const json_t *f)
{
	const char *by = jget_str(f, "explained_by");

	return by && *by ? by : NULL;
}

/*
 * "host", "interface eth0", "destination 10.0.0.5:5432": the subject, named
 * with its scope unless it is a listener (the table's usual subject) or the
 * subject already says it.
 */
static void cell_subject(char *buf, size_t len, const json_t *f)
{
	const char *scope = jget_str(f, "scope");
	char subj[CELL_MAX], sc[32], ns[104];
	size_t room;

	cell_str(subj, sizeof(subj), f, "subject");
	/* A daemon that sends no subject still names the listener. */
	if (strcmp(subj, "-") == 0)
		cell_str(subj, sizeof(subj), f, "listener");
	/* The same address in two namespaces is two listeners: say which, unless it is the host's. */
	ns_prefix(ns, sizeof(ns), jget(f, "netns"));
	/* A subject longer than a cell can show is cut; the namespace and scope words stay. */
	room = CELL_MAX - 1 - strlen(ns);
	if (!scope || str_is(scope, "listener") || strncmp(subj, scope, strlen(scope)) == 0) {
		snprintf(buf, len, "%s%.*s", ns, (int)room, subj);
		return;
	}
	copy_clean(sc, sizeof(sc), scope);
	snprintf(buf, len, "%s%s %.*s", ns, sc, (int)(room - strlen(sc) - 1), subj);
}

static void finding_details(FILE *out, const json_t *f, const json_t *cause, size_t width)
{
	const char *message = jget_str(f, "message");
	const char *remedy = jget_str(f, "remedy");
	const char *detail = jget_str(f, "detail");
	const char *state = jget_str(f, "state");
	const char *by = side_effect_of(f);
	char first[32], last[32], resolved[32], line[160];

	if (by) {
		char where[CELL_MAX] = "";
		const char *key = jget_str(cause, "listener");

		if (key && !str_is(key, jget_str(f, "listener")))
			snprintf(where, sizeof(where), " on %s", key);
		snprintf(line, sizeof(line), "(side effect of %s%s)", by, where);
		copy_clean(line, sizeof(line), line);
		print_wrapped(out, 4, "", line, width);
	}
	if (message && *message)
		print_wrapped(out, 4, "", message, width);
	if (detail && *detail)
		print_wrapped_lines(out, 6, "", detail, width);
	if (remedy && *remedy)
		print_wrapped(out, 4, "fix: ", remedy, width);
	format_time(first, sizeof(first), f, "first_seen");
	format_time(last, sizeof(last), f, "last_seen");
	if (state && strcmp(state, "resolved") == 0) {
		format_time(resolved, sizeof(resolved), f, "resolved_at");
		snprintf(line, sizeof(line), "seen %s .. %s, resolved %s", first, last, resolved);
	} else if (strcmp(first, last) == 0) {
		snprintf(line, sizeof(line), "seen %s", first);
	} else {
		snprintf(line, sizeof(line), "seen %s .. %s", first, last);
	}
	print_wrapped(out, 4, "", line, 0);
}

/*
 * The finding that side effect s follows from: the first of cause's code in
 * the same namespace and state on the same key, else the first of that code
 * in that namespace and state (a cause in one namespace explains nothing in
 * another). Return: its index, or n when none.
 */
static size_t cause_index(const json_t *a, size_t n, size_t s)
{
	const json_t *se = json_array_get(a, s);
	const char *by = side_effect_of(se);
	size_t any = n;

	for (size_t i = 0; by && i < n; i++) {
		const json_t *c = json_array_get(a, i);

		if (i == s || side_effect_of(c) || !str_is(jget_str(c, "cause"), by) ||
		    !str_is(jget_str(c, "state"), jget_str(se, "state")) || !same_ns(jget(c, "netns"), jget(se, "netns")))
			continue;
		if (str_is(jget_str(c, "listener"), jget_str(se, "listener")))
			return i;
		if (any == n)
			any = i;
	}
	return any;
}

/*
 * The order to print findings in: each primary cause followed by its side
 * effects, then side effects whose cause is not in the list, all otherwise
 * in the daemon's order. Return: a malloc'd array of n indexes, or NULL
 * (print in the daemon's order).
 */
static size_t *finding_order(const json_t *a, size_t n, size_t **cause_of)
{
	size_t *order = calloc(n, sizeof(*order));
	size_t *cause = calloc(n, sizeof(*cause));
	bool *done = calloc(n, sizeof(*done));
	size_t k = 0;

	if (!order || !cause || !done) {
		free(order);
		free(cause);
		free(done);
		*cause_of = NULL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		cause[i] = side_effect_of(json_array_get(a, i)) ? cause_index(a, n, i) : n;
	for (size_t i = 0; i < n; i++) {
		if (side_effect_of(json_array_get(a, i)))
			continue;
		order[k++] = i;
		done[i] = true;
		for (size_t j = 0; j < n; j++) {
			if (!done[j] && cause[j] == i) {
				order[k++] = j;
				done[j] = true;
			}
		}
	}
	for (size_t j = 0; j < n; j++)
		if (!done[j])
			order[k++] = j;
	free(done);
	*cause_of = cause;
	return order;
}

/*
 * Print the FINDINGS table for a findings array (or a status document),
 * details under each; side effects follow the finding they come from.
 */
void render_findings(FILE *out, const json_t *findings)
{
	static const char *const head[] = { "SEVERITY", "STATE", "CAUSE", "SUBJECT" };
	const json_t *a = array_or_member(findings, "findings");
	size_t width = term_width(out);
	size_t n = json_array_size(a);
	size_t *order, *cause_of;
	struct table t;
	size_t *rows;

	if (n == 0) {
		fputs("No findings.\n", out);
		return;
	}
	order = finding_order(a, n, &cause_of);
	rows = calloc(n, sizeof(*rows));
	table_init(&t, head, "llll");
	for (size_t k = 0; k < n; k++) {
		const json_t *f = json_array_get(a, order ? order[k] : k);
		char cells[4][CELL_MAX];

		cell_str(cells[0], CELL_MAX, f, "severity");
		cell_str(cells[1], CELL_MAX, f, "state");
		cell_str(cells[2], CELL_MAX, f, "cause");
		cell_subject(cells[3], CELL_MAX, f);
		/* A row dropped for memory is left out; rows[] keeps the others in step with the array. */
		if (table_add(&t, cells) && rows)
			rows[t.nrows - 1] = order ? order[k] : k;
	}
	table_print_head(out, &t);
	for (size_t r = 0; r < t.nrows; r++) {
		size_t idx = rows ? rows[r] : order ? order[r] : r;
		const json_t *cause = cause_of && cause_of[idx] < n ? json_array_get(a, cause_of[idx]) : NULL;

		table_print_row(out, &t, r);
		finding_details(out, json_array_get(a, idx), cause, width);
	}
	table_free(&t);
	free(rows);
	free(order);
	free(cause_of);
}

/* ---- status ---- */

static void render_header(FILE *out, const json_t *doc)
{
	const json_t *d = jget(doc, "daemon");
	const json_t *diag = jget(doc, "diagnose");
	const char *version = jget_str(d, "version");
	const char *err = jget_str(d, "last_error");
	const char *scan_err = jget_str(d, "scan_error");
	long long v, nl, nf, failed;
	double interval;
	char up[32], tick[32];

	if (json_is_object(d)) {
		fprintf(out, "backlogd %s", version ? version : "(unknown version)");
		if (jget_int(d, "uptime_s", &v)) {
			format_duration(up, sizeof(up), v);
			fprintf(out, ", up %s", up);
		}
		if (jget_int(d, "ticks", &v)) {
			fprintf(out, ", %lld ticks", v);
			if (jget_int(d, "tick_interval_ms", &v) && v > 0) {
				format_ms(tick, sizeof(tick), v);
				fprintf(out, " every %s", tick);
			}
		}
		/* One namespace is the old daemon's whole world: say the count only when it is news. */
		if (jget_int(d, "namespaces_count", &v) && (v != 1 || json_is_true(jget(d, "scan"))))
			fprintf(out, ", %lld namespace%s", v, v == 1 ? "" : "s");
		if (jget_int(d, "listeners_count", &nl))
			fprintf(out, ", %lld listener%s", nl, nl == 1 ? "" : "s");
		if (jget_int(d, "findings_active", &nf))
			fprintf(out, ", %lld active finding%s", nf, nf == 1 ? "" : "s");
		fputc('\n', out);
		if (err) {
			char clean[CELL_MAX];

			copy_clean(clean, sizeof(clean), err);
			fprintf(out, "last error: %s", clean);
			if (jget_int(d, "failed_ticks", &failed))
				fprintf(out, " (%lld failed tick%s)", failed, failed == 1 ? "" : "s");
			fputc('\n', out);
		}
		if (scan_err) {
			char clean[CELL_MAX];

			copy_clean(clean, sizeof(clean), scan_err);
			fprintf(out, "namespace scan failed: %s (the namespaces found before are still watched)\n", clean);
		}
	} else if (json_is_object(diag)) {
		if (jget_num(diag, "interval_s", &interval))
			fprintf(out, "one-shot diagnosis (no daemon): two samples %.1f s apart\n", interval);
		else
			fputs("one-shot diagnosis (no daemon)\n", out);
	} else {
		fputs("backlogd (no daemon information)\n", out);
	}
}

static void limit_item(FILE *out, const json_t *lim, const char *key, const char *label, bool first)
{
	long long v;

	fprintf(out, "%s%s ", first ? "" : "  ", label);
	if (jget_int(lim, key, &v))
		fprintf(out, "%lld", v);
	else
		fputs("?", out);
}

/* "32768-60999", "1 2 3": an array limit; false when it is not an array of numbers. */
static bool format_int_array(char *buf, size_t len, const json_t *a, const char *sep)
{
	size_t i, off = 0;
	const json_t *v;
	long long x;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return false;
	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		int w;

		if (!jint(v, &x))
			return false;
		w = snprintf(buf + off, len - off, "%s%lld", i ? sep : "", x);
		if (w < 0 || (size_t)w >= len - off)
			return false;
		off += (size_t)w;
	}
	return true;
}

/*
 * The limits of the other causes on a second line under the first, only
 * those known: a daemon that sends none (an older one) prints nothing.
 */
static void render_more_limits(FILE *out, const json_t *lim)
{
	static const struct {
		const char *key, *label;
	} ints[] = {
		{ "tcp_tw_reuse", "tw_reuse" },
		{ "tcp_max_tw_buckets", "max_tw_buckets" },
		{ "tcp_max_orphans", "max_orphans" },
		{ "nf_conntrack_max", "conntrack_max" },
	};
	char buf[96];
	long long v;
	bool any = false;

	if (format_int_array(buf, sizeof(buf), jget(lim, "ip_local_port_range"), "-")) {
		fprintf(out, "        port_range %s", buf);
		any = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (!jget_int(lim, ints[i].key, &v))
			continue;
		fprintf(out, "%s%s %lld", any ? "  " : "        ", ints[i].label, v);
		any = true;
	}
	if (format_int_array(buf, sizeof(buf), jget(lim, "tcp_mem"), " ")) {
		fprintf(out, "%stcp_mem %s", any ? "  " : "        ", buf);
		any = true;
	}
	if (any)
		fputc('\n', out);
}

static void render_limits(FILE *out, const json_t *doc)
{
	const json_t *lim = jget(doc, "limits");

	if (!json_is_object(lim))
		return;
	fputs("limits: ", out);
	limit_item(out, lim, "somaxconn", "somaxconn", true);
	limit_item(out, lim, "tcp_max_syn_backlog", "tcp_max_syn_backlog", false);
	limit_item(out, lim, "tcp_syncookies", "syncookies", false);
	limit_item(out, lim, "tcp_abort_on_overflow", "abort_on_overflow", false);
	fputc('\n', out);
	render_more_limits(out, lim);
}

/*
 * The host counters with something to say (a nonzero total or delta); a
 * wall of zeros would bury the one that moved.
 */
static void render_host(FILE *out, const json_t *doc)
{
	static const char *const head[] = { "HOST COUNTER", "TOTAL", "DELTA", "RATE" };
	const json_t *host = jget(doc, "host");
	const json_t *counters = jget(host, "counters");
	const char *name;
	const json_t *c;
	struct table t;
	double interval, rate;

	if (!json_is_object(counters) || json_object_size(counters) == 0)
		return;
	table_init(&t, head, "lrrr");
	json_object_foreach((json_t *)counters, name, c) {
		char cells[4][CELL_MAX];
		long long total = 0, delta = 0;
		bool have_total = jget_int(c, "total", &total);
		bool have_delta = jget_int(c, "delta", &delta);

		if (total == 0 && delta == 0)
			continue;
		copy_clean(cells[0], CELL_MAX, name);
		if (have_total)
			snprintf(cells[1], CELL_MAX, "%lld", total);
		else
			snprintf(cells[1], CELL_MAX, "-");
		cell_delta(cells[2], CELL_MAX, c, "delta");
		if (have_delta && jget_num(c, "per_sec", &rate))
			format_rate(cells[3], CELL_MAX, rate);
		else
			snprintf(cells[3], CELL_MAX, "-");
		table_add(&t, cells);
	}
	fputc('\n', out);
	if (t.nrows == 0) {
		fputs("Host counters: all zero.\n", out);
	} else {
		if (jget_num(host, "interval_s", &interval))
			fprintf(out, "Host counters (delta over the last %.1f s):\n", interval);
		table_print(out, &t);
	}
	table_free(&t);
}

/* Append ", "-separated text to a line being built; a full line keeps what fitted. */
__attribute__((format(printf, 4, 5)))
static void line_add(char *buf, size_t len, const char *sep, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off > 0 && off < len) {
		int w = snprintf(buf + off, len - off, "%s", sep);

		if (w < 0)
			return;
		off += (size_t)w;
	}
	if (off >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* The interfaces that dropped anything: "eth0 +3 (12 total)", summed over the three counters. */
static void host_link_drops(char *buf, size_t len, const json_t *links)
{
	static const char *const keys[] = { "rx_dropped", "rx_missed_errors", "rx_fifo_errors" };
	size_t i;
	const json_t *l;

	json_array_foreach(links, i, l) {
		const json_t *d = jget(l, "deltas");
		long long total = 0, delta = 0, v;
		bool have_delta = json_is_object(d);
		char name[LINK_CELL];

		for (size_t k = 0; k < 3; k++) {
			if (jget_int(l, keys[k], &v) && v > 0 && total <= LLONG_MAX - v)
				total += v;
			if (have_delta && jget_int(d, keys[k], &v) && v > 0 && delta <= LLONG_MAX - v)
				delta += v;
		}
		if (total == 0)
			continue;
		cell_str(name, sizeof(name), l, "name");
		if (have_delta)
			line_add(buf, len, ", ", "%s +%lld (%lld total)", name, delta, total);
		else
			line_add(buf, len, ", ", "%s %lld total", name, total);
	}
}

/*
 * One compact line for the host-wide state: TCP sockets and memory,
 * conntrack when the module is loaded, interfaces that dropped packets.
 * Nothing is printed when the daemon sent none of them.
 */
static void render_host_line(FILE *out, const json_t *doc)
{
	const json_t *host = jget(doc, "host");
	const json_t *ss = jget(host, "sockstat");
	const json_t *ct = jget(host, "conntrack");
	char line[1024] = "", part[512] = "";
	long long v, max;

	if (json_is_object(ss)) {
		if (jget_int(ss, "inuse", &v))
			line_add(part, sizeof(part), ", ", "tcp %lld in use", v);
		if (jget_int(ss, "tcp6_inuse", &v))
			line_add(part, sizeof(part), ", ", "tcp6 %lld", v);
		if (jget_int(ss, "orphan", &v))
			line_add(part, sizeof(part), ", ", "%lld orphaned", v);
		if (jget_int(ss, "tw", &v))
			line_add(part, sizeof(part), ", ", "%lld time-wait", v);
		if (jget_int(ss, "mem", &v))
			line_add(part, sizeof(part), ", ", "mem %lld pages", v);
		if (part[0])
			line_add(line, sizeof(line), "; ", "%s", part);
	}
	if (json_is_object(ct) && json_is_true(jget(ct, "present"))) {
		const json_t *d = jget(ct, "deltas");

		part[0] = '\0';
		if (jget_int(ct, "count", &v) && jget_int(ct, "max", &max))
			line_add(part, sizeof(part), ", ", "conntrack %lld of %lld", v, max);
		else if (jget_int(ct, "count", &v))
			line_add(part, sizeof(part), ", ", "conntrack %lld", v);
		else
			line_add(part, sizeof(part), ", ", "conntrack");
		if (jget_int(d, "drop", &v))
			line_add(part, sizeof(part), ", ", "+%lld drops", v);
		if (jget_int(d, "insert_failed", &v) && v > 0)
			line_add(part, sizeof(part), ", ", "+%lld insert failures", v);
		line_add(line, sizeof(line), "; ", "%s", part);
	}
	part[0] = '\0';
	host_link_drops(part, sizeof(part), jget_array(host, "links"));
	if (part[0])
		line_add(line, sizeof(line), "; ", "link drops: %s", part);
	if (line[0]) {
		copy_clean(line, sizeof(line), line);
		fprintf(out, "host: %s\n", line);
	}
}

/* "tcpload[812]" from a gap's pid and comm keys; "-" when unknown. */
static void cell_pid_comm(char *buf, size_t len, const json_t *o, const char *pid_key, const char *comm_key)
{
	const char *comm = jget_str(o, comm_key);
	long long pid;
	char clean[64];

	copy_clean(clean, sizeof(clean), comm ? comm : "?");
	if (jget_int(o, pid_key, &pid))
		snprintf(buf, len, "%s[%lld]", clean, pid);
	else if (comm)
		snprintf(buf, len, "%s", clean);
	else
		snprintf(buf, len, "-");
}

/*
 * The RECENT LISTENER GAPS table: which address:port went without a
 * listener, when, for how long, who held it before and after. Printed only
 * when there were any.
 */
static void render_gaps(FILE *out, const json_t *doc)
{
	static const char *const head[] = { "LISTENER", "VANISHED", "GAP", "BEFORE", "AFTER", "RESETS" };
	const json_t *a = jget_array(doc, "gaps");
	struct table t;
	size_t i;
	const json_t *g;

	if (json_array_size(a) == 0)
		return;
	table_init(&t, head, "llrllr");
	json_array_foreach(a, i, g) {
		char cells[6][CELL_MAX], prefix[104], name[CELL_MAX - 104];
		long long ms;

		if (!json_is_object(g))
			continue;
		ns_prefix(prefix, sizeof(prefix), jget(g, "netns"));
		cell_str(name, sizeof(name), g, "listener");
		snprintf(cells[0], CELL_MAX, "%s%s", prefix, name);
		format_time(cells[1], CELL_MAX, g, "vanished_at");
		if (json_is_true(jget(g, "absent")))
			snprintf(cells[2], CELL_MAX, "still absent");
		else if (json_is_true(jget(g, "replaced")))
			snprintf(cells[2], CELL_MAX, "replaced");
		else if (jget_int(g, "gap_ms", &ms))
			format_ms(cells[2], CELL_MAX, ms);
		else
			snprintf(cells[2], CELL_MAX, "-");
		cell_pid_comm(cells[3], CELL_MAX, g, "old_pid", "old_comm");
		cell_pid_comm(cells[4], CELL_MAX, g, "new_pid", "new_comm");
		cell_int(cells[5], CELL_MAX, g, "out_rsts");
		table_add(&t, cells);
	}
	if (t.nrows > 0) {
		fputs("\nRECENT LISTENER GAPS\n", out);
		table_print(out, &t);
	}
	table_free(&t);
}

/* A namespace whose latest tick failed keeps its last state: say so, or its numbers look current. */
static void render_ns_errors(FILE *out, const json_t *nss)
{
	size_t i;
	const json_t *x;

	json_array_foreach(nss, i, x) {
		const char *err = jget_str(x, "last_error");
		char label[96], clean[CELL_MAX];

		if (!err)
			continue;
		ns_label(label, sizeof(label), x);
		copy_clean(clean, sizeof(clean), err);
		fprintf(out, "namespace %s: latest tick failed: %s\n", label, clean);
	}
}

/* Print a status (or one-shot diagnose) document: header, limits, host, listeners, gaps, findings. */
void render_status(FILE *out, const json_t *status)
{
	if (!json_is_object(status)) {
		fputs("backlogctl: the daemon sent no status document\n", out);
		return;
	}
	render_header(out, status);
	render_limits(out, status);
	render_host_line(out, status);
	render_host(out, status);
	fputc('\n', out);
	render_listener_groups(out, jget_array(status, "listeners"), jget_array(status, "namespaces"));
	render_ns_errors(out, jget_array(status, "namespaces"));
	render_gaps(out, status);
	fputc('\n', out);
	render_findings(out, jget(status, "findings"));
}

/* ---- explain ---- */

static void render_chain(FILE *out, const json_t *chain, const char *target, size_t width)
{
	const json_t *steps = jget_array(chain, "steps");
	const char *name = jget_str(jget(chain, "listener"), "listener");
	const char *subject = jget_str(chain, "subject");
	const char *scope = jget_str(chain, "scope");
	const char *match = jget_str(chain, "match");
	size_t w = 0, i;
	const json_t *s;
	char title[2 * CELL_MAX], ns[104];

	if (match && strcmp(match, "wildcard") == 0 && target && name)
		snprintf(title, sizeof(title), "%s (served by %s)", target, name);
	else if (!name && subject && scope && !str_is(scope, "listener") && !str_is(scope, subject))
		snprintf(title, sizeof(title), "%.32s %.200s", scope, subject);
	else if (!name && subject)
		snprintf(title, sizeof(title), "%s", subject);
	else
		snprintf(title, sizeof(title), "%s", name ? name : target ? target : "listener");
	copy_clean(title, sizeof(title), title);
	ns_prefix(ns, sizeof(ns), jget(chain, "netns"));
	fprintf(out, "%s%s\n", ns, title);
	if (json_array_size(steps) == 0) {
		fputs("  (no evidence)\n", out);
		return;
	}
	json_array_foreach(steps, i, s) {
		const char *label = jget_str(s, "step");
		size_t lw = display_width(label ? label : "-");

		if (lw > w && lw < 32)
			w = lw;
	}
	json_array_foreach(steps, i, s) {
		const char *label = jget_str(s, "step");
		const char *text = jget_str(s, "text");
		char prefix[128];
		size_t lw;

		copy_clean(prefix, 33, label ? label : "-");
		lw = display_width(prefix);
		/* Pad the label into the prefix so wrapped lines hang under the text. */
		if (lw < w) {
			size_t n = strlen(prefix);

			memset(prefix + n, ' ', w - lw);
			prefix[n + w - lw] = '\0';
		}
		strcat(prefix, "  ");
		print_wrapped_lines(out, 2, prefix, text ? text : "-", width);
	}
}

/* Print the evidence chains of an explain document, one block per matching listener. */
void render_explain(FILE *out, const json_t *explain)
{
	const char *target = jget_str(explain, "target");
	const json_t *chains = array_or_member(explain, "chains");
	size_t width = term_width(out);
	size_t i;
	const json_t *c;

	/* A single chain (an older or newer daemon's shape) is still worth printing. */
	if (!chains && jget_array(explain, "steps")) {
		render_chain(out, explain, target, width);
		return;
	}
	if (json_array_size(chains) == 0) {
		fprintf(out, "Nothing to explain%s%s.\n", target ? " for " : "", target ? target : "");
		return;
	}
	json_array_foreach(chains, i, c) {
		if (i > 0)
			fputc('\n', out);
		render_chain(out, c, target, width);
	}
}
