/* httpd.h: GET /metrics over HTTP (libmicrohttpd on its own thread), rendered by the main thread. */
#ifndef BACKLOGD_HTTPD_H
#define BACKLOGD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct httpd;

/*
 * Listen on where and serve from a thread of libmicrohttpd's. That thread
 * never reads the fleet: a scrape asks the main thread through
 * httpd_fd(), which renders with httpd_publish(). Call with the signals
 * the main loop takes already blocked, so the thread inherits the mask.
 * Return: 0, or -errno with err saying what failed and where.
 */
int httpd_start(struct httpd **out, const struct config_listen *where, char *err, size_t errlen);

/* The port listened on: the configured one, or the kernel's choice for port 0 (tests). */
uint16_t httpd_port(const struct httpd *h);

/* An eventfd, readable when a scrape waits for a render: add it to the main loop's epoll. */
int httpd_fd(const struct httpd *h);

/* After each tick: snapshots older than @generation are stale from now on. */
void httpd_tick(struct httpd *h, uint64_t generation);

/*
 * Called by the main loop when httpd_fd() is readable. Return: true when a
 * scrape waits and the latest snapshot is older than the tick @generation
 * (the caller then renders and calls httpd_publish).
 */
bool httpd_render_wanted(struct httpd *h, uint64_t generation);

/*
 * Hand over @text (malloc'd, *not* freed by the caller afterwards; NULL when
 * the render failed) as the exposition of tick @generation, and wake the
 * scrapes that wait for it.
 */
void httpd_publish(struct httpd *h, char *text, size_t len, uint64_t generation);

/* Stop the thread (a scrape in flight gets its answer or is cut), close, free. NULL is fine. */
void httpd_stop(struct httpd *h);

#endif
