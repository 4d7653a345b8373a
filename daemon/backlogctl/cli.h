/* cli.h: what backlogctl's files share: its name in messages, its exit statuses, its options. */
#ifndef BACKLOGCTL_CLI_H
#define BACKLOGCTL_CLI_H

#include <stdbool.h>

#define PROG "backlogctl"

/* Exit statuses are an interface: scripts and the integration tests test them. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,        /* diagnose: at least one finding */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,     /* daemon not running (no socket, nobody listening); or no kernel data for diagnose */
	EXIT_DAEMON_ERROR = 4,    /* the daemon answered with an error, or garbage */
	/*
	 * The socket is there but no whole reply came back: permission denied,
	 * a full accept queue, a timeout, a connection closed mid-reply. Never
	 * 3: a live daemon that failed to answer is not a dead one.
	 */
	EXIT_NO_REPLY = 5,
};

struct cli {
	const char *socket_path;
	bool json;
	double interval_s;
	bool interval_set;
	const char *netns;    /* --netns: one namespace's name or inode, NULL for all */
	long long since_s;    /* --since: the window of findings' events, seconds */
	bool since_set;
};

/* Print "backlogctl: ..." and the pointer to --help. Return: EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
