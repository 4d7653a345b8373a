/* render_listeners.c: the LISTENER table, one block per network namespace. */
#include "base.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

/* The holder that accepts (the daemon marks it), else the first. */
static const json_t *acceptor_of(const json_t *procs)
{
	const json_t *p;
	size_t i;

	json_array_foreach(procs, i, p)
		if (json_is_true(jget(p, "acceptor")))
			return p;
	return json_array_get(procs, 0);
}

/*
 * "nginx[812]", "nginx[4312] T+3" when several hold the socket: the one
 * that accepts, with its state letter when it is stopped (T, t),
 * uninterruptible (D) or a zombie (Z); "-" when unknown.
 */
static void cell_process(char *buf, size_t len, const json_t *l)
{
	const json_t *procs = jget_array(l, "processes");
	const json_t *p = acceptor_of(procs);
	const char *comm = jget_str(p, "comm"), *state = jget_str(p, "state");
	long long pid, total;
	char clean[64], st[4] = "";
	size_t n = json_array_size(procs);

	if (!p) {
		snprintf(buf, len, "-");
		return;
	}
	if (jget_int(l, "processes_total", &total) && total > 0 && (size_t)total > n)
		n = (size_t)total;
	copy_clean(clean, sizeof(clean), comm ? comm : "?");
	/* Only a state that explains a full queue: running and sleeping are every server's. */
	if (state && state[0] && strchr("TtDZ", state[0]) && !state[1])
		snprintf(st, sizeof(st), " %c", state[0]);
	if (!jget_int(p, "pid", &pid))
		snprintf(buf, len, "%s", clean);
	else if (n > 1)
		snprintf(buf, len, "%s[%lld]%s+%zu", clean, pid, st, n - 1);
	else
		snprintf(buf, len, "%s[%lld]%s", clean, pid, st);
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
void render_listener_groups(FILE *out, const json_t *a, const json_t *nss)
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
