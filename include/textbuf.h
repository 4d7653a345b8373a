/* textbuf.h: a text buffer that grows, for documents too big to guess (the metrics of 10,000 listeners). */
#ifndef BACKLOGD_TEXTBUF_H
#define BACKLOGD_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Appends never fail: after an allocation fails the buffer stops growing
 * and remembers it (oom), so a writer checks once at the end.
 */
struct textbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

/* Start empty with room for hint bytes (0: a small default). */
void tb_init(struct textbuf *tb, size_t hint);
void tb_put(struct textbuf *tb, const char *s, size_t n);
void tb_str(struct textbuf *tb, const char *s);
void tb_char(struct textbuf *tb, char c);
/* A decimal number without printf: the samples are mostly that. */
void tb_u64(struct textbuf *tb, uint64_t v);
void tb_printf(struct textbuf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, NUL-terminated, handed to the caller (*len without the NUL); NULL when oom. */
char *tb_take(struct textbuf *tb, size_t *len);
void tb_free(struct textbuf *tb);

#endif
