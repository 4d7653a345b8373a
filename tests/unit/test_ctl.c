/* test_ctl.c: the control socket server over a real Unix socket, server and clients in one process. */
#include "base.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/backlogd/ctl.h"

/* Every wait in these tests ends by this much, so a server bug fails a test instead of hanging it. */
#define WAIT_MS 3000
/*
 * And no wait runs past this much from the start of its test, however many
 * a test strings together: the whole-test bound, kept here rather than as
 * Criterion's .timeout, which LeakSanitizer reports as a leak inside
 * libcriterion under a parallel make check.
 */
#define TEST_MS 30000

static char tmpdir[] = "/tmp/test_ctl.XXXXXX";
static char sockpath[256];
static struct ctl_server *srv;
static int handled;
static int64_t test_end;

struct tclient {
	int fd;
	size_t len, cap;
	char *buf;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When a wait of ms from now must end: never later than the test's own end. */
static int64_t wait_end(int ms)
{
	int64_t end = mono_ms() + ms;

	return end < test_end ? end : test_end;
}

/* Reply with a "pad" string of n bytes, for replies larger than a socket buffer. */
static json_t *padded_reply(const char *cmd, size_t n)
{
	char *pad = malloc(n + 1);
	json_t *j;

	cr_assert_not_null(pad);
	memset(pad, 'p', n);
	pad[n] = '\0';
	j = json_pack("{s:b,s:s,s:s}", "ok", 1, "command", cmd, "pad", pad);
	free(pad);
	return j;
}

/*
 * Echo the command back. "null" makes the handler fail, to test the
 * server's fallback; "big", "big2" and "huge" give replies of 1, 2 and
 * 10 MiB, the last more than the 4 MiB the server once dropped clients at.
 */
static json_t *echo_handler(json_t *req, void *arg)
{
	const char *cmd = json_string_value(json_object_get(req, "command"));
	int *count = arg;

	(*count)++;
	if (strcmp(cmd, "null") == 0)
		return NULL;
	if (strcmp(cmd, "big") == 0)
		return padded_reply(cmd, 1024 * 1024);
	if (strcmp(cmd, "big2") == 0)
		return padded_reply(cmd, 2 * 1024 * 1024);
	if (strcmp(cmd, "huge") == 0)
		return padded_reply(cmd, 10 * 1024 * 1024);
	return json_pack("{s:b,s:s}", "ok", 1, "command", cmd);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	/* A vanished client must show up as EPIPE in the server, never kill the process. */
	signal(SIGPIPE, SIG_DFL);
	test_end = mono_ms() + TEST_MS;
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", tmpdir);
}

static void teardown(void)
{
	ctl_close(srv);
	srv = NULL;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(ctl, .init = setup, .fini = teardown);

static void start(unsigned timeout_ms)
{
	cr_assert_eq(ctl_open(&srv, sockpath, timeout_ms, echo_handler, &handled), 0);
}

/* One main-loop turn: wait on the server's fd at most ms, then dispatch. */
static void pump(int ms)
{
	struct pollfd p = { .fd = ctl_fd(srv), .events = POLLIN };

	(void)poll(&p, 1, ms);
	ctl_dispatch(srv);
}

static struct tclient *tc_new(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct tclient *c = calloc(1, sizeof(*c));
	int64_t end = wait_end(WAIT_MS);

	cr_assert_not_null(c);
	c->cap = 2 * 1024 * 1024;
	c->buf = malloc(c->cap);
	cr_assert_not_null(c->buf);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	strcpy(sun.sun_path, sockpath);
	/* EAGAIN: the listen backlog is full; let the server accept some and retry. */
	while (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		cr_assert_eq(errno, EAGAIN, "connect: %s", strerror(errno));
		cr_assert_lt(mono_ms(), end, "connect kept failing with EAGAIN");
		pump(10);
	}
	return c;
}

static void tc_free(struct tclient *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

/* Write everything, letting the server run whenever the socket is full. Return: 0 or -errno. */
static int tc_write(struct tclient *c, const char *buf, size_t len)
{
	int64_t end = wait_end(WAIT_MS);

	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			if (mono_ms() > end)
				return -ETIMEDOUT;
			pump(10);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tc_send(struct tclient *c, const char *s)
{
	return tc_write(c, s, strlen(s));
}

/*
 * Next reply line, while pumping the server.
 * Return: 1 with the line (no '\n') in out, 0 at EOF, -errno (ECONNRESET,
 * ETIMEDOUT after ms).
 */
static int tc_line(struct tclient *c, char *out, size_t outsz, int ms)
{
	int64_t end = wait_end(ms);

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - c->buf);

			cr_assert_lt(len, outsz);
			memcpy(out, c->buf, len);
			out[len] = '\0';
			memmove(c->buf, nl + 1, c->len - len - 1);
			c->len -= len + 1;
			return 1;
		}
		cr_assert_lt(c->len, c->cap, "reply line too long");
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno != EAGAIN)
			return -errno;
		if (mono_ms() > end)
			return -ETIMEDOUT;
		pump(10);
	}
}

/* Expect one reply and return its parsed object (caller decrefs). */
static json_t *tc_reply(struct tclient *c)
{
	char line[8192];
	json_error_t jerr;
	json_t *j;
	int rc = tc_line(c, line, sizeof(line), WAIT_MS);

	cr_assert_eq(rc, 1, "no reply line: %d (%s)", rc, rc < 0 ? strerror(-rc) : "EOF");
	j = json_loads(line, 0, &jerr);
	cr_assert_not_null(j, "reply is not JSON: %s", line);
	return j;
}

static void expect_ok(struct tclient *c, const char *cmd)
{
	json_t *j = tc_reply(c);

	cr_assert(json_is_true(json_object_get(j, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "command")), cmd);
	json_decref(j);
}

static void expect_error(struct tclient *c, const char *what)
{
	json_t *j = tc_reply(c);
	const char *err = json_string_value(json_object_get(j, "error"));

	cr_assert(json_is_false(json_object_get(j, "ok")));
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, what), "error \"%s\" lacks \"%s\"", err, what);
	json_decref(j);
}

/*
 * The server closed on us: EOF, or ECONNRESET when it closed with our
 * unread bytes still queued (AF_UNIX reports that to the peer as a reset).
 */
static void expect_closed(struct tclient *c)
{
	char line[8192];
	int rc = tc_line(c, line, sizeof(line), WAIT_MS);

	cr_assert(rc == 0 || rc == -ECONNRESET, "expected close, got %d (%s)", rc,
		  rc == 1 ? line : strerror(-rc));
}

static void pump_until_clients(size_t n)
{
	int64_t end = wait_end(WAIT_MS);

	while (ctl_clients(srv) != n && mono_ms() < end)
		pump(10);
	cr_assert_eq(ctl_clients(srv), n);
}

Test(ctl, good_request)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"status\"}\n"), 0);
	expect_ok(c, "status");
	cr_assert_eq(handled, 1);
	cr_assert_eq(ctl_clients(srv), 1);
	tc_free(c);
}

Test(ctl, fd_readable_on_connect)
{
	struct pollfd p;
	struct tclient *c;

	start(5000);
	c = tc_new();
	p = (struct pollfd){ .fd = ctl_fd(srv), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, WAIT_MS), 1);
	ctl_dispatch(srv);
	cr_assert_eq(ctl_clients(srv), 1);
	tc_free(c);
}

Test(ctl, two_requests_one_write_in_order)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"a\"}\n{\"command\":\"b\"}\n"), 0);
	expect_ok(c, "a");
	expect_ok(c, "b");
	tc_free(c);
}

Test(ctl, many_requests_in_order)
{
	char req[64], want[16];
	struct tclient *c;

	start(5000);
	c = tc_new();
	for (int i = 0; i < 500; i++) {
		snprintf(req, sizeof(req), "{\"command\":\"c%d\"}\n", i);
		cr_assert_eq(tc_send(c, req), 0);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(want, sizeof(want), "c%d", i);
		expect_ok(c, want);
	}
	tc_free(c);
}

Test(ctl, request_split_across_writes)
{
	const char *req = "{\"command\":\"slow\"}\r\n";
	struct tclient *c;

	start(5000);
	c = tc_new();
	for (const char *p = req; *p; p++) {
		cr_assert_eq(tc_write(c, p, 1), 0);
		pump(0);
	}
	expect_ok(c, "slow");
	tc_free(c);
}

Test(ctl, garbage_then_usable)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "this is not json\n"), 0);
	expect_error(c, "invalid JSON");
	cr_assert_eq(tc_send(c, "\n"), 0);
	expect_error(c, "invalid JSON");
	cr_assert_eq(tc_send(c, "{\"command\":\"after\"}\n"), 0);
	expect_ok(c, "after");
	cr_assert_eq(handled, 1);
	tc_free(c);
}

Test(ctl, missing_or_bad_command)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"verb\":\"status\"}\n"), 0);
	expect_error(c, "command");
	cr_assert_eq(tc_send(c, "{\"command\":42}\n"), 0);
	expect_error(c, "command");
	cr_assert_eq(tc_send(c, "[\"command\",\"status\"]\n"), 0);
	expect_error(c, "not a JSON object");
	cr_assert_eq(tc_send(c, "\"status\"\n"), 0);
	expect_error(c, "not a JSON object");
	cr_assert_eq(handled, 0);
	cr_assert_eq(tc_send(c, "{\"command\":\"still\"}\n"), 0);
	expect_ok(c, "still");
	tc_free(c);
}

Test(ctl, handler_failure_is_an_error_reply)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"null\"}\n{\"command\":\"next\"}\n"), 0);
	expect_error(c, "internal");
	expect_ok(c, "next");
	tc_free(c);
}

/* Build {"command":"long","pad":"xxx..."} exactly len bytes long, plus '\n'. */
static char *request_of_len(size_t len)
{
	static const char head[] = "{\"command\":\"long\",\"pad\":\"";
	static const char tail[] = "\"}";
	char *s = malloc(len + 2);

	cr_assert_not_null(s);
	cr_assert_gt(len, sizeof(head) + sizeof(tail));
	memset(s, 'x', len);
	memcpy(s, head, sizeof(head) - 1);
	memcpy(s + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	s[len] = '\n';
	s[len + 1] = '\0';
	return s;
}

Test(ctl, request_of_max_length_accepted)
{
	char *req = request_of_len(CTL_MAX_REQUEST);
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, req), 0);
	expect_ok(c, "long");
	free(req);
	tc_free(c);
}

Test(ctl, request_too_long_error_then_closed)
{
	char *req = request_of_len(CTL_MAX_REQUEST + 1);
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, req), 0);
	expect_error(c, "too long");
	expect_closed(c);
	pump_until_clients(0);
	cr_assert_eq(handled, 0);
	free(req);
	tc_free(c);
}

Test(ctl, endless_line_error_then_closed)
{
	char junk[1024];
	struct tclient *c;
	int rc = 0;

	start(5000);
	c = tc_new();
	memset(junk, 'y', sizeof(junk));
	/* No newline ever: the server must give up at CTL_MAX_REQUEST, not buffer forever. */
	for (int i = 0; i < 64 && rc == 0; i++)
		rc = tc_write(c, junk, sizeof(junk));
	expect_error(c, "too long");
	expect_closed(c);
	pump_until_clients(0);
	tc_free(c);
}

Test(ctl, half_close_still_gets_reply)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"one\"}\n{\"command\":\"two\"}\n"), 0);
	cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
	expect_ok(c, "one");
	expect_ok(c, "two");
	expect_closed(c);
	pump_until_clients(0);
	tc_free(c);
}

Test(ctl, unterminated_last_line_at_eof)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"tail\"}"), 0);
	cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
	expect_ok(c, "tail");
	expect_closed(c);
	tc_free(c);
}

Test(ctl, eof_with_nothing_pending_closes)
{
	struct tclient *c;

	start(5000);
	c = tc_new();
	pump_until_clients(1);
	cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
	pump_until_clients(0);
	expect_closed(c);
	tc_free(c);
}

Test(ctl, silent_client_times_out)
{
	struct tclient *c, *d;
	int64_t t0, dt;

	start(200);
	c = tc_new();
	pump_until_clients(1);
	t0 = mono_ms();
	pump_until_clients(0);
	dt = mono_ms() - t0;
	cr_assert_geq(dt, 150, "dropped after %lld ms", (long long)dt);
	cr_assert_leq(dt, 1500, "dropped after %lld ms", (long long)dt);
	expect_closed(c);
	/* The server is still there for the next one. */
	d = tc_new();
	cr_assert_eq(tc_send(d, "{\"command\":\"next\"}\n"), 0);
	expect_ok(d, "next");
	tc_free(c);
	tc_free(d);
}

Test(ctl, partial_line_then_silence_times_out)
{
	struct tclient *c;

	start(200);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":"), 0);
	pump_until_clients(1);
	pump_until_clients(0);
	expect_closed(c);
	tc_free(c);
}

Test(ctl, client_that_never_reads_is_dropped)
{
	char chunk[4096];
	struct tclient *c, *d;
	const char *req = "{\"command\":\"flood\"}\n";
	size_t reqlen = strlen(req), fill = 0;
	int64_t end;
	int writes = 0;
	bool other_served = false;

	/* Long enough that a loaded machine fills the socket buffers before the server gives up. */
	start(1000);
	c = tc_new();
	d = tc_new();
	while (fill + reqlen <= sizeof(chunk)) {
		memcpy(chunk + fill, req, reqlen);
		fill += reqlen;
	}
	/* Keep writing requests and never read a reply, until the server gives up on us. */
	end = wait_end(WAIT_MS);
	while (mono_ms() < end && writes < 100000) {
		ssize_t n = send(c->fd, chunk, fill, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0)
			writes++;
		/* Once the flood is stalled, another client must still be served at once. */
		if (n < 0 && !other_served) {
			cr_assert_eq(tc_send(d, "{\"command\":\"other\"}\n"), 0);
			expect_ok(d, "other");
			other_served = true;
		}
		pump(n < 0 ? 10 : 0);
		if (ctl_clients(srv) <= 1)
			break;
	}
	cr_assert(other_served);
	cr_assert_gt(handled, 100, "only %d requests handled before the stall", handled);
	tc_free(d);
	pump_until_clients(0);
	d = tc_new();
	cr_assert_eq(tc_send(d, "{\"command\":\"alive\"}\n"), 0);
	expect_ok(d, "alive");
	tc_free(c);
	tc_free(d);
}

Test(ctl, reply_larger_than_socket_buffer)
{
	size_t linesz = 2 * 1024 * 1024;
	char *line = malloc(linesz);
	struct tclient *c;
	json_t *j;

	cr_assert_not_null(line);
	start(5000);
	c = tc_new();
	/* 1 MiB goes out over many non-blocking writes; the next reply must follow it intact. */
	cr_assert_eq(tc_send(c, "{\"command\":\"big\"}\n{\"command\":\"after\"}\n"), 0);
	cr_assert_eq(tc_line(c, line, linesz, WAIT_MS), 1);
	j = json_loads(line, 0, NULL);
	cr_assert_not_null(j);
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "pad"))), 1024 * 1024);
	json_decref(j);
	expect_ok(c, "after");
	free(line);
	tc_free(c);
}

/*
 * A whole reply line of any size, read at most chunk bytes per server turn
 * (a slow reader); bytes past it stay in c for the next reply.
 * Return: the line (no '\n'; caller frees), NULL at EOF.
 */
static char *tc_big_line(struct tclient *c, size_t chunk, size_t *lenp)
{
	int64_t end = wait_end(10000);
	size_t len = c->len, scanned = 0, cap = (1 << 20) + c->len;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	memcpy(buf, c->buf, c->len);
	c->len = 0;
	for (;;) {
		char *nl = memchr(buf + scanned, '\n', len - scanned);
		ssize_t n;

		if (nl) {
			size_t rest = len - (size_t)(nl + 1 - buf);

			cr_assert_lt(rest, c->cap);
			memcpy(c->buf, nl + 1, rest);
			c->len = rest;
			*nl = '\0';
			*lenp = (size_t)(nl - buf);
			return buf;
		}
		scanned = len;
		if (cap - len < chunk) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		n = recv(c->fd, buf + len, chunk, 0);
		if (n == 0) {
			free(buf);
			return NULL;
		}
		if (n > 0)
			len += (size_t)n;
		else
			cr_assert_eq(errno, EAGAIN, "recv: %s", strerror(errno));
		cr_assert_lt(mono_ms(), end, "reply not whole after 10 s: %zu bytes", len);
		pump(n > 0 ? 1 : 10);
	}
}

/* The pad of a padded reply line, checked whole. Return: its length. */
static size_t pad_len(const char *line, const char *cmd)
{
	json_t *j = json_loads(line, 0, NULL);
	size_t n;

	cr_assert_not_null(j, "reply is not whole JSON");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "command")), cmd);
	n = strlen(json_string_value(json_object_get(j, "pad")));
	json_decref(j);
	return n;
}

/* 10 MiB to a client that reads 16 KiB a turn: all of it, in order, while others are served. */
Test(ctl, huge_reply_arrives_whole_to_a_slow_reader)
{
	struct tclient *c, *d;
	size_t len;
	char *line;

	start(5000);
	c = tc_new();
	d = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"huge\"}\n{\"command\":\"after\"}\n"), 0);
	pump(10);
	/* The document waits for the slow reader; another client is not held behind it. */
	cr_assert_eq(tc_send(d, "{\"command\":\"other\"}\n"), 0);
	expect_ok(d, "other");
	line = tc_big_line(c, 16 * 1024, &len);
	cr_assert_not_null(line, "connection closed before the whole reply");
	cr_assert_eq(pad_len(line, "huge"), 10 * 1024 * 1024);
	free(line);
	expect_ok(c, "after");
	cr_assert_eq(ctl_clients(srv), 2);
	/* Sent whole: the server holds none of it any more. */
	cr_assert_eq(ctl_reply_bytes(srv), 0);
	tc_free(c);
	tc_free(d);
}

/* Over the bound on one reply: an error that says so, and the connection stays usable. */
Test(ctl, reply_over_limit_is_a_clear_error)
{
	struct tclient *c;

	start(5000);
	ctl_reply_limits(srv, 4u << 20, 64u << 20);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"huge\"}\n"), 0);
	expect_error(c, "reply too large: over 4 MiB");
	cr_assert_eq(tc_send(c, "{\"command\":\"alive\"}\n"), 0);
	expect_ok(c, "alive");
	cr_assert_eq(ctl_reply_bytes(srv), 0);
	tc_free(c);
}

/* Replies nobody read yet hold the most they may: the next big one is refused as busy, not dropped. */
Test(ctl, pending_replies_bound_is_a_clear_error)
{
	struct tclient *a, *b;
	size_t len;
	char *line;

	start(5000);
	ctl_reply_limits(srv, 8u << 20, 3u << 20);
	a = tc_new();
	b = tc_new();
	cr_assert_eq(tc_send(a, "{\"command\":\"big2\"}\n"), 0);
	/* a reads nothing yet: its 2 MiB stay with the server. */
	for (int i = 0; i < 5; i++)
		pump(10);
	cr_assert_geq(ctl_reply_bytes(srv), 2u << 20);
	cr_assert_eq(tc_send(b, "{\"command\":\"big2\"}\n"), 0);
	expect_error(b, "busy: replies other clients have not read yet hold");
	line = tc_big_line(a, 256 * 1024, &len);
	cr_assert_not_null(line);
	cr_assert_eq(pad_len(line, "big2"), 2u << 20);
	free(line);
	/* Once read, the room is back. */
	cr_assert_eq(tc_send(b, "{\"command\":\"big2\"}\n"), 0);
	line = tc_big_line(b, 256 * 1024, &len);
	cr_assert_not_null(line);
	cr_assert_eq(pad_len(line, "big2"), 2u << 20);
	free(line);
	tc_free(a);
	tc_free(b);
}

/* Within one generation, clients asking the same share one document, built once. */
Test(ctl, identical_requests_share_one_build)
{
	enum { N = 4 };
	struct tclient *cs[N], *e;
	size_t len;
	char *line;

	start(5000);
	ctl_share_replies(srv, 1);
	for (int i = 0; i < N; i++) {
		cs[i] = tc_new();
		/* Key order and spacing do not make a request different. */
		cr_assert_eq(tc_send(cs[i], i % 2 ? "{\"command\":\"big\"}\n" : "{ \"command\" : \"big\" }\n"), 0);
	}
	for (int i = 0; i < N; i++) {
		line = tc_big_line(cs[i], 64 * 1024, &len);
		cr_assert_not_null(line);
		cr_assert_eq(pad_len(line, "big"), 1u << 20);
		free(line);
	}
	cr_assert_eq(handled, 1, "%d builds for one generation", handled);
	/* Another request is its own build. */
	e = tc_new();
	cr_assert_eq(tc_send(e, "{\"command\":\"small\"}\n"), 0);
	expect_ok(e, "small");
	cr_assert_eq(handled, 2);
	/* A new generation (a tick): built anew. */
	ctl_share_replies(srv, 2);
	cr_assert_eq(tc_send(cs[0], "{\"command\":\"big\"}\n"), 0);
	line = tc_big_line(cs[0], 64 * 1024, &len);
	cr_assert_not_null(line);
	free(line);
	cr_assert_eq(handled, 3);
	for (int i = 0; i < N; i++)
		tc_free(cs[i]);
	tc_free(e);
}

/*
 * One big document per dispatch: a second client's different request waits
 * for the next turn of the main loop, which the server's fd asks for.
 */
Test(ctl, one_big_build_per_dispatch)
{
	struct tclient *a, *b;
	struct pollfd p;
	size_t len;
	char *line;

	start(5000);
	a = tc_new();
	b = tc_new();
	pump_until_clients(2);
	cr_assert_eq(tc_send(a, "{\"command\":\"big\"}\n"), 0);
	cr_assert_eq(tc_send(b, "{\"command\":\"big2\"}\n"), 0);
	ctl_dispatch(srv);
	cr_assert_eq(handled, 1, "%d big documents built in one dispatch", handled);
	p = (struct pollfd){ .fd = ctl_fd(srv), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 0), 1, "deferred work does not wake the main loop");
	ctl_dispatch(srv);
	cr_assert_eq(handled, 2);
	line = tc_big_line(a, 256 * 1024, &len);
	cr_assert_not_null(line);
	cr_assert_eq(pad_len(line, "big"), 1u << 20);
	free(line);
	line = tc_big_line(b, 256 * 1024, &len);
	cr_assert_not_null(line);
	cr_assert_eq(pad_len(line, "big2"), 2u << 20);
	free(line);
	tc_free(a);
	tc_free(b);
}

Test(ctl, client_gone_with_pending_replies)
{
	char chunk[4096];
	struct tclient *c, *d;
	const char *req = "{\"command\":\"gone\"}\n";
	size_t reqlen = strlen(req), fill = 0;

	start(5000);
	c = tc_new();
	while (fill + reqlen <= sizeof(chunk)) {
		memcpy(chunk + fill, req, reqlen);
		fill += reqlen;
	}
	for (int i = 0; i < 16; i++)
		(void)send(c->fd, chunk, fill, MSG_NOSIGNAL);
	close(c->fd);
	c->fd = -1;
	/* Writing to the vanished peer gives EPIPE; with SIGPIPE at its default this test would die. */
	pump_until_clients(0);
	d = tc_new();
	cr_assert_eq(tc_send(d, "{\"command\":\"alive\"}\n"), 0);
	expect_ok(d, "alive");
	tc_free(c);
	tc_free(d);
}

Test(ctl, seventy_clients)
{
	enum { N = 70 };
	struct tclient *cs[N], *d;
	int replies = 0, refused = 0;
	char line[8192];

	start(5000);
	for (int i = 0; i < N; i++) {
		int rc;

		cs[i] = tc_new();
		/* A client over the limit may already have been closed by the server. */
		rc = tc_send(cs[i], "{\"command\":\"many\"}\n");
		cr_assert(rc == 0 || rc == -EPIPE || rc == -ECONNRESET, "send: %d", rc);
		cr_assert_leq(ctl_clients(srv), CTL_MAX_CLIENTS);
	}
	for (int i = 0; i < N; i++) {
		int rc = tc_line(cs[i], line, sizeof(line), WAIT_MS);

		cr_assert_leq(ctl_clients(srv), CTL_MAX_CLIENTS);
		cr_assert(rc == 1 || rc == 0 || rc == -ECONNRESET, "client %d: %d", i, rc);
		if (rc == 1 && strstr(line, "\"ok\":true"))
			replies++;
		else {
			/* Over the limit: told so (when it could be), then closed. */
			if (rc == 1)
				cr_assert(strstr(line, "too many clients"), "%s", line);
			expect_closed(cs[i]);
			refused++;
		}
	}
	cr_assert_eq(replies, CTL_MAX_CLIENTS);
	cr_assert_eq(refused, N - CTL_MAX_CLIENTS);
	cr_assert_eq(ctl_clients(srv), CTL_MAX_CLIENTS);
	for (int i = 0; i < N; i++)
		tc_free(cs[i]);
	pump_until_clients(0);
	d = tc_new();
	cr_assert_eq(tc_send(d, "{\"command\":\"fresh\"}\n"), 0);
	expect_ok(d, "fresh");
	tc_free(d);
}

/* Pump the server for ms, whatever happens. */
static void pump_for(int ms)
{
	int64_t end = wait_end(ms);

	while (mono_ms() < end)
		pump(10);
}

/* Slowloris: a byte every 100 ms keeps the idle clock fresh, but not the request's own. */
Test(ctl, request_must_complete_within_timeout)
{
	struct tclient *c;
	int64_t start_ms, closed_ms = -1;
	int rc = 0;

	start(500);
	c = tc_new();
	start_ms = mono_ms();
	for (int i = 0; i < 40 && closed_ms < 0; i++) {
		char b[256];
		ssize_t n;

		rc = tc_send(c, i == 0 ? "{" : " ");
		pump_for(100);
		n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
		if (rc < 0 || n == 0 || (n < 0 && errno == ECONNRESET))
			closed_ms = mono_ms() - start_ms;
	}
	cr_assert_geq(closed_ms, 0, "a request one byte per 100 ms was never cut (last send %d)", rc);
	/* 500 ms from its first byte; the margin is for a loaded machine, far below 4 s of bytes. */
	cr_assert_lt(closed_ms, 2500, "cut only after %lld ms", (long long)closed_ms);
	cr_assert_eq(ctl_clients(srv), 0);
	tc_free(c);
}

/* Every slot held by an unfinished request: a new client evicts the oldest and is served. */
Test(ctl, full_server_evicts_the_slowest_request)
{
	struct tclient *cs[CTL_MAX_CLIENTS], *d;
	char line[8192];
	int rc, evicted = 0;

	start(5000);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		cs[i] = tc_new();
		cr_assert_eq(tc_send(cs[i], "{\"command\":"), 0);
	}
	pump_until_clients(CTL_MAX_CLIENTS);
	pump_for(400);
	d = tc_new();
	cr_assert_eq(tc_send(d, "{\"command\":\"urgent\"}\n"), 0);
	expect_ok(d, "urgent");
	cr_assert_eq(ctl_clients(srv), CTL_MAX_CLIENTS);
	/* Exactly one was evicted, and told why; the others still wait on their requests. */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		rc = tc_line(cs[i], line, sizeof(line), 0);
		if (rc == 1) {
			cr_assert(strstr(line, "too many clients"), "%s", line);
			expect_closed(cs[i]);
			evicted++;
		} else
			cr_assert_eq(rc, -ETIMEDOUT, "client %d: %d", i, rc);
		tc_free(cs[i]);
	}
	cr_assert_eq(evicted, 1);
	tc_free(d);
}

Test(ctl, accept_error_does_not_spin)
{
	struct rlimit rl, low;
	struct pollfd p;
	struct tclient *c;
	int64_t end;
	int probe;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	start(5000);
	c = tc_new();
	/* No fd left for accept(): it fails with EMFILE, the connection stays queued. */
	probe = open("/dev/null", O_RDONLY);
	cr_assert_geq(probe, 0);
	close(probe);
	low = rl;
	low.rlim_cur = (rlim_t)probe;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	pump(100);
	cr_assert_eq(ctl_clients(srv), 0);
	/* The listener left the epoll set for a while: the main loop must not wake for it. */
	p = (struct pollfd){ .fd = ctl_fd(srv), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 200), 0);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* After the pause the queued client is taken and served. */
	end = wait_end(WAIT_MS);
	while (ctl_clients(srv) == 0 && mono_ms() < end)
		pump(50);
	cr_assert_eq(ctl_clients(srv), 1);
	cr_assert_eq(tc_send(c, "{\"command\":\"late\"}\n"), 0);
	expect_ok(c, "late");
	tc_free(c);
}

Test(ctl, socket_mode_and_group)
{
	struct group *gr;
	struct stat st;
	mode_t old;

	/* The mode must not depend on the daemon's umask, whichever it is. */
	umask(0);
	start(5000);
	old = umask(0);
	cr_assert_eq(old, 0, "ctl_open did not restore the umask");
	cr_assert_eq(lstat(sockpath, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
	gr = getgrnam("backlogd");
	if (gr)
		cr_assert_eq(st.st_gid, gr->gr_gid);
	else
		cr_assert_eq(st.st_gid, getegid());
}

Test(ctl, stale_socket_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct tclient *c;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sun.sun_path, sockpath);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);	/* leaves the socket file behind, as a crashed daemon would */
	start(5000);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"new\"}\n"), 0);
	expect_ok(c, "new");
	tc_free(c);
}

Test(ctl, live_socket_not_stolen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *other = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sun.sun_path, sockpath);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(ctl_open(&other, sockpath, 5000, echo_handler, &handled), -EADDRINUSE);
	cr_assert_null(other);
	close(fd);
}

Test(ctl, non_socket_not_removed)
{
	struct ctl_server *other = NULL;
	struct stat st;
	int fd = open(sockpath, O_CREAT | O_WRONLY, 0600);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(ctl_open(&other, sockpath, 5000, echo_handler, &handled), -EEXIST);
	cr_assert_eq(lstat(sockpath, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
}

Test(ctl, missing_parent_created)
{
	char dir[200];
	struct tclient *c;
	struct stat st;

	umask(077);
	snprintf(dir, sizeof(dir), "%s/run/backlogd", tmpdir);
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", dir);
	start(5000);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
	c = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"deep\"}\n"), 0);
	expect_ok(c, "deep");
	tc_free(c);
}

Test(ctl, close_unlinks_own_socket_only)
{
	struct stat st;
	int fd;

	start(5000);
	ctl_close(srv);
	srv = NULL;
	cr_assert_eq(lstat(sockpath, &st), -1);
	cr_assert_eq(errno, ENOENT);

	/* Someone replaced the path meanwhile: leave their file alone. */
	start(5000);
	cr_assert_eq(unlink(sockpath), 0);
	fd = open(sockpath, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	ctl_close(srv);
	srv = NULL;
	cr_assert_eq(lstat(sockpath, &st), 0);
}

Test(ctl, close_with_clients_connected)
{
	struct tclient *c = NULL, *d = NULL;

	start(5000);
	c = tc_new();
	d = tc_new();
	cr_assert_eq(tc_send(c, "{\"command\":\"x\"}"), 0);
	pump_until_clients(2);
	ctl_close(srv);
	srv = NULL;
	/* tc_line pumps the server; it is gone, so read directly. */
	cr_assert_eq(recv(d->fd, d->buf, d->cap, 0), 0);
	tc_free(c);
	tc_free(d);
}

Test(ctl, bad_arguments)
{
	char longpath[200];
	struct ctl_server *s = (struct ctl_server *)&handled;

	cr_assert_eq(ctl_open(&s, "", 100, echo_handler, NULL), -EINVAL);
	cr_assert_null(s);
	cr_assert_eq(ctl_open(&s, sockpath, 100, NULL, NULL), -EINVAL);
	/* A zero timeout would drop every client at once. */
	cr_assert_eq(ctl_open(&s, sockpath, 0, echo_handler, NULL), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	cr_assert_eq(ctl_open(&s, longpath, 100, echo_handler, NULL), -ENAMETOOLONG);
	/* The NULL server is harmless, as cleanup paths like it. */
	ctl_close(NULL);
	ctl_dispatch(NULL);
	cr_assert_eq(ctl_fd(NULL), -1);
	cr_assert_eq(ctl_clients(NULL), 0);
}

/* ---- ctl_answer: the command table ---- */

static json_t *run_hello(void *arg, const char *target, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	cr_assert_null(target, "a command without a target got one");
	(*(int *)arg)++;
	return json_string("hi");
}

/* Echoes its target; "bad" is refused with a reason, "oom" fails without one. */
static json_t *run_echo(void *arg, const char *target, char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(target, "bad") == 0) {
		snprintf(err, errlen, "no such thing: %s", target);
		return NULL;
	}
	if (strcmp(target, "oom") == 0)
		return NULL;
	return json_string(target);
}

static const struct ctl_command test_commands[] = {
	{ "hello", run_hello, false, NULL },
	{ "echo", run_echo, true, "WORD" },
};

/* Return: the reply to the request text, as a new object. */
static json_t *answer(const char *text, int *calls)
{
	json_error_t jerr;
	json_t *req = json_loads(text, 0, &jerr);
	json_t *reply;

	cr_assert_not_null(req, "%s: %s", text, jerr.text);
	reply = ctl_answer(test_commands, ARRAY_SIZE(test_commands), req, calls);
	json_decref(req);
	cr_assert_not_null(reply);
	return reply;
}

static void expect_answer_error(const char *text, const char *msg)
{
	int calls = 0;
	json_t *reply = answer(text, &calls);

	cr_assert(json_is_false(json_object_get(reply, "ok")), "%s", text);
	cr_assert_str_eq(json_string_value(json_object_get(reply, "error")), msg);
	cr_assert_eq(calls, 0);
	json_decref(reply);
}

Test(ctl, answer_by_the_table)
{
	int calls = 0;
	json_t *reply = answer("{\"command\":\"hello\",\"target\":\"ignored\"}", &calls);

	cr_assert(json_is_true(json_object_get(reply, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(reply, "data")), "hi");
	cr_assert_eq(calls, 1);
	json_decref(reply);
	reply = answer("{\"command\":\"echo\",\"target\":\"x\"}", &calls);
	cr_assert_str_eq(json_string_value(json_object_get(reply, "data")), "x");
	json_decref(reply);
}

Test(ctl, answer_errors_say_what_is_wrong)
{
	expect_answer_error("{\"command\":\"nope\"}", "unknown command (want hello, echo)");
	expect_answer_error("{\"command\":7}", "request has no string \"command\"");
	expect_answer_error("{\"command\":\"echo\"}", "echo needs a string \"target\" (WORD)");
	expect_answer_error("{\"command\":\"echo\",\"target\":5}", "echo needs a string \"target\" (WORD)");
	expect_answer_error("{\"command\":\"echo\",\"target\":\"bad\"}", "no such thing: bad");
	expect_answer_error("{\"command\":\"echo\",\"target\":\"oom\"}", "internal error");
}
