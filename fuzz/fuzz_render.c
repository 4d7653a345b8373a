/*
 * fuzz_render.c: backlogctl's tables from a reply's document, whatever the
 * daemon (or something on its socket) sent: every renderer on the same
 * JSON, written to /dev/null; and top's frames of it, which must fit the
 * screen whatever the document holds.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "render.h"
#include "top.h"

/* top's model of doc, bent by a few keys, laid out at rows x cols: every line must fit. */
static void top_frames(const json_t *doc)
{
	static const size_t sizes[][2] = { { 3, 20 }, { 24, 80 }, { 50, 200 } };
	struct top_model m;

	top_model_init(&m);
	top_model_set(&m, doc);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct top_frame f;

		if (top_frame_render(&f, &m, sizes[s][0], sizes[s][1], s != 1) < 0)
			continue;
		for (size_t i = 0; i < f.n; i++)
			if (top_width(f.line[i]) > f.cols)
				abort();
		top_frame_free(&f);
		top_key(&m, "sjG"[s]);
	}
	top_model_done(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	json_error_t jerr;
	json_t *doc;

	if (!out && !(out = fopen("/dev/null", "w")))
		abort();
	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!doc)
		return 0;
	render_status(out, doc);
	render_listeners(out, doc);
	render_findings(out, doc);
	render_explain(out, doc);
	top_frames(doc);
	render_finding_events(out, doc);
	json_decref(doc);
	return 0;
}
