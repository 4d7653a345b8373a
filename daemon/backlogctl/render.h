/* render.h: backlogctl's human tables from the JSON documents of report.h. */
#ifndef BACKLOGD_RENDER_H
#define BACKLOGD_RENDER_H

#include <jansson.h>
#include <stdio.h>

void render_status(FILE *out, const json_t *status);
void render_listeners(FILE *out, const json_t *listeners);
void render_findings(FILE *out, const json_t *findings);
void render_explain(FILE *out, const json_t *explain);
/* findings --since: the events document, one row per event, oldest first. */
void render_finding_events(FILE *out, const json_t *events);

#endif
