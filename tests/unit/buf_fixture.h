/* buf_fixture.h: recorded netlink dumps for the parser tests: load one, join pieces, take messages apart, read and patch fields in place. */
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
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* The file dir/name whole (dir ends with '/'). */
static inline struct buf buf_load(const char *dir, const char *name)
{
	char path[512];
	struct buf b = { .p = NULL };
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(fstat(fd, &st) == 0);
	b.len = b.cap = (size_t)st.st_size;
	b.p = malloc(b.len ? b.len : 1);
	cr_assert(b.p);
	cr_assert(read(fd, b.p, b.len) == (ssize_t)b.len, "short read of %s", path);
	close(fd);
	return b;
}

/* Append len bytes, the buffer growing by doubling (synthetic dumps take thousands). */
static inline void append(struct buf *b, const void *p, size_t len)
{
	/* A buffer that append has seen always has memory, even for 0 bytes. */
	if (!b->p || b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		cr_assert(b->p);
		b->cap = cap;
	}
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

/* Offset of message idx in a recorded dump (messages are 4-aligned). */
static inline size_t msg_off(const struct buf *b, unsigned idx)
{
	size_t off = 0;

	while (idx--) {
		cr_assert(off + MNL_NLMSG_HDRLEN <= b->len, "message index past the end");
		off += MNL_ALIGN(get32(b->p + off));
	}
	cr_assert(off + MNL_NLMSG_HDRLEN <= b->len);
	return off;
}

static inline uint32_t msg_len(const struct buf *b, unsigned idx)
{
	return get32(b->p + msg_off(b, idx));
}

/* A private, modifiable copy of message idx. */
static inline struct buf msg_copy(const struct buf *b, unsigned idx)
{
	struct buf m = { .p = NULL };

	append(&m, b->p + msg_off(b, idx), msg_len(b, idx));
	return m;
}

/* The recorded dump b with message idx replaced by m (NULL: left out). */
static inline struct buf with_msg(const struct buf *b, unsigned idx, const struct buf *m)
{
	struct buf out = { .p = NULL };
	size_t off = msg_off(b, idx);

	append(&out, b->p, off);
	if (m)
		append(&out, m->p, m->len);
	off += MNL_ALIGN(msg_len(b, idx));
	append(&out, b->p + off, b->len - off);
	return out;
}

/* Offset of the first attribute of type in a message copy, its attributes starting at start. */
static inline size_t attr_off_from(const struct buf *m, size_t start, uint16_t type)
{
	size_t off = start;

	while (off + 4 <= m->len) {
		uint16_t alen = get16(m->p + off), atype = get16(m->p + off + 2);

		cr_assert(alen >= 4);
		if ((atype & NLA_TYPE_MASK) == type)
			return off;
		off += MNL_ALIGN(alen);
	}
	cr_assert_fail("attribute %u not in message", type);
	return 0;
}

#endif
