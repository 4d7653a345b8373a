/* procinfo.h: what a process is, as shown to a person: its names (comm, a cmdline made safe to print), real uid and user name, unit, run state. */
#ifndef BACKLOGD_PROCINFO_H
#define BACKLOGD_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procmap.h"

/* What one process is; read once however many sockets it holds. */
struct proc_info {
	int64_t uid;                        /* real uid, -1 unknown */
	char comm[OWNER_COMM_MAX + 1];
	char cmdline[OWNER_CMDLINE_MAX];    /* arguments joined by spaces, neutralised, cut to fit */
	char unit[OWNER_UNIT_MAX];          /* the systemd unit of its cgroup, "" when none */
	int ppid;                           /* 0 unknown */
	char state;                         /* the /proc/PID/stat letter, 0 unknown */
	int *tfds;                          /* the fds its epoll sets watch, sorted (malloc'd, may be NULL) */
	size_t ntfds;
};

/*
 * Read what pi holds for process pid under the /proc directory procfd.
 * Control characters and bytes that are not UTF-8 in the cmdline become
 * '?'; an empty cmdline (a kernel thread, a zombie) is "". Return: false
 * when the process is gone (it has no comm).
 */
bool procinfo_read(int procfd, int pid, struct proc_info *pi);

/* Return: the state letter of PROC_ROOT/PID/stat ('R', 'S', 'T', ...) or 0. */
char procinfo_state(const char *proc_root, int pid);

/*
 * The fds watched by the epoll instance on fd epfd of pid: the "tfd:"
 * lines of PID/fdinfo/EPFD under procfd, appended to pi->tfds (kept
 * sorted). Return: false on ENOMEM (what was read is kept).
 */
bool procinfo_read_epoll(int procfd, int pid, int epfd, struct proc_info *pi);

/* Return: whether fd is among the fds pi's epoll sets watch. */
bool procinfo_polls(const struct proc_info *pi, int fd);

#define USER_CACHE_MAX 64

/* A uid with its name, or its number as text when it has no passwd entry. */
struct user_entry {
	uint32_t uid;
	char name[OWNER_USER_MAX];
};

/* uid -> user name answers, so that NSS (maybe the network) is asked once per uid. */
struct user_cache {
	struct user_entry items[USER_CACHE_MAX];
	size_t count;
	size_t next;        /* the slot to overwrite when the cache is full */
};

/*
 * The name of uid into out (size bytes): from the cache, else from
 * getpwuid_r, whose definite answers are cached. A uid with no entry, or
 * with a name too long to show whole, is shown as its number.
 */
void user_cache_name(struct user_cache *uc, uint32_t uid, char *out, size_t size);

#endif
