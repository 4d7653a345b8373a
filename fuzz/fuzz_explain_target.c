/*
 * fuzz_explain_target.c: the target of `explain` ("ADDR:PORT", "[V6]:PORT",
 * "PORT", "*:PORT", after an optional "NAMESPACE/") as a client sends it,
 * explained over a fleet of the recorded host (report_fleet_explain).
 */
#include "base.h"

#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	char *target = fuzz_strdup(data, size);
	json_t *doc;

	doc = report_fleet_explain(fuzz_fleet(), target, err, sizeof(err));
	json_decref(doc);
	free(target);
	return 0;
}
