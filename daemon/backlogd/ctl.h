/* ctl.h: the control socket server: one JSON request per line, one reply per line. */
#ifndef BACKLOGD_CTL_H
#define BACKLOGD_CTL_H

#include <jansson.h>
#include <stddef.h>

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
 * Listen on path: unlink a stale socket, bind under a umask, mode 0660,
 * group "backlogd" when that group exists. timeout_ms: a client idle that
 * long (not sending a full line, or not reading its reply) is dropped.
 * Return: 0 or -errno.
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

#endif
