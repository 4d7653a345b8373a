/* render_explain.c: explain's chains of evidence, one block per subject. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "render_int.h"

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
