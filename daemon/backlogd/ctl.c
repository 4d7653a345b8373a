/* ctl.c: the daemon's control socket server: JSON lines in, JSON lines out, never blocking. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "ctl.h"
#include "ctl_reply.h"
#include "log.h"
#include "clock.h"

/*
 * Pending output of one client. Past CTL_OUT_HIGHWATER we stop reading its
 * requests (a client that does not read its replies then stalls and times
 * out). A reply of at least this much is not copied: the client holds a
 * reference to the document, which clients asking the same share.
 */
#define CTL_OUT_HIGHWATER (64 * 1024)
/*
 * A status of 10,000 listeners is some 6 MB, of 50,000 some 30 MB: one
 * reply may be far larger than any host has listeners for, and every reply
 * still waiting for a slow reader together a few times that.
 */
#define CTL_REPLY_MAX_DEFAULT ((size_t)256 << 20)
#define CTL_REPLIES_MAX_DEFAULT ((size_t)512 << 20)
/* How long a shared reply is reused at most, so that its clock ("now") stays true to the second. */
#define CTL_SHARE_MS 1000
/* recv() calls per client per dispatch, so a chatty client cannot hold a tick. */
#define CTL_READ_BUDGET 16
/* Accepts per dispatch; the listen backlog refills between ticks anyway. */
#define CTL_ACCEPT_BUDGET 128
/* After an accept error like EMFILE the listener stays readable: stop polling it this long. */
#define CTL_ACCEPT_PAUSE_MS 1000
#define CTL_EVENTS (CTL_MAX_CLIENTS + 2)	/* the clients, the listener, the wake eventfd */
/*
 * A full server makes room by evicting the client that has waited longest on
 * its own request (or sent nothing), once it has waited this long: a
 * legitimate client writes its request line at once, so only a slow or
 * silent one is ever this old. Credentials cannot tell them apart: the
 * socket's mode already admits only root and the backlogd group.
 */
#define CTL_EVICT_AFTER_MS 250
/* Room for an error that lists the namespaces a target could have named. */
#define CTL_ERROR_MAX 512

static const char no_command[] = "request has no string \"command\"";

struct ctl_client {
	struct ctl_client *next;
	int fd;			/* -1 once dropped; freed at the end of the dispatch */
	uint32_t events;	/* what epoll watches now */
	bool eof;		/* the peer will send no more */
	bool closing;		/* flush what is pending, then close */
	bool deferred;		/* has a complete request, left for the next dispatch */
	uint64_t last_progress;	/* CLOCK_MONOTONIC ms of the last byte in or out */
	uint64_t request_start;	/* when the first byte of the unfinished request came */
	size_t inlen;
	char in[CTL_MAX_REQUEST + 1];	/* one full line plus its '\n' */
	char *out;
	size_t outoff, outlen, outcap;	/* pending bytes are out[outoff, outlen) */
	struct ctl_doc *doc;	/* a big reply, sent after out; no other reply while it is here */
	size_t docoff;
};

struct ctl_server {
	int lfd;
	int efd;
	int wakefd;		/* an eventfd in efd: readable while a client waits on a deferred request */
	bool accept_paused;
	bool big_built;		/* this dispatch built a big document: build no other */
	bool deferred;		/* some client is deferred, and wakefd says so */
	uint64_t accept_resume;
	char *path;
	dev_t dev;		/* the socket file we made, so close unlinks only that */
	ino_t ino;
	unsigned timeout_ms;
	ctl_handler handler;
	void *arg;
	struct ctl_client *clients;
	size_t nclients;
	struct ctl_replies replies;
};

static size_t out_pending(const struct ctl_client *c)
{
	return c->outlen - c->outoff + (c->doc ? c->doc->len - c->docoff : 0);
}

/* A client gets its next reply only once the last big one is out, so replies stay in order. */
static bool may_answer(const struct ctl_client *c)
{
	return !c->closing && !c->doc && out_pending(c) < CTL_OUT_HIGHWATER;
}

/* Tag for the wake eventfd in epoll data. */
static bool is_wake(const struct ctl_server *srv, const void *ptr)
{
	return ptr == (const void *)&srv->wakefd;
}

/* Tag for the listener in epoll data; clients carry their struct pointer. */
static bool is_listener(const struct ctl_server *srv, const void *ptr)
{
	return ptr == (const void *)srv;
}

static void client_drop(struct ctl_server *srv, struct ctl_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	log_debug("ctl: client %d closed: %s", c->fd, why);
	epoll_ctl(srv->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	srv->nclients--;
}

/* Free clients dropped during this dispatch; epoll events may still point at them until now. */
static void clients_reap(struct ctl_server *srv)
{
	struct ctl_client **pp = &srv->clients;

	while (*pp) {
		struct ctl_client *c = *pp;

		if (c->fd >= 0) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ctl_doc_put(c->doc);
		free(c->out);
		free(c);
	}
}

/* Queue bytes for a client. Return: false when the client had to be dropped. */
static bool out_append(struct ctl_server *srv, struct ctl_client *c, const char *buf, size_t len)
{
	size_t pending = c->outlen - c->outoff;
	void *grown;

	/* Small replies only, while may_answer: out stays near CTL_OUT_HIGHWATER. */
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, pending);
		c->outoff = 0;
		c->outlen = pending;
	}
	if (array_reserve(c->out, &c->outcap, c->outlen + len, 1, &grown) < 0) {
		client_drop(srv, c, "out of memory");
		return false;
	}
	c->out = grown;
	/* The stall clock starts when output first becomes pending. */
	if (out_pending(c) == 0)
		c->last_progress = (uint64_t)clock_mono_ms();
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	return true;
}

static json_t *reply_data(json_t *data)
{
	return json_pack("{s:b, s:o}", "ok", 1, "data", data ? data : json_null());
}

static json_t *reply_message(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/*
 * Serialize reply (NULL: the handler failed) under the bounds on reply
 * memory. Return: a document, or NULL with msg saying why.
 */
static struct ctl_doc *reply_build(struct ctl_server *srv, const json_t *reply, char *msg, size_t msglen)
{
	struct ctl_replies *r = &srv->replies;
	struct ctl_doc *doc = NULL;
	int err = reply ? ctl_doc_build(r, reply, CTL_OUT_HIGHWATER, &doc) : -EINVAL;

	switch (err) {
	case 0:
		return doc;
	case -EFBIG:
		snprintf(msg, msglen, "reply too large: over %zu MiB, the most backlogd sends in one reply",
			 r->reply_max >> 20);
		break;
	case -ENOBUFS:
		snprintf(msg, msglen, "busy: replies other clients have not read yet hold %zu MiB, "
			 "the most backlogd keeps (%zu MiB); retry", r->total >> 20, r->total_max >> 20);
		break;
	case -ENOMEM:
		snprintf(msg, msglen, "out of memory building the reply");
		break;
	default:
		snprintf(msg, msglen, "internal error");
		break;
	}
	return NULL;
}

/*
 * Queue a document (its reference passes to the client): a small one is
 * copied, a big one is sent from where it is. Return: false when the client
 * was dropped.
 */
static bool doc_send(struct ctl_server *srv, struct ctl_client *c, struct ctl_doc *doc)
{
	bool ok;

	if (doc->len < CTL_OUT_HIGHWATER) {
		ok = out_append(srv, c, doc->text, doc->len);
		ctl_doc_put(doc);
		return ok;
	}
	/* The stall clock starts when output first becomes pending. */
	if (out_pending(c) == 0)
		c->last_progress = (uint64_t)clock_mono_ms();
	c->doc = doc;
	c->docoff = 0;
	return true;
}

static bool reply_error(struct ctl_server *srv, struct ctl_client *c, const char *msg)
{
	static const char internal[] = "{\"ok\":false,\"error\":\"internal error\"}\n";
	json_t *reply = reply_message(msg);
	char why[CTL_ERROR_MAX];
	struct ctl_doc *doc = reply ? reply_build(srv, reply, why, sizeof(why)) : NULL;

	json_decref(reply);
	if (!doc)
		return out_append(srv, c, internal, sizeof(internal) - 1);
	return doc_send(srv, c, doc);
}

enum answered { ANSWERED, DROPPED, DEFERRED };

/*
 * The reply to req: the one shared for an identical request of this
 * generation, else a new one, unless this dispatch already built a big
 * document (a status of thousands of listeners takes tens of ms: one per
 * main-loop turn, so the tick never waits on more than one).
 * Return: a document; NULL with msg empty when deferred, else saying why.
 */
static struct ctl_doc *answer(struct ctl_server *srv, json_t *req, char *msg, size_t msglen)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	char *key = srv->replies.sharing ? json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct ctl_doc *doc = key ? ctl_share_find(&srv->replies, key, now, CTL_SHARE_MS) : NULL;

	msg[0] = '\0';
	if (!doc && !srv->big_built) {
		json_t *reply = srv->handler(req, srv->arg);

		doc = reply_build(srv, reply, msg, msglen);
		json_decref(reply);
		if (doc && doc->len >= CTL_OUT_HIGHWATER)
			srv->big_built = true;
		/* Its age counts from when it is ready: a build slower than CTL_SHARE_MS is still shared. */
		if (doc && key)
			ctl_share_keep(&srv->replies, key, doc, (uint64_t)clock_mono_ms());
	}
	free(key);
	return doc;
}

/* One request line, without its '\n'. */
static enum answered handle_line(struct ctl_server *srv, struct ctl_client *c, const char *line, size_t len)
{
	char msg[CTL_ERROR_MAX];
	json_error_t jerr;
	json_t *req, *cmd;
	struct ctl_doc *doc;

	/* Tolerate CRLF from hand-typed sessions (nc, socat). */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	req = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
	if (!req) {
		char bad[200 + JSON_ERROR_TEXT_LENGTH];

		snprintf(bad, sizeof(bad), "invalid JSON: %s", jerr.text);
		return reply_error(srv, c, bad) ? ANSWERED : DROPPED;
	}
	cmd = json_is_object(req) ? json_object_get(req, "command") : NULL;
	if (!json_is_string(cmd)) {
		bool ok = reply_error(srv, c, json_is_object(req) ? no_command : "request is not a JSON object");

		json_decref(req);
		return ok ? ANSWERED : DROPPED;
	}
	doc = answer(srv, req, msg, sizeof(msg));
	json_decref(req);
	if (doc)
		return doc_send(srv, c, doc) ? ANSWERED : DROPPED;
	if (!msg[0])
		return DEFERRED;
	return reply_error(srv, c, msg) ? ANSWERED : DROPPED;
}

/* Leave c's next request for the next dispatch, and make the server's fd say there is work. */
static void client_defer(struct ctl_server *srv, struct ctl_client *c)
{
	uint64_t one = 1;
	ssize_t n;

	c->deferred = true;
	if (srv->deferred)
		return;
	/* Should the write fail, the next tick's dispatch still serves it. */
	n = write(srv->wakefd, &one, sizeof(one));
	(void)n;
	srv->deferred = true;
}

/*
 * Answer the complete lines in the input buffer, in order, until the
 * client's pending output reaches the high-water mark or holds a big
 * document; the rest waits for its output to drain. At EOF an unterminated
 * last line counts as a request, so `printf '{"command":"x"}' | nc -U` works.
 * Return: false when the client was dropped.
 */
static bool process_input(struct ctl_server *srv, struct ctl_client *c)
{
	enum answered r = ANSWERED;
	size_t off = 0;

	while (off < c->inlen && may_answer(c)) {
		char *start = c->in + off;
		size_t avail = c->inlen - off;
		char *nl = memchr(start, '\n', avail);
		size_t len = nl ? (size_t)(nl - start) : avail;

		if (len > CTL_MAX_REQUEST) {
			/* Reply, then close: the rest of the stream cannot be resynchronised. */
			off = c->inlen;
			c->closing = true;
			r = reply_error(srv, c, "request too long") ? ANSWERED : DROPPED;
			break;
		}
		if (!nl && !c->eof)
			break;
		r = handle_line(srv, c, start, len);
		if (r != ANSWERED)
			break;
		off += nl ? len + 1 : avail;
	}
	if (r == DROPPED)
		return false;
	if (r == DEFERRED)
		client_defer(srv, c);
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
		/* What is left began after the lines just answered: its clock starts now. */
		c->request_start = (uint64_t)clock_mono_ms();
	}
	return true;
}

/* Return: false when the client was dropped. */
static bool client_read(struct ctl_server *srv, struct ctl_client *c)
{
	for (int i = 0; i < CTL_READ_BUDGET; i++) {
		ssize_t n;

		if (c->eof || c->closing || out_pending(c) >= CTL_OUT_HIGHWATER)
			break;
		/* recv() of 0 bytes would look like EOF. */
		if (c->inlen >= sizeof(c->in))
			break;
		/* process_input always leaves room: a full buffer without '\n' is "too long". */
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_drop(srv, c, "read error");
			return false;
		}
		if (n == 0)
			c->eof = true;
		else {
			c->last_progress = (uint64_t)clock_mono_ms();
			if (c->inlen == 0)
				c->request_start = c->last_progress;
			c->inlen += (size_t)n;
		}
		if (!process_input(srv, c))
			return false;
	}
	return true;
}

/* Return: false when the client was dropped. */
static bool client_flush(struct ctl_server *srv, struct ctl_client *c)
{
	while (out_pending(c) > 0) {
		bool small = c->outlen > c->outoff;
		/* MSG_NOSIGNAL: a client that went away must not SIGPIPE the daemon. */
		ssize_t n = small ? send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
					 MSG_DONTWAIT | MSG_NOSIGNAL)
				  : send(c->fd, c->doc->text + c->docoff, c->doc->len - c->docoff,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_drop(srv, c, "write error");
			return false;
		}
		if (small)
			c->outoff += (size_t)n;
		else
			c->docoff += (size_t)n;
		c->last_progress = (uint64_t)clock_mono_ms();
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->doc && c->docoff == c->doc->len) {
		ctl_doc_put(c->doc);
		c->doc = NULL;
		c->docoff = 0;
	}
	return true;
}

/* Watch for what the client can do next; a client with nothing left to do is closed. */
static void client_rearm(struct ctl_server *srv, struct ctl_client *c)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	/* Never watch EPOLLIN after EOF or while paused: level-triggered, it would spin. */
	if (!c->eof && !c->closing && out_pending(c) < CTL_OUT_HIGHWATER)
		want |= EPOLLIN;
	if (out_pending(c) > 0)
		want |= EPOLLOUT;
	/* A deferred request is answered at the next dispatch, whatever epoll says. */
	if (want == 0 && c->deferred)
		return;
	if (want == 0) {
		client_drop(srv, c, c->closing ? "closed after error" : "end of stream");
		return;
	}
	if (want == c->events)
		return;
	ev.events = want;
	if (epoll_ctl(srv->efd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		client_drop(srv, c, "epoll_ctl failed");
		return;
	}
	c->events = want;
}

static void client_service(struct ctl_server *srv, struct ctl_client *c)
{
	/* Drain first: room in the output may let buffered requests be answered. */
	if (!client_flush(srv, c) || !process_input(srv, c))
		return;
	if (!client_read(srv, c))
		return;
	/* An unterminated line at EOF becomes answerable only once output drained below the mark. */
	if (c->eof && !process_input(srv, c))
		return;
	if (!client_flush(srv, c))
		return;
	client_rearm(srv, c);
}

/* Since when the server has been waiting on this client, not the client on the server. */
static uint64_t waiting_since(const struct ctl_client *c)
{
	return c->inlen > 0 ? c->request_start : c->last_progress;
}

/*
 * Make room for a new client: drop the one that has waited longest on its
 * own unfinished request, or sent nothing, if that is long enough. A client
 * being answered is never chosen. Return: true when a slot was freed.
 */
static bool evict_slowest(struct ctl_server *srv, uint64_t now)
{
	static const char evicted[] =
		"{\"ok\":false,\"error\":\"too many clients: yours was the slowest request\"}\n";
	struct ctl_client *victim = NULL;

	for (struct ctl_client *c = srv->clients; c; c = c->next) {
		/* A deferred client sent its whole request: it waits on the server. */
		if (c->fd < 0 || c->closing || c->deferred || out_pending(c) > 0)
			continue;
		if (now - waiting_since(c) < CTL_EVICT_AFTER_MS)
			continue;
		if (!victim || waiting_since(c) < waiting_since(victim))
			victim = c;
	}
	if (!victim)
		return false;
	(void)send(victim->fd, evicted, sizeof(evicted) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	client_drop(srv, victim, "evicted for a new client");
	return true;
}

static void client_add(struct ctl_server *srv, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_client *c;

	if (srv->nclients >= CTL_MAX_CLIENTS && !evict_slowest(srv, (uint64_t)clock_mono_ms())) {
		static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

		/* Best effort on a fresh socket: tell a human why, then close. */
		(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->events = EPOLLIN;
	c->last_progress = (uint64_t)clock_mono_ms();
	ev.data.ptr = c;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->clients;
	srv->clients = c;
	srv->nclients++;
}

static void accept_pause(struct ctl_server *srv)
{
	if (epoll_ctl(srv->efd, EPOLL_CTL_DEL, srv->lfd, NULL) == 0) {
		srv->accept_paused = true;
		srv->accept_resume = (uint64_t)clock_mono_ms() + CTL_ACCEPT_PAUSE_MS;
	}
}

static void accept_resume(struct ctl_server *srv, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = srv };

	if (!srv->accept_paused || now < srv->accept_resume)
		return;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev) == 0)
		srv->accept_paused = false;
	else
		srv->accept_resume = now + CTL_ACCEPT_PAUSE_MS;
}

static void accept_all(struct ctl_server *srv)
{
	for (int i = 0; i < CTL_ACCEPT_BUDGET; i++) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			client_add(srv, fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return;
		default:
			/*
			 * EMFILE, ENFILE, ENOMEM...: the pending connection stays
			 * queued and the listener readable; without a pause the
			 * main loop would spin on it.
			 */
			log_warn("ctl: accept");
			accept_pause(srv);
			return;
		}
	}
}

/*
 * Close clients that made no progress for timeout_ms, reading or writing,
 * and those whose request did not complete within timeout_ms of its first
 * byte: a byte now and then must not hold a slot forever.
 */
static void clients_expire(struct ctl_server *srv, uint64_t now)
{
	for (struct ctl_client *c = srv->clients; c; c = c->next) {
		if (c->fd < 0)
			continue;
		if (now - c->last_progress >= srv->timeout_ms)
			client_drop(srv, c, out_pending(c) ? "output stalled" : "idle");
		else if (c->inlen > 0 && out_pending(c) == 0 && !c->eof && !c->deferred &&
			 now - c->request_start >= srv->timeout_ms)
			client_drop(srv, c, "request too slow");
	}
}

/* Clients left waiting by the last dispatch go first, before any new request. */
static void service_deferred(struct ctl_server *srv)
{
	uint64_t count;
	ssize_t n;

	if (!srv->deferred)
		return;
	srv->deferred = false;
	n = read(srv->wakefd, &count, sizeof(count));
	(void)n;
	for (struct ctl_client *c = srv->clients; c; c = c->next) {
		if (c->fd < 0 || !c->deferred)
			continue;
		c->deferred = false;
		client_service(srv, c);
	}
}

void ctl_dispatch(struct ctl_server *srv)
{
	struct epoll_event evs[CTL_EVENTS];
	int n;

	if (!srv)
		return;
	srv->big_built = false;
	accept_resume(srv, (uint64_t)clock_mono_ms());
	service_deferred(srv);
	n = epoll_wait(srv->efd, evs, CTL_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		void *ptr = evs[i].data.ptr;
		struct ctl_client *c;

		if (is_listener(srv, ptr)) {
			accept_all(srv);
			continue;
		}
		if (is_wake(srv, ptr))
			continue;
		c = ptr;
		if (c->fd >= 0)
			client_service(srv, c);
	}
	clients_expire(srv, (uint64_t)clock_mono_ms());
	clients_reap(srv);
}

/* mkdir -p for the socket's parent; directories we create get 0755 whatever the umask. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		goto out;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755) < 0) {
				err = -errno;
				goto out;
			}
		} else if (errno != EEXIST) {
			err = -errno;
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
out:
	free(dir);
	return err;
}

/*
 * A socket file left by a dead daemon is removed; one a live daemon still
 * listens on, or anything that is not a socket, is left alone.
 */
static int remove_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = rc == 0 ? 0 : errno;
	close(fd);
	/* EAGAIN: a listener with a full backlog is still a live listener. */
	if (rc == 0 || err == EAGAIN)
		return -EADDRINUSE;
	/* Refused: nobody listens. EPROTOTYPE: a leftover socket of another type. */
	if (err != ECONNREFUSED && err != EPROTOTYPE)
		return -err;
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The socket file just bound: mode 0660, group backlogd, and its identity
 * kept so that ctl_close unlinks only this file. Return: 0 or -errno.
 */
static int socket_file_own(struct ctl_server *srv, const char *path)
{
	struct group *gr;
	struct stat st;

	if (chmod(path, 0660) < 0 || lstat(path, &st) < 0)
		return -errno;
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	gr = getgrnam("backlogd");
	/* Run as the unit's user backlogd, the socket has the group already. */
	if (gr && st.st_gid != gr->gr_gid && chown(path, (uid_t)-1, gr->gr_gid) < 0)
		log_warn("ctl: chown %s to group backlogd", path);
	return 0;
}

int ctl_open(struct ctl_server **out, const char *path, unsigned timeout_ms,
	     ctl_handler handler, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	mode_t old_umask;
	int err;

	*out = NULL;
	/*
	 * An empty path would bind in the abstract namespace, which has no file
	 * mode; timeout_ms 0 would drop every client at once.
	 */
	if (!path || !*path || !handler || timeout_ms == 0)
		return -EINVAL;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->lfd = srv->efd = srv->wakefd = -1;
	srv->replies.reply_max = CTL_REPLY_MAX_DEFAULT;
	srv->replies.total_max = CTL_REPLIES_MAX_DEFAULT;
	srv->timeout_ms = timeout_ms;
	srv->handler = handler;
	srv->arg = arg;
	srv->path = strdup(path);
	if (!srv->path) {
		err = -ENOMEM;
		goto out_free;
	}

	err = make_parents(path);
	if (err < 0)
		goto out_free;
	err = remove_stale(&sun);
	if (err < 0)
		goto out_free;

	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0) {
		err = -errno;
		goto out_free;
	}
	/* The umask closes the window between bind() and chmod() where others could connect. */
	old_umask = umask(0117);
	err = bind(srv->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(old_umask);
	if (err < 0)
		goto out_close;
	err = socket_file_own(srv, path);
	if (err < 0)
		goto out_unlink;
	if (listen(srv->lfd, CTL_MAX_CLIENTS) < 0) {
		err = -errno;
		goto out_unlink;
	}

	srv->efd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->efd < 0) {
		err = -errno;
		goto out_unlink;
	}
	ev.data.ptr = srv;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev) < 0) {
		err = -errno;
		goto out_epoll;
	}
	srv->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.ptr = &srv->wakefd;
	if (srv->wakefd < 0 || epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->wakefd, &ev) < 0) {
		err = -errno;
		goto out_epoll;
	}
	*out = srv;
	return 0;

out_epoll:
	if (srv->wakefd >= 0)
		close(srv->wakefd);
	close(srv->efd);
out_unlink:
	unlink(path);
out_close:
	close(srv->lfd);
out_free:
	free(srv->path);
	free(srv);
	return err;
}

void ctl_close(struct ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	for (struct ctl_client *c = srv->clients; c; c = c->next)
		client_drop(srv, c, "server closing");
	clients_reap(srv);
	ctl_share_clear(&srv->replies);
	close(srv->wakefd);
	close(srv->efd);
	close(srv->lfd);
	/* Another instance may have taken the path since: remove only our own socket. */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv->path);
	free(srv);
}

int ctl_fd(const struct ctl_server *srv)
{
	return srv ? srv->efd : -1;
}

size_t ctl_clients(const struct ctl_server *srv)
{
	return srv ? srv->nclients : 0;
}

void ctl_share_replies(struct ctl_server *srv, uint64_t generation)
{
	if (srv)
		ctl_share_generation(&srv->replies, generation);
}

void ctl_reply_limits(struct ctl_server *srv, size_t reply_max, size_t total_max)
{
	if (!srv)
		return;
	srv->replies.reply_max = reply_max;
	srv->replies.total_max = total_max;
}

size_t ctl_reply_bytes(const struct ctl_server *srv)
{
	return srv ? srv->replies.total : 0;
}

/* "unknown command (want status, listeners, ...)": the table says what there is. */
static json_t *reply_unknown(const struct ctl_command *cmds, size_t n)
{
	char msg[CTL_ERROR_MAX];
	size_t off;

	off = (size_t)snprintf(msg, sizeof(msg), "unknown command (want");
	for (size_t i = 0; i < n && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s %s", i ? "," : "", cmds[i].name);
	if (off < sizeof(msg))
		snprintf(msg + off, sizeof(msg) - off, ")");
	return reply_message(msg);
}

json_t *ctl_answer(const struct ctl_command *cmds, size_t n, const json_t *request, void *arg)
{
	const char *name = json_string_value(json_object_get(request, "command"));
	const char *target = json_string_value(json_object_get(request, "target"));
	char err[CTL_ERROR_MAX] = "";
	const struct ctl_command *cmd = NULL;
	json_t *data;

	if (!name)
		return reply_message(no_command);
	for (size_t i = 0; i < n && !cmd; i++)
		if (strcmp(cmds[i].name, name) == 0)
			cmd = &cmds[i];
	if (!cmd)
		return reply_unknown(cmds, n);
	if (cmd->needs_target && !target) {
		snprintf(err, sizeof(err), "%s needs a string \"target\" (%s)", cmd->name,
			 cmd->target_help ? cmd->target_help : "see backlogctl --help");
		return reply_message(err);
	}
	data = cmd->run(arg, cmd->needs_target ? target : NULL, err, sizeof(err));
	if (!data)
		return reply_message(err[0] ? err : "internal error");
	return reply_data(data);
}
