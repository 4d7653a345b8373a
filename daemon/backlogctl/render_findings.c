/* render_findings.c: the FINDINGS table, each finding's words under it, side effects after their cause. */
#include "base.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

/* A finding that follows from another: explained_by names the cause's code (role "side-effect"). */
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

/* The daemon's words for a count of clients' packets (finding_clients_noun): "drops", or "refused" for a gap. */
static const char *clients_noun(bool refused, long long n)
{
	return refused ? "refused" : n == 1 ? "drop" : "drops";
}

/*
 * Who the eBPF tier saw dropped (refused, for a gap), when the daemon
 * says: the busiest peers, each with its count and the local times of
 * its first and last drop, then what the others add up to.
 */
static void finding_clients(FILE *out, const json_t *f, size_t width)
{
	const json_t *c = jget(f, "clients"), *top = jget_array(c, "top"), *p;
	bool refused = str_is(jget_str(f, "cause"), "listener-gap");
	char text[1536] = "", addr[64], first[32], last[32];
	long long total, peers, count, port, shown = 0;
	size_t i;

	if (!json_is_object(c) || !jget_int(c, "total", &total))
		return;
	json_array_foreach(top, i, p) {
		const char *a = jget_str(p, "addr");

		if (!a || !jget_int(p, "count", &count))
			continue;
		copy_clean(addr, sizeof(addr), a);
		format_time_ms(first, sizeof(first), p, "first_ms");
		format_time_ms(last, sizeof(last), p, "last_ms");
		line_add(text, sizeof(text), "\n", strchr(addr, ':') ? "[%s]" : "%s", addr);
		if (jget_int(p, "port", &port))
			line_add(text, sizeof(text), "", ":%lld", port);
		line_add(text, sizeof(text), "", " %lld %s, %s .. %s", count, clients_noun(refused, count), first, last);
		shown++;
	}
	if (jget_int(c, "peers", &peers) && peers > shown)
		line_add(text, sizeof(text), "\n", "%s%lld %speer%s, %lld %s in all", shown ? "and " : "",
			 peers - shown, shown ? "more " : "", peers - shown == 1 ? "" : "s", total,
			 clients_noun(refused, total));
	else
		line_add(text, sizeof(text), "\n", "%lld %s in all", total, clients_noun(refused, total));
	print_wrapped_lines(out, 4, "clients: ", text, width);
}

/*
 * The message already says what a side effect follows from (core writes
 * that once, for every output); only the order of the rows shows it here.
 */
void render_finding_words(FILE *out, const json_t *f, size_t width)
{
	const char *message = jget_str(f, "message");
	const char *remedy = jget_str(f, "remedy");
	const char *detail = jget_str(f, "detail");

	if (message && *message)
		print_wrapped(out, 4, "", message, width);
	if (detail && *detail)
		print_wrapped_lines(out, 6, "", detail, width);
	finding_clients(out, f, width);
	if (remedy && *remedy)
		print_wrapped(out, 4, "fix: ", remedy, width);
}

/* The finding's words under its row, then when it was seen and revised. */
static void finding_details(FILE *out, const json_t *f, size_t width)
{
	const char *state = jget_str(f, "state");
	const char *revised_from = jget_str(f, "revised_from");
	char first[32], last[32], resolved[32], line[160], was[40], when[32];

	render_finding_words(out, f, width);
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
	/* The one finding of a listener's overflow says what it was before it was revised. */
	if (revised_from && *revised_from) {
		copy_clean(was, sizeof(was), revised_from);
		format_time(when, sizeof(when), f, "revised_at");
		snprintf(line, sizeof(line), "revised from %s at %s", was, when);
		print_wrapped(out, 4, "", line, 0);
	}
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
static size_t *finding_order(const json_t *a, size_t n)
{
	size_t *order = calloc(n, sizeof(*order));
	size_t *cause = calloc(n, sizeof(*cause));
	bool *done = calloc(n, sizeof(*done));
	size_t k = 0;

	if (!order || !cause || !done) {
		free(order);
		free(cause);
		free(done);
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
	free(cause);
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
	size_t *order;
	struct table t;
	size_t *rows;

	if (n == 0) {
		fputs("No findings.\n", out);
		return;
	}
	order = finding_order(a, n);
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

		table_print_row(out, &t, r);
		finding_details(out, json_array_get(a, idx), width);
	}
	table_free(&t);
	free(rows);
	free(order);
}
