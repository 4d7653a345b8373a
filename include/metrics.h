/* metrics.h: the fleet's state as Prometheus text exposition (format 0.0.4, names OpenMetrics accepts). */
#ifndef BACKLOGD_METRICS_H
#define BACKLOGD_METRICS_H

#include <stddef.h>
#include "fleet.h"

/* The Content-Type a scraper is told, should the exposition be served over HTTP. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Every metric of fl at its latest tick: per listener, per active finding,
 * per namespace (host counters, limits, tick health) and the daemon's own.
 * No timestamps; seconds as the time unit; outside text (process, unit,
 * namespace names) escaped per the format and made valid printable UTF-8.
 * Read the monitors between two ticks, as the report documents do.
 * Return: a malloc'd NUL-terminated text (*len without the NUL), or NULL
 * when out of memory.
 */
char *metrics_text(const struct fleet *fl, size_t *len);

/*
 * Write metrics_text(fl) to path for node_exporter's textfile collector:
 * written to path.tmp in the same directory, then renamed over path, so a
 * scrape never sees half a file. Return: 0 or -errno (-ENOMEM included).
 */
int metrics_textfile(const struct fleet *fl, const char *path);

#endif
