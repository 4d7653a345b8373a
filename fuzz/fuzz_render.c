/*
 * fuzz_render.c: backlogctl's tables from a reply's document, whatever the
 * daemon (or something on its socket) sent: every renderer on the same
 * JSON, written to /dev/null.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "render.h"

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
	render_finding_events(out, doc);
	json_decref(doc);
	return 0;
}
