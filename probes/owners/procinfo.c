/* procinfo.c: what a process is, as shown to a person: comm, a cmdline neutralised for terminals, the journal and JSON, real uid and user name, unit, run state. */
#include "base.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "procfile.h"
#include "procinfo.h"
#include "safe_text.h"

/*
 * The state letter and ppid from a /proc/PID/stat text. comm may itself
 * contain ") ": the state follows the last ')'. Return: the state or 0.
 */
static char stat_fields(const char *buf, int *ppid)
{
	const char *rp = strrchr(buf, ')');
	char *end;
	long v;

	if (!rp || rp[1] != ' ' || !isalpha((unsigned char)rp[2]))
		return 0;
	if (ppid && rp[3] == ' ') {
		errno = 0;
		v = strtol(rp + 4, &end, 10);
		if (!errno && end != rp + 4 && v > 0 && v <= INT32_MAX)
			*ppid = (int)v;
	}
	return rp[2];
}

char procinfo_state(const char *proc_root, int pid)
{
	/*
	 * Only the start is needed: pid, comm (at most 64 bytes, for kernel
	 * workers) and the state fit well within 256.
	 */
	char path[4096], buf[256];
	int n;

	n = snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if (procfile_read_head_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
		return 0;
	return stat_fields(buf, NULL);
}

/*
 * The bytes of /proc/PID/cmdline as one line: the NULs between arguments
 * become spaces, trailing NULs (the last argument's, and the padding left
 * by setproctitle) are dropped, and the rest goes through safe_text(), so
 * the text is safe for a terminal, the journal and JSON. cut says raw was
 * cut short by the read, so a character it ends inside is simply left out.
 */
static void format_cmdline(const unsigned char *raw, size_t len, bool cut, char *out, size_t size)
{
	char line[OWNER_CMDLINE_MAX + 8];

	while (len > 0 && raw[len - 1] == '\0')
		len--;
	if (len > sizeof(line))
		len = sizeof(line);
	if (cut) {
		/* A lead byte among the last three whose character runs past the end. */
		for (size_t back = 1; back <= 3 && back <= len; back++) {
			if (raw[len - back] >= 0xc0) {
				if (utf8_char_len(raw + len - back, back) < 0)
					len -= back;
				break;
			}
		}
	}
	for (size_t i = 0; i < len; i++)
		line[i] = raw[i] == '\0' ? ' ' : (char)raw[i];
	safe_text(out, size, line, len);
}

/* The real uid on the "Uid:" line of a /proc/PID/status text. Return: -1 if none. */
static int64_t uid_from_status(const char *text)
{
	const char *p = text;
	unsigned lines = 0;

	while (*p && lines++ < 256) {
		if (strncmp(p, "Uid:", 4) == 0) {
			char *end;
			unsigned long long v;

			p += 4;
			while (*p == '\t' || *p == ' ')
				p++;
			if (*p < '0' || *p > '9')
				return -1;
			errno = 0;
			v = strtoull(p, &end, 10);
			/* (uid_t)-1 is "no uid", never a process's. */
			if (errno || v >= UINT32_MAX || (*end != '\t' && *end != ' ' && *end != '\n'))
				return -1;
			return (int64_t)v;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

/*
 * comm and cmdline of pid. Return: false when the process is gone (no
 * comm). An empty cmdline is a kernel thread or a zombie: "" then.
 */
static bool read_names(int procfd, int pid, struct proc_info *pi)
{
	unsigned char raw[OWNER_CMDLINE_MAX + 8];
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "%d/comm", pid);
	len = procfile_read_head_at(procfd, path, pi->comm, sizeof(pi->comm));
	if (len < 0)
		return false;
	if (len > 0 && pi->comm[len - 1] == '\n')
		pi->comm[len - 1] = '\0';
	pi->comm[OWNER_COMM_MAX - 1] = '\0';

	/*
	 * A few bytes more than fit, so that a character straddling the end
	 * of what is shown is seen whole or known to be cut.
	 */
	snprintf(path, sizeof(path), "%d/cmdline", pid);
	len = procfile_read_head_at(procfd, path, (char *)raw, sizeof(raw));
	if (len < 0)
		len = 0;
	format_cmdline(raw, (size_t)len, (size_t)len == sizeof(raw) - 1, pi->cmdline,
		       sizeof(pi->cmdline));
	return true;
}

static int64_t read_uid(int procfd, int pid)
{
	/* "Uid:" is the ninth line; Name (64 bytes escaped at most) is the only long one before it. */
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "%d/status", pid);
	if (procfile_read_head_at(procfd, path, buf, sizeof(buf)) < 0)
		return -1;
	return uid_from_status(buf);
}

/* The state letter and ppid of pid (0 when unknown). */
static char read_stat(int procfd, int pid, int *ppid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "%d/stat", pid);
	if (procfile_read_head_at(procfd, path, buf, sizeof(buf)) < 0)
		return 0;
	return stat_fields(buf, ppid);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Bound on the tfd lines read from one epoll instance: a strange /proc costs a known amount. */
#define EPOLL_MAX_TFDS 65536

bool procinfo_read_epoll(int procfd, int pid, int epfd, struct proc_info *pi)
{
	char path[64], line[256];
	size_t n = pi->ntfds, cap = pi->ntfds, lines = 0;
	int *tfds = pi->tfds, dfd;
	bool ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "%d/fdinfo/%d", pid, epfd);
	dfd = procfile_open_at(procfd, path);
	if (dfd < 0)
		return true;
	f = fdopen(dfd, "r");
	if (!f) {
		close(dfd);
		return true;
	}
	/* "tfd:       5 events:       19 data: ..." for each watched fd. */
	while (lines++ < EPOLL_MAX_TFDS && fgets(line, sizeof(line), f)) {
		int tfd;

		if (sscanf(line, "tfd: %d", &tfd) != 1 || tfd < 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			int *t = realloc(tfds, nc * sizeof(*t));

			if (!t) {
				ok = false;
				break;
			}
			tfds = t;
			cap = nc;
		}
		tfds[n++] = tfd;
	}
	fclose(f);
	if (n > 1)
		qsort(tfds, n, sizeof(*tfds), int_cmp);
	/* What was read before running out of memory is kept: it is true, if not whole. */
	pi->tfds = tfds;
	pi->ntfds = n;
	return ok;
}

bool procinfo_polls(const struct proc_info *pi, int fd)
{
	return pi->ntfds > 0 && bsearch(&fd, pi->tfds, pi->ntfds, sizeof(fd), int_cmp) != NULL;
}

bool procinfo_read(int procfd, int pid, struct proc_info *pi)
{
	char cg[4096];

	memset(pi, 0, sizeof(*pi));
	if (!read_names(procfd, pid, pi))
		return false;
	pi->uid = read_uid(procfd, pid);
	pi->state = read_stat(procfd, pid, &pi->ppid);
	if (cgroup_read_text(procfd, pid, cg, sizeof(cg)) >= 0)
		cgroup_unit_from_text(cg, pi->unit, sizeof(pi->unit));
	return true;
}

/* getpwuid_r may ask NSS, even the network: hence the cache. */
void user_cache_name(struct user_cache *uc, uint32_t uid, char *out, size_t size)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t blen = 1024, i;
	bool cacheable = false;
	int tries, r = 0;

	for (i = 0; i < uc->count; i++) {
		if (uc->items[i].uid == uid) {
			snprintf(out, size, "%s", uc->items[i].name);
			return;
		}
	}
	snprintf(out, size, "%" PRIu32, uid);
	for (tries = 0; tries < 8; tries++, blen *= 2) {
		char *nb = realloc(buf, blen);

		if (!nb)
			break;
		buf = nb;
		r = getpwuid_r((uid_t)uid, &pw, buf, blen, &res);
		if (r != ERANGE)
			break;
	}
	/* Only a definite answer is cached; a failing NSS is asked again next time. */
	if (r == 0 && buf) {
		cacheable = true;
		if (res && strlen(res->pw_name) < size && strlen(res->pw_name) < OWNER_USER_MAX)
			snprintf(out, size, "%s", res->pw_name);
	}
	free(buf);
	if (!cacheable)
		return;
	i = uc->count < USER_CACHE_MAX ? uc->count++ : uc->next++ % USER_CACHE_MAX;
	uc->items[i].uid = uid;
	snprintf(uc->items[i].name, sizeof(uc->items[i].name), "%s", out);
}
