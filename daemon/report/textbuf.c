/* textbuf.c: a text buffer that grows by doubling, so appending n bytes costs O(n) however big it gets. */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "textbuf.h"

/* Past this, a buffer is its own mmap() (backlogd fixes glibc's threshold at 256 KiB). */
#define TB_POPULATE_MIN (1024 * 1024)

/*
 * A big buffer is fresh anonymous memory: writing it page by page takes a
 * fault per 4 KiB page (1,700 for the metrics of 10,000 listeners), which
 * cost more than the writing. One madvise() maps them all at once. It is
 * only an optimisation: a kernel without MADV_POPULATE_WRITE (before 5.14)
 * says EINVAL and the pages fault in as before.
 */
static void populate(char *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(page - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

void tb_init(struct textbuf *tb, size_t hint)
{
	*tb = (struct textbuf){ 0 };
	tb->cap = hint ? hint : 4096;
	tb->p = malloc(tb->cap);
	if (!tb->p) {
		tb->cap = 0;
		tb->oom = true;
	} else if (tb->cap >= TB_POPULATE_MIN) {
		populate(tb->p, tb->cap);
	}
}

/* Room for n more bytes and the NUL. Return: false when it cannot grow. */
static bool reserve(struct textbuf *tb, size_t n)
{
	size_t cap = tb->cap ? tb->cap : 4096;
	char *p;

	if (tb->oom)
		return false;
	if (n < tb->cap - tb->len)
		return true;
	while (cap - tb->len <= n) {
		if (cap > SIZE_MAX / 2) {
			tb->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(tb->p, cap);
	if (!p) {
		tb->oom = true;
		return false;
	}
	tb->p = p;
	tb->cap = cap;
	return true;
}

void tb_put(struct textbuf *tb, const char *s, size_t n)
{
	if (!reserve(tb, n))
		return;
	memcpy(tb->p + tb->len, s, n);
	tb->len += n;
}

void tb_str(struct textbuf *tb, const char *s)
{
	tb_put(tb, s, strlen(s));
}

void tb_char(struct textbuf *tb, char c)
{
	if (reserve(tb, 1))
		tb->p[tb->len++] = c;
}

void tb_u64(struct textbuf *tb, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tb_put(tb, digits + sizeof(digits) - n, n);
}

void tb_printf(struct textbuf *tb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(tb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(tb->p + tb->len, tb->cap - tb->len, fmt, ap);
	va_end(ap);
	tb->len += (size_t)n;
}

char *tb_take(struct textbuf *tb, size_t *len)
{
	char *p = NULL;

	*len = 0;
	if (!tb->oom && reserve(tb, 0)) {
		tb->p[tb->len] = '\0';
		p = tb->p;
		*len = tb->len;
		tb->p = NULL;
	}
	tb_free(tb);
	return p;
}

void tb_free(struct textbuf *tb)
{
	free(tb->p);
	*tb = (struct textbuf){ 0 };
}
