/* procfile.c: the one family of /proc file readers (whole files, sysctls, the head of a small file) and the tokenizer the /proc probes share. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "procfile.h"

/*
 * The first buffer: above the ~5 KiB of /proc/net/netstat on 6.x kernels,
 * so most files take one allocation, and a reused buffer none.
 */
#define PROCFILE_CHUNK 8192

void procbuf_init(struct procbuf *pb)
{
	pb->p = NULL;
	pb->len = 0;
	pb->cap = 0;
	pb->kept = NULL;
	pb->nkept = 0;
}

int procbuf_init_kept(struct procbuf *pb)
{
	procbuf_init(pb);
	pb->kept = calloc(PROCBUF_KEPT_MAX, sizeof(*pb->kept));
	return pb->kept ? 0 : -ENOMEM;
}

void procbuf_free(struct procbuf *pb)
{
	for (size_t i = 0; i < pb->nkept; i++)
		close(pb->kept[i].fd);
	free(pb->kept);
	free(pb->p);
	procbuf_init(pb);
}

/* How read_fd knows it has read all it wants. */
enum read_end {
	READ_TO_EOF,    /* a read that returns 0; a file that fills max is refused */
	READ_SHORT,     /* that, or a read that returns less than asked (a sysctl) */
	READ_HEAD,      /* that, or max bytes read: the head of the file is all that is wanted */
};

/*
 * /proc files report st_size 0, so the size is only known at EOF. Reads go
 * into pb from its start; pb->p grows (doubling, up to max) only when the
 * file outgrows it, so a buffer kept across ticks settles at the largest
 * file and stays there. A buffer whose cap is already max or more, as
 * procfile_read_fixed hands in, is never reallocated. The file is read from
 * offset 0 with pread, so that a descriptor kept open reads it afresh.
 */
static int read_fd(int fd, size_t max, enum read_end end, struct procbuf *pb)
{
	size_t len = 0, ncap;
	char *nbuf;

	for (;;) {
		/* A buffer grown for a larger file still reads no more than this cap. */
		size_t room = pb->cap < max ? pb->cap : max;
		ssize_t r;

		if (len == room) {
			if (room >= max && end == READ_HEAD)
				break;
			/* A full buffer at the cap cannot tell EOF from more to come. */
			if (room >= max)
				return -EFBIG;
			ncap = pb->cap > max / 2 ? max : pb->cap * 2;
			nbuf = realloc(pb->p, ncap);
			if (!nbuf)
				return -ENOMEM;
			pb->p = nbuf;
			pb->cap = ncap;
			continue;
		}
		r = pread(fd, pb->p + len, room - len, (off_t)len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (end == READ_SHORT && (size_t)r < room - (len - (size_t)r))
			break;
	}
	pb->len = len;
	return 0;
}

/*
 * Opening never waits (O_NONBLOCK: a FIFO put under -P would otherwise
 * block the open, and the daemon with it, past SIGTERM), and only a
 * regular file is read: every /proc file this reads is one, while a FIFO,
 * socket or device is not ours to read.
 */
int procfile_open_at(int dirfd, const char *path)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

/* Open PROC_ROOT/RELPATH, and give pb its first memory. Return: the fd, or -errno. */
static int open_for(const char *proc_root, const char *relpath, size_t max, struct procbuf *pb)
{
	char path[4096];
	int n;

	pb->len = 0;
	if (max == 0)
		return -EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", proc_root, relpath);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (pb->cap == 0) {
		size_t first = max < PROCFILE_CHUNK ? max : PROCFILE_CHUNK;

		pb->p = malloc(first);
		if (!pb->p)
			return -ENOMEM;
		pb->cap = first;
	}
	return procfile_open_at(AT_FDCWD, path);
}

/* The kept file of that path, or NULL. */
static struct procbuf_kept *kept_find(struct procbuf *pb, const char *proc_root, const char *relpath)
{
	char path[PROCBUF_KEPT_PATH];
	int n;
	size_t i;

	n = snprintf(path, sizeof(path), "%s/%s", proc_root, relpath);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	for (i = 0; i < pb->nkept; i++)
		if (strcmp(pb->kept[i].path, path) == 0)
			return &pb->kept[i];
	return NULL;
}

/* Keep fd open under its path when pb keeps files, it is on procfs and there is room. Return: whether kept. */
static bool kept_add(struct procbuf *pb, const char *proc_root, const char *relpath, int fd)
{
	struct procbuf_kept *k;
	struct statfs sf;
	int n;

	if (!pb->kept || pb->nkept == PROCBUF_KEPT_MAX)
		return false;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return false;
	k = &pb->kept[pb->nkept];
	n = snprintf(k->path, sizeof(k->path), "%s/%s", proc_root, relpath);
	if (n < 0 || (size_t)n >= sizeof(k->path))
		return false;
	k->fd = fd;
	pb->nkept++;
	return true;
}

static void kept_drop(struct procbuf *pb, struct procbuf_kept *k)
{
	close(k->fd);
	*k = pb->kept[--pb->nkept];
}

int procfile_read_buf(const char *proc_root, const char *relpath, size_t max,
		      struct procbuf *pb)
{
	struct procbuf_kept *k = pb->kept ? kept_find(pb, proc_root, relpath) : NULL;
	int fd, err;

	if (k) {
		pb->len = 0;
		err = read_fd(k->fd, max, READ_TO_EOF, pb);
		if (err == 0)
			return 0;
		/* Opened afresh below: the file may have gone with its namespace. */
		kept_drop(pb, k);
	}
	fd = open_for(proc_root, relpath, max, pb);
	if (fd < 0)
		return fd;
	err = read_fd(fd, max, READ_TO_EOF, pb);
	if (err || !kept_add(pb, proc_root, relpath, fd))
		close(fd);
	return err;
}

void procfd_init(struct procfd *pf)
{
	pf->fd = -1;
}

void procfd_close(struct procfd *pf)
{
	if (pf->fd >= 0)
		close(pf->fd);
	pf->fd = -1;
}

/*
 * A sysctl file is generated afresh by every read at offset 0, so one
 * descriptor serves every tick: the open (a path walk through /proc, most
 * of the cost of reading a sysctl) is paid once. Only procfs files are
 * kept: a replayed tree (-P) is made of plain files that a test may
 * replace, which must be opened again to be seen.
 */
int procfd_read_fixed(struct procfd *pf, const char *proc_root, const char *relpath, char *buf,
		      size_t size, size_t *len)
{
	struct procbuf view = { .p = buf, .cap = size };
	struct statfs sf;
	int err;

	if (pf->fd < 0) {
		int fd = open_for(proc_root, relpath, size, &view);

		if (fd < 0)
			return fd;
		if (fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
			pf->fd = fd;
		} else {
			err = read_fd(fd, size, READ_TO_EOF, &view);
			close(fd);
			if (err)
				return err;
			*len = view.len;
			return 0;
		}
	}
	/*
	 * A sysctl's handler formats the whole value and hands over as much as
	 * fits: a read that did not fill the room asked for has it all, and
	 * the read that would return 0 is saved.
	 */
	err = read_fd(pf->fd, size, READ_SHORT, &view);
	if (err) {
		/* Opened again next time: the file may have gone with its namespace. */
		procfd_close(pf);
		return err;
	}
	*len = view.len;
	return 0;
}

/* The caller's memory stands in as a buffer already at its cap: it is never grown or freed. */
int procfile_read_fixed(const char *proc_root, const char *relpath, char *buf, size_t size,
			size_t *len)
{
	struct procbuf view = { .p = buf, .cap = size };
	int err;

	err = procfile_read_buf(proc_root, relpath, size, &view);
	if (err)
		return err;
	*len = view.len;
	return 0;
}

/*
 * The head of a file under a directory already open (a process's
 * directory in /proc): one openat, no path through proc_root, and what
 * does not fit is left unread rather than refused.
 */
ssize_t procfile_read_head_at(int dirfd, const char *relpath, char *buf, size_t size)
{
	struct procbuf view = { .p = buf, .cap = size - 1 };
	int fd, err;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	fd = procfile_open_at(dirfd, relpath);
	if (fd < 0)
		return fd;
	err = read_fd(fd, size - 1, READ_HEAD, &view);
	close(fd);
	if (err)
		return err;
	buf[view.len] = '\0';
	return (ssize_t)view.len;
}

bool procfile_pid_name(const char *name, int *pid)
{
	int64_t v = 0;

	if (*name == '\0')
		return false;
	for (; *name; name++) {
		if (*name < '0' || *name > '9')
			return false;
		v = v * 10 + (*name - '0');
		if (v > INT32_MAX)
			return false;
	}
	if (v == 0)
		return false;
	*pid = (int)v;
	return true;
}

bool span_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

bool span_next_line(struct span *text, struct span *line, bool *whole)
{
	const char *nl;

	if (text->p >= text->end)
		return false;
	nl = memchr(text->p, '\n', (size_t)(text->end - text->p));
	line->p = text->p;
	line->end = nl ? nl : text->end;
	text->p = nl ? nl + 1 : text->end;
	*whole = nl && !memchr(line->p, '\0', (size_t)(line->end - line->p));
	return true;
}

bool span_next_token(struct span *s, struct span *tok)
{
	while (s->p < s->end && span_blank(*s->p))
		s->p++;
	if (s->p == s->end)
		return false;
	tok->p = s->p;
	while (s->p < s->end && !span_blank(*s->p))
		s->p++;
	tok->end = s->p;
	return true;
}

bool span_is(const struct span *s, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(s->end - s->p) == n && memcmp(s->p, lit, n) == 0;
}

/*
 * Digits are taken by hand, not with strtoll: tokens are not NUL-terminated,
 * and strtoll would also accept blanks, '+' and a "0x". With clamp, the
 * digits after the clamp are still checked, so "99...9x" is no number.
 */
static bool parse_dec(const struct span *tok, bool clamp, int64_t *out)
{
	const char *p = tok->p;
	bool neg = false, clamped = false;
	uint64_t v = 0, limit;

	if (p < tok->end && *p == '-') {
		neg = true;
		p++;
	}
	if (p == tok->end)
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < tok->end; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return false;
		d = (unsigned)(*p - '0');
		if (clamped)
			continue;
		if (v > (limit - d) / 10) {
			if (!clamp)
				return false;
			clamped = true;
			v = limit;
			continue;
		}
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return true;
}

bool span_dec(const struct span *tok, int64_t *out)
{
	return parse_dec(tok, false, out);
}

bool span_dec_clamp(const struct span *tok, int64_t *out)
{
	return parse_dec(tok, true, out);
}

/* At most 16 digits, so the value always fits and never wraps. */
bool span_hex(const struct span *tok, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (tok->p == tok->end || tok->end - tok->p > 16)
		return false;
	for (p = tok->p; p < tok->end; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}
