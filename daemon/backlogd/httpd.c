/* httpd.c: GET /metrics over HTTP (libmicrohttpd on its own thread), rendered by the main thread. */
#include "base.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "metrics.h"

/*
 * Bounds that keep a slow or hostile client from costing more than a few
 * kilobytes and descriptors: Prometheus holds one connection per server
 * (two for an HA pair), so a handful is plenty. The timeout closes a
 * connection that sends nothing; the memory limit caps what its request
 * headers may take.
 */
#define HTTPD_CONNECTIONS 16
#define HTTPD_PER_IP 4
#define HTTPD_IDLE_SECS 10
#define HTTPD_REQUEST_MEMORY (32 * 1024)
#define HTTPD_BACKLOG 16
/*
 * How long a scrape waits for the main thread to render. A tick runs first
 * in a turn of the main loop, so this covers a slow tick; past it the main
 * thread is stuck (the watchdog's business) and the scrape gets a 503 rather
 * than hanging until Prometheus's own timeout (10 s by default).
 */
#define HTTPD_RENDER_WAIT_MS 5000

/*
 * libmicrohttpd is loaded when the endpoint starts, not linked: it brings
 * GnuTLS, p11-kit and eight more libraries (2.4 MiB of the daemon's RSS,
 * and p11-kit reads its configuration at load), which a daemon without
 * -m has no use for. The soname is the one Debian 12 and 13 ship.
 */
#define MHD_SONAME "libmicrohttpd.so.12"

static struct {
	void *handle;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *response_from_buffer;
	__typeof__(MHD_create_response_from_buffer_with_free_callback_cls) *response_with_free;
	__typeof__(MHD_add_response_header) *add_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

/* Return: 0, or -1 with err saying what is missing. */
static int mhd_load(char *err, size_t errlen)
{
	void *h;

	if (mhd.handle)
		return 0;
	h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "the metrics endpoint needs libmicrohttpd (Debian: apt-get install "
			 "libmicrohttpd12): %s", dlerror());
		return -1;
	}
#define MHD_SYM(field, name)                                                                   \
	do {                                                                                   \
		*(void **)&mhd.field = dlsym(h, name);                                         \
		if (!mhd.field) {                                                              \
			snprintf(err, errlen, "%s lacks %s: libmicrohttpd 0.9.71 or later is needed", \
				 MHD_SONAME, name);                                             \
			dlclose(h);                                                            \
			return -1;                                                             \
		}                                                                              \
	} while (0)
	MHD_SYM(start_daemon, "MHD_start_daemon");
	MHD_SYM(stop_daemon, "MHD_stop_daemon");
	MHD_SYM(response_from_buffer, "MHD_create_response_from_buffer");
	MHD_SYM(response_with_free, "MHD_create_response_from_buffer_with_free_callback_cls");
	MHD_SYM(add_header, "MHD_add_response_header");
	MHD_SYM(queue_response, "MHD_queue_response");
	MHD_SYM(destroy_response, "MHD_destroy_response");
#undef MHD_SYM
	mhd.handle = h;
	return 0;
}

/* One rendered exposition, shared by every response that sends it; freed by the last. */
struct snapshot {
	struct httpd *owner;
	unsigned refs;           /* under owner->lock */
	uint64_t generation;     /* the tick it shows */
	size_t len;
	char *text;
};

/*
 * The fleet belongs to the main thread; the HTTP thread sees only what is
 * here, under lock: the latest snapshot and the generation of the latest
 * tick. A scrape whose snapshot is of the current tick is answered at
 * once: at most one render a tick, whatever the number of scrapes.
 */
struct httpd {
	struct MHD_Daemon *mhd;
	uint16_t port;
	int event_fd;
	pthread_mutex_t lock;
	pthread_cond_t answered;
	struct snapshot *snap;   /* latest render; NULL before the first */
	uint64_t tick;           /* generation of the main thread's latest tick */
	uint64_t answers;        /* bumped by every answer of the main thread (render or not) */
	bool asked;              /* the eventfd was written and the main thread has not answered */
	bool stopping;
};

static void snapshot_unref_locked(struct snapshot *s)
{
	if (s && --s->refs == 0) {
		free(s->text);
		free(s);
	}
}

/* MHD's free callback: the response that sent s is gone. */
static void snapshot_release(void *cls)
{
	struct snapshot *s = cls;
	struct httpd *h = s->owner;

	pthread_mutex_lock(&h->lock);
	snapshot_unref_locked(s);
	pthread_mutex_unlock(&h->lock);
}

static void deadline_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * The snapshot of the current tick, rendered by the main thread if need be.
 * Runs on the HTTP thread. Return: a reference the caller releases, or
 * NULL when the main thread did not answer in time or could not render.
 */
static struct snapshot *snapshot_get(struct httpd *h)
{
	struct snapshot *s = NULL;
	struct timespec deadline;
	uint64_t seen, want, one = 1;
	int r = 0;

	deadline_after_ms(&deadline, HTTPD_RENDER_WAIT_MS);
	pthread_mutex_lock(&h->lock);
	want = h->tick;
	if (!h->snap || h->snap->generation != want) {
		seen = h->answers;
		/* One wake-up however many scrapes wait: the main thread answers them all at once. */
		if (!h->asked && write(h->event_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			h->asked = true;
		while (h->answers == seen && !h->stopping && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&h->answered, &h->lock, &deadline);
		if (h->answers == seen)
			goto out;
	}
	/*
	 * A render that failed leaves the older snapshot in place: that is not
	 * this tick's, and the scrape gets 503 rather than stale numbers. One
	 * of a later tick (a tick ended while this scrape woke) is newer still.
	 */
	if (h->snap && h->snap->generation >= want) {
		s = h->snap;
		s->refs++;
	}
out:
	pthread_mutex_unlock(&h->lock);
	return s;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = mhd.response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	mhd.add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd.add_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = mhd.queue_response(conn, status, resp);
	mhd.destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_metrics(struct httpd *h, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	struct snapshot *s = snapshot_get(h);
	enum MHD_Result ret;

	if (!s)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "backlogd did not render the metrics in time\n");
	/* The text stays the snapshot's: the response only holds a reference. */
	resp = mhd.response_with_free(s->len, s->text, snapshot_release, s);
	if (!resp) {
		snapshot_release(s);
		return MHD_NO;
	}
	mhd.add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = mhd.queue_response(conn, MHD_HTTP_OK, resp);
	mhd.destroy_response(resp);
	return ret;
}

/* Every request: /metrics by GET or HEAD (MHD sends no body for HEAD), 405 other methods, 404 elsewhere. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int headers_seen;

	(void)version;
	(void)upload_data;
	/*
	 * The first call comes with the headers only. A response queued there
	 * goes out with "Connection: close" (libmicrohttpd 0.9.75); queued on
	 * the next call, once any body is consumed, it keeps the connection
	 * alive for the scraper's next scrape.
	 */
	if (!*con_cls) {
		*con_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* A body, which nothing here reads: dropped. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: backlogd serves /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n");
	return reply_metrics(cls, conn);
}

/*
 * The listening socket, opened here rather than by MHD so that a failure
 * names the address and the errno. Every address (":PORT") is one IPv6
 * socket that also takes IPv4, or IPv4 alone where IPv6 is off.
 * Return: the descriptor, or -errno.
 */
static int open_listen(const struct config_listen *where)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(where->port) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(where->port) };
	int fd, on = 1, v6only = !where->any, e;
	bool v6 = where->any || where->family == AF_INET6;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && where->any && errno == EAFNOSUPPORT) {
		v6 = false;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	if (!where->any) {
		memcpy(&sin6.sin6_addr, where->addr, sizeof(sin6.sin6_addr));
		memcpy(&sin.sin_addr, where->addr, sizeof(sin.sin_addr));
	}
	/* A restart must not wait for the TIME-WAITs of the last scrapes. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if ((v6 ? bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) :
		  bind(fd, (struct sockaddr *)&sin, sizeof(sin))) < 0 ||
	    listen(fd, HTTPD_BACKLOG) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void explain_failure(const struct config_listen *where, int e, char *err, size_t errlen)
{
	char addr[64];

	config_listen_text(where, addr, sizeof(addr));
	/* Under the shipped unit, socket(AF_INET*) fails so: RestrictAddressFamilies=. */
	snprintf(err, errlen, "cannot listen on %s for the metrics: %s%s", addr, strerror(e),
		 e == EAFNOSUPPORT || e == EPERM ?
		 " (the systemd unit restricts address families: install its drop-in "
		 "backlogd-metrics.conf in /etc/systemd/system/backlogd.service.d/, see backlogd(8))" : "");
}

static struct httpd *httpd_new(void)
{
	struct httpd *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;

	if (!h)
		return NULL;
	h->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->event_fd < 0) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	/* The wait's deadline is on the monotonic clock: a clock step neither cuts nor stretches it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->answered, &ca);
	pthread_condattr_destroy(&ca);
	return h;
}

static void httpd_free(struct httpd *h)
{
	snapshot_unref_locked(h->snap);
	pthread_cond_destroy(&h->answered);
	pthread_mutex_destroy(&h->lock);
	close(h->event_fd);
	free(h);
}

int httpd_start(struct httpd **out, const struct config_listen *where, char *err, size_t errlen)
{
	struct httpd *h;
	int fd, e;

	*out = NULL;
	if (mhd_load(err, errlen) < 0)
		return -ENOENT;
	fd = open_listen(where);
	if (fd < 0) {
		explain_failure(where, -fd, err, errlen);
		return fd;
	}
	h = httpd_new();
	if (!h) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot start the metrics endpoint: %s", strerror(e));
		return -e;
	}
	/* One polling thread: a request waits on nothing but the render, which never blocks on a client. */
	h->mhd = mhd.start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_SECS,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_REQUEST_MEMORY,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		httpd_free(h);
		snprintf(err, errlen, "cannot start the metrics endpoint (libmicrohttpd refused)");
		return -EINVAL;
	}
	h->port = where->port;
	if (h->port == 0) {
		struct sockaddr_in6 sa;
		socklen_t salen = sizeof(sa);

		/* sin_port and sin6_port sit at the same offset. */
		if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
			h->port = ntohs(sa.sin6_port);
	}
	*out = h;
	return 0;
}

uint16_t httpd_port(const struct httpd *h)
{
	return h->port;
}

int httpd_fd(const struct httpd *h)
{
	return h->event_fd;
}

void httpd_tick(struct httpd *h, uint64_t generation)
{
	pthread_mutex_lock(&h->lock);
	h->tick = generation;
	/*
	 * A snapshot of an older tick is never sent again: let it go (the
	 * responses still sending it hold their own references) rather than
	 * keep the exposition's size (5.7 MB at 10,000 listeners) until the
	 * next scrape. One tick late, so that a scrape woken by its render
	 * just before this tick still finds it.
	 */
	if (h->snap && h->snap->generation + 1 < generation) {
		snapshot_unref_locked(h->snap);
		h->snap = NULL;
	}
	pthread_mutex_unlock(&h->lock);
}

bool httpd_render_wanted(struct httpd *h, uint64_t generation)
{
	uint64_t count;
	bool wanted;

	(void)!read(h->event_fd, &count, sizeof(count));
	pthread_mutex_lock(&h->lock);
	h->asked = false;
	wanted = !h->snap || h->snap->generation != generation;
	if (!wanted) {
		/* A tick's render is there already (asked for twice): the waiters take it. */
		h->answers++;
		pthread_cond_broadcast(&h->answered);
	}
	pthread_mutex_unlock(&h->lock);
	return wanted;
}

void httpd_publish(struct httpd *h, char *text, size_t len, uint64_t generation)
{
	struct snapshot *s = text ? calloc(1, sizeof(*s)) : NULL;

	if (s) {
		*s = (struct snapshot){ .owner = h, .refs = 1, .generation = generation,
					.len = len, .text = text };
	} else {
		/* Out of memory: the waiters answer 503 and the next scrape asks again. */
		free(text);
	}
	pthread_mutex_lock(&h->lock);
	if (s) {
		snapshot_unref_locked(h->snap);
		h->snap = s;
	}
	h->answers++;
	pthread_cond_broadcast(&h->answered);
	pthread_mutex_unlock(&h->lock);
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* A scrape waiting for a render gives up now: MHD_stop_daemon joins its thread. */
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->answered);
	pthread_mutex_unlock(&h->lock);
	/* MHD closes the listening socket it was given. */
	mhd.stop_daemon(h->mhd);
	httpd_free(h);
}
