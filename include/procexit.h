/* procexit.h: processes that ended by a signal or a non-zero exit, from the kernel's process connector. */
#ifndef BACKLOGD_PROCEXIT_H
#define BACKLOGD_PROCEXIT_H

#include <stdbool.h>
#include <stddef.h>

/* Events taken in one procexit_read: a fork storm must not hold up a tick. */
#define PROCEXIT_EVENTS_MAX 4096

#define PROCEXIT_SIGNAL_MAX 10

/*
 * One process (a whole thread group: its leader's exit) that did not exit
 * with status 0. The connector is per host: pid is in the initial pid
 * namespace, whatever network namespace backlogd watches. It carries no
 * name: the process is gone by the time it is read.
 */
struct proc_exit {
	int pid;
	int status;                        /* the exit status 1..255; -1 when a signal killed it */
	char signal[PROCEXIT_SIGNAL_MAX];  /* "SIGKILL", "SIG34" for one without a name; "" when it exited */
	bool core_dumped;
};

/*
 * Parse a buffer of netlink messages from the process connector (one
 * recv). Every PROC_EVENT_EXIT of a thread-group leader whose wait status
 * is not 0 is appended to ev[*n..max); other events, threads and exits
 * with status 0 are passed over, and so is a message too short for its
 * kind (a kernel with fewer fields). Exits beyond max are counted in
 * *dropped. Return: 0, or -EBADMSG when buf does not hold netlink messages.
 */
int procexit_parse(const void *buf, size_t len, struct proc_exit *ev, size_t max, size_t *n,
		   unsigned *dropped);

struct procexit;

/*
 * Subscribe to the process connector, non-blocking. It lives in the initial
 * network namespace only: from another one, the socket is made there by a
 * short-lived thread that enters init_netns (a path such as
 * "/proc/1/ns/net"; NULL: no second try), so the daemon's own thread never
 * leaves its namespace. Needs CAP_NET_ADMIN (and CAP_SYS_ADMIN for the
 * second try), and the initial pid and user namespaces: the kernel ignores
 * a subscriber from any other, whose pids would not match its own.
 * Return: 0 or -errno (-EPERM when the kernel did not take us).
 */
int procexit_open(struct procexit **out, const char *init_netns);
/* Unsubscribe and close. */
void procexit_close(struct procexit *p);

/*
 * Read every event queued now, up to PROCEXIT_EVENTS_MAX messages, without
 * blocking. *ev points at the exits found (valid until the next call).
 * Events the kernel could not queue (ENOBUFS: the receive buffer was full)
 * are lost: each such overrun adds one to *lost and reading goes on.
 * Return: the number of exits, or -errno for a socket that failed.
 */
int procexit_read(struct procexit *p, const struct proc_exit **ev, unsigned *lost);

#endif
