/*
 * seed_docs.c: writes the documents of the fixture fleet (status,
 * listeners, findings, findings --since's events, an explain) into DIR,
 * the seed corpus of fuzz_render: real replies, for the fuzzer to bend.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "clock.h"
#include "fuzz.h"
#include "report.h"

static void put(const char *dir, const char *name, json_t *doc)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (!doc || json_dump_file(doc, path, JSON_COMPACT) < 0) {
		fprintf(stderr, "seed_docs: no %s\n", name);
		exit(1);
	}
	json_decref(doc);
}

int main(int argc, char **argv)
{
	struct fleet *fl;
	char err[256];
	json_t *ex, *lst;
	const char *first;

	if (argc != 2) {
		fprintf(stderr, "usage: seed_docs DIR\n");
		return 2;
	}
	fl = fuzz_fleet();
	put(argv[1], "status", report_fleet_status(fl, clock_wall_ms() / 1000));
	put(argv[1], "listeners", report_fleet_listeners(fl));
	put(argv[1], "findings", report_fleet_findings(fl));
	put(argv[1], "events", report_finding_events(fl->log, clock_wall_ms() / 1000, 3600));
	/* An explain of the first listener the machine has (none: no explain seed). */
	lst = report_fleet_listeners(fl);
	first = json_string_value(json_object_get(json_array_get(lst, 0), "listener"));
	ex = first ? report_fleet_explain(fl, first, err, sizeof(err)) : NULL;
	if (ex)
		put(argv[1], "explain", ex);
	json_decref(lst);
	return 0;
}

/* Linked with fuzz_common.c, which declares it; never called here. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data, (void)size;
	return 0;
}
