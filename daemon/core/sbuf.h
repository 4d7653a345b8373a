/* sbuf.h: a fixed text buffer filled piece by piece, and the number formats the sentences share. */
#ifndef BACKLOGD_CORE_SBUF_H
#define BACKLOGD_CORE_SBUF_H

#include <stddef.h>
#include <stdint.h>

/* Output past the end is cut, never overrun; the buffer is always a string. */
struct sbuf {
	char *buf;
	size_t size;
	size_t len;
};

/* Start sb on buf (size > 0), emptied. */
void sb_init(struct sbuf *sb, char *buf, size_t size);
/* Append, cut at the end of the buffer. */
void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "3.2 s" from milliseconds: a gap is read by people, tenths are enough. */
void sb_secs(struct sbuf *sb, int64_t ms);
/* "+12", or "unknown" for a counter that was not read on both ticks (d < 0). */
void sb_delta(struct sbuf *sb, int64_t d);
/* A sysctl value, or "unknown" when it could not be read (v < 0). */
void sb_value(struct sbuf *sb, int64_t v);

#endif
