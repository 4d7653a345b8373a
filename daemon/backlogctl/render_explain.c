/* render_explain.c: explain's chains of evidence, one block per subject. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "render_int.h"
#include "spark.h"

/* The newest points of a listener's history that explain draws: the daemon keeps 60. */
#define HISTORY_CELLS 60

/* Which of a chain's two histories a row shows. */
enum history_row { HISTORY_QUEUE, HISTORY_DROPS };

static const char *const history_label[] = { "queue history", "drops history" };

/*
 * "queue history  ▁▂▃▅█  0..8 over the last 5 ticks (5 s)": the queue
 * against the backlog, or the drops of each tick against the window's
 * most, as a sparkline with its scale.
 */
static void history_line(FILE *out, const json_t *h, enum history_row which, const char *prefix, size_t width)
{
	long long v[HISTORY_CELLS], backlog = -1, ms;
	char spark[HISTORY_CELLS * 3 + 1], text[HISTORY_CELLS * 3 + 128], span[32];
	size_t n = jvalue_series(jget_array(h, which == HISTORY_QUEUE ? "queue" : "drops"), v, HISTORY_CELLS, SPARK_NONE);
	long long max = spark_max(v, n);

	if (n == 0)
		return;
	if (which == HISTORY_QUEUE && jget_int(h, "backlog", &backlog) && backlog > 0)
		max = backlog;
	spark_line(spark, sizeof(spark), v, n, n, max, spark_utf8());
	if (which == HISTORY_DROPS)
		snprintf(text, sizeof(text), "%s  0..%lld per tick", spark, max);
	else {
		snprintf(text, sizeof(text), "%s  0..%lld%s over the last %zu tick%s", spark, max,
			 backlog > 0 ? " (the backlog)" : "", n, n == 1 ? "" : "s");
		if (jget_int(h, "interval_ms", &ms) && ms > 0) {
			format_ms(span, sizeof(span), ms * (long long)n);
			line_add(text, sizeof(text), " ", "(%s)", span);
		}
	}
	print_wrapped_lines(out, 2, prefix, text, width);
}

/* The label of a step or a history row padded to w columns, then two spaces. */
static void step_prefix(char *prefix, const char *label, size_t w)
{
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
}

/* The history rows due after a step labelled label (NULL: the end of the chain), each once. */
static void history_after(FILE *out, const json_t *h, const char *label, size_t w, size_t width, bool *done)
{
	for (unsigned r = HISTORY_QUEUE; r <= HISTORY_DROPS; r++) {
		char prefix[128];

		if (done[r] || !json_is_object(h))
			continue;
		/* Each next to its step's evidence ("queue", "drops"), or at the end when the chain has none. */
		if (label && !str_is(label, r == HISTORY_QUEUE ? "queue" : "drops"))
			continue;
		step_prefix(prefix, history_label[r], w);
		history_line(out, h, r, prefix, width);
		done[r] = true;
	}
}

static void render_chain(FILE *out, const json_t *chain, const char *target, size_t width)
{
	const json_t *steps = jget_array(chain, "steps");
	const char *name = jget_str(jget(chain, "listener"), "listener");
	const char *subject = jget_str(chain, "subject");
	const char *scope = jget_str(chain, "scope");
	const char *match = jget_str(chain, "match");
	const json_t *history = jget(chain, "history");
	bool done[2] = { false, false };
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
	if (json_is_object(history) && w < strlen(history_label[0]))
		w = strlen(history_label[0]);
	json_array_foreach(steps, i, s) {
		const char *label = jget_str(s, "step");
		const char *text = jget_str(s, "text");
		char prefix[128];

		step_prefix(prefix, label, w);
		print_wrapped_lines(out, 2, prefix, text ? text : "-", width);
		history_after(out, history, label ? label : "", w, width, done);
	}
	history_after(out, history, NULL, w, width, done);
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
