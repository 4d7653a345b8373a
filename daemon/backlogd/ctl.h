/* ctl.h: the control socket server: one JSON request per line, one reply per line. */
#ifndef BACKLOGD_CTL_H
#define BACKLOGD_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest request line accepted; longer gets an error reply and the client is closed. */
#define CTL_MAX_REQUEST 4096
#define CTL_MAX_CLIENTS 64

/*
 * Handle one request object (already parsed, has a string "command").
 * Return: a new reply object ({"ok":true,...} or {"ok":false,"error":...}).
 */
typedef json_t *(*ctl_handler)(json_t *request, void *arg);

struct ctl_server;

/*
 * One command of the protocol, a row of the caller's table. run answers
 * it: target is the request's string "target" when the command needs one,
 * else NULL. Return: the reply's data (a new reference), or NULL with err
 * saying why (an empty err: "internal error").
 */
struct ctl_command {
	const char *name;
	json_t *(*run)(void *arg, const char *target, char *err, size_t errlen);
	bool needs_target;
	const char *target_help;  /* what a target looks like, for the error when it is missing */
};

/*
 * Answer request by the row of cmds (n rows) its "command" names; a command
 * not in the table gets an error that lists the ones that are.
 * Return: a new reply object ({"ok":true,"data":...} or {"ok":false,"error":...}).
 */
json_t *ctl_answer(const struct ctl_command *cmds, size_t n, const json_t *request, void *arg);

/*
 * Listen on path: unlink a stale socket, bind under a umask, mode 0660,
 * group "backlogd" when that group exists. timeout_ms (not 0): a client
 * idle that long (not sending a full line, or not reading its reply) is
 * dropped. Return: 0 or -errno.
 */
int ctl_open(struct ctl_server **out, const char *path, unsigned timeout_ms,
	     ctl_handler handler, void *arg);
/* Close every client and the listener, and unlink the path. */
void ctl_close(struct ctl_server *srv);

/* An fd (epoll) that becomes readable when the server has work; add it to the main loop. */
int ctl_fd(const struct ctl_server *srv);

/* Do all pending work without blocking: accept, read, reply, write, expire. */
void ctl_dispatch(struct ctl_server *srv);

/* Return: number of connected clients (tests). */
size_t ctl_clients(const struct ctl_server *srv);

/*
 * Share replies: identical requests within one generation (and within a
 * second of the first, so a document's clock stays true) get the same bytes,
 * built once, however many clients ask. Call with a new generation whenever
 * what the handler answers from changes (a tick). Never called: every
 * request is answered afresh.
 */
void ctl_share_replies(struct ctl_server *srv, uint64_t generation);
/*
 * Bound reply memory: one reply at most reply_max bytes, every reply not
 * yet sent together at most total_max (defaults 256 and 512 MiB). A request
 * over either gets an error reply that says which.
 */
void ctl_reply_limits(struct ctl_server *srv, size_t reply_max, size_t total_max);
/* Return: the bytes every live reply holds (tests). */
size_t ctl_reply_bytes(const struct ctl_server *srv);

#endif
