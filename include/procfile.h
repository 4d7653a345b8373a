/* procfile.h: read /proc files (whole, a sysctl, the head of a small one) and walk their text as lines, tokens and numbers, in place. */
#ifndef BACKLOGD_PROCFILE_H
#define BACKLOGD_PROCFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A read buffer that keeps its memory from one read to the next, so a probe
 * read every tick allocates only when a file outgrows every earlier one.
 * p holds len bytes of the latest successful read (not NUL-terminated).
 */
struct procbuf {
	char *p;
	size_t len;
	size_t cap;
	struct procbuf_kept *kept;  /* files kept open (procbuf_init_kept), NULL when none are */
	size_t nkept;
};

/* The most files one buffer keeps open, and the longest path it keeps. */
#define PROCBUF_KEPT_MAX 8
#define PROCBUF_KEPT_PATH 96

struct procbuf_kept {
	int fd;
	char path[PROCBUF_KEPT_PATH];
};

/*
 * The most bytes a whole /proc file is read to: netstat and snmp are about
 * 4 KiB on 6.x kernels, so a larger one is not the kernel's, and is
 * refused rather than let a file under -P grow the daemon.
 */
#define PROCFILE_MAX (1024 * 1024)

/*
 * Open DIRFD/PATH (AT_FDCWD for a path) to read, without waiting, and only
 * when it is a regular file. Return: the fd, -EINVAL for anything else (a
 * FIFO, a socket, a device), -EISDIR for a directory, or the -errno of open.
 */
int procfile_open_at(int dirfd, const char *path);

/* An empty buffer that owns no memory yet. */
void procbuf_init(struct procbuf *pb);
/*
 * The same, for files read every tick: procfs files read through pb are
 * kept open (up to PROCBUF_KEPT_MAX of them) and read again from offset 0,
 * which saves the path walk through /proc. A file kept open shows the
 * network namespace it was opened in. Return: 0 or -ENOMEM.
 */
int procbuf_init_kept(struct procbuf *pb);
/* Release the memory and close what was kept; pb is then empty and reusable. */
void procbuf_free(struct procbuf *pb);

/*
 * Read PROC_ROOT/RELPATH whole into pb, reusing its memory (proc_root is
 * "/proc" in production). pb->p grows as the file fills it, up to max
 * bytes (PROCFILE_MAX for a file of any size the kernel writes); a file of max bytes or more is refused, since
 * it filled the buffer and may have been cut. On success pb->len bytes are
 * in pb->p (not NUL-terminated); on failure pb->len is 0. The memory stays
 * with pb either way, grown or not.
 * Return: 0, -ENAMETOOLONG, -ENOMEM, -EFBIG, -EINVAL (max is 0, or not a
 * regular file), or the -errno of open or read.
 */
int procfile_read_buf(const char *proc_root, const char *relpath, size_t max,
		      struct procbuf *pb);

/*
 * procfile_read_buf into the caller's buf of size bytes, never allocating: for
 * files known to be tiny (a sysctl). size is the cap: a file of size bytes
 * or more is refused. *len is set only on success.
 * Return: as procfile_read_buf, with size for max (-EINVAL when it is 0).
 */
int procfile_read_fixed(const char *proc_root, const char *relpath, char *buf, size_t size,
			size_t *len);

/* A /proc file kept open from one read to the next (a sysctl read every tick). */
struct procfd {
	int fd;         /* -1 until opened, and when it is not to be kept */
};

void procfd_init(struct procfd *pf);
void procfd_close(struct procfd *pf);

/*
 * procfile_read_fixed of a sysctl through pf: the file is opened the first
 * time and, when it is on procfs, kept open and read again from offset 0
 * each time after. A read that returns less than asked ends it (a sysctl
 * handler hands over its whole value at once). On a read error the file is
 * closed, to be opened again next time. Return: as procfile_read_fixed.
 */
int procfd_read_fixed(struct procfd *pf, const char *proc_root, const char *relpath, char *buf,
		      size_t size, size_t *len);

/*
 * The head of DIRFD/RELPATH into buf, NUL-terminated: at most size - 1
 * bytes, the rest of a longer file left unread. For the small files of a
 * process (comm, stat, status, cmdline, cgroup), read under its /proc
 * directory. Return: the bytes read, or -errno (-EINVAL when size is 0).
 */
ssize_t procfile_read_head_at(int dirfd, const char *relpath, char *buf, size_t size);

/*
 * A /proc directory entry that names a process: decimal digits only, 1 to
 * INT32_MAX. Return: true and *pid when it is one.
 */
bool procfile_pid_name(const char *name, int *pid);

/* A piece of text, not NUL-terminated: [p, end). */
struct span {
	const char *p;
	const char *end;
};

/* Return: true for the blanks that separate /proc fields, ' ' and '\t'. */
bool span_blank(char ch);

/*
 * Take the next line of *text into *line, without its '\n'. *whole is false
 * for a line the kernel cannot have written so: one holding a NUL byte, or
 * a last line with no '\n' (a cut-off read). Return: false when text is
 * used up.
 */
bool span_next_line(struct span *text, struct span *line, bool *whole);

/* Take the next blank-separated token of *s. Return: false at the end of s. */
bool span_next_token(struct span *s, struct span *tok);

/* Return: true when the span is exactly the string lit. */
bool span_is(const struct span *s, const char *lit);

/*
 * A decimal int64 in tok: an optional '-', then digits, nothing else (no
 * blanks, no '+'). Return: false when tok is not one or is out of the
 * int64 range; *out is set only on success.
 */
bool span_dec(const struct span *tok, int64_t *out);

/*
 * As span_dec, but a number out of the int64 range is clamped to INT64_MAX
 * or INT64_MIN rather than refused. Return: false when tok is not a number.
 */
bool span_dec_clamp(const struct span *tok, int64_t *out);

/*
 * 1 to 16 hex digits in tok, either case, no "0x". Return: false when tok
 * is not one; *out is set only on success.
 */
bool span_hex(const struct span *tok, uint64_t *out);

#endif
