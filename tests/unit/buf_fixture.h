/* buf_fixture.h: recorded netlink dumps for the parser tests: load one, join pieces, read and patch fields in place. */
#ifndef BACKLOGD_BUF_FIXTURE_H
#define BACKLOGD_BUF_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>

struct buf {
	uint8_t *p;
	size_t len;
};

/* The file dir/name whole (dir ends with '/'). */
static inline struct buf buf_load(const char *dir, const char *name)
{
	char path[512];
	struct buf b = { NULL, 0 };
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(fstat(fd, &st) == 0);
	b.len = (size_t)st.st_size;
	b.p = malloc(b.len ? b.len : 1);
	cr_assert(b.p);
	cr_assert(read(fd, b.p, b.len) == (ssize_t)b.len, "short read of %s", path);
	close(fd);
	return b;
}

static inline void append(struct buf *b, const void *p, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	cr_assert(b->p);
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Fields at any alignment, in host order as the kernel wrote them. */
static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

#endif
