/* sbuf.c: a fixed text buffer filled piece by piece, for the sentences of findings. */
#include "base.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "sbuf.h"

void sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	buf[0] = '\0';
}

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len + 1 >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->size - sb->len)
		sb->len = sb->size - 1;
	else
		sb->len += (size_t)n;
}

void sb_secs(struct sbuf *sb, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	sb_printf(sb, "%" PRId64 ".%" PRId64 " s", ms / 1000, (ms % 1000) / 100);
}

void sb_delta(struct sbuf *sb, int64_t d)
{
	if (d < 0)
		sb_printf(sb, "unknown");
	else
		sb_printf(sb, "+%" PRId64, d);
}

void sb_value(struct sbuf *sb, int64_t v)
{
	if (v < 0)
		sb_printf(sb, "unknown");
	else
		sb_printf(sb, "%" PRId64, v);
}
