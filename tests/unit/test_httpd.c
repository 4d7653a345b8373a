/*
 * test_httpd.c: the contract between the HTTP thread and the main loop, with
 * the test as the main loop: a scrape asks through the eventfd and gets what
 * is published; scrapes of the same tick reuse it without asking; a main
 * loop that does not answer gives 503 in bounded time; stop ends a waiting
 * scrape at once. Real sockets on 127.0.0.1, a port the kernel chooses.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

struct scrape {
	uint16_t port;
	int status;            /* 0: no answer (connection closed without one) */
	char body[256];
	double secs;           /* how long the scrape took */
	pthread_t thread;
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One HTTP/1.0 GET /metrics: the server closes after the answer. */
static void *scrape_run(void *arg)
{
	struct scrape *s = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(s->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: test\r\n\r\n";
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	double t0 = now_secs();
	const char *body;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto out;
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &s->status) != 1)
		s->status = 0;
	body = strstr(buf, "\r\n\r\n");
	if (body)
		snprintf(s->body, sizeof(s->body), "%s", body + 4);
out:
	if (fd >= 0)
		close(fd);
	s->secs = now_secs() - t0;
	return NULL;
}

static void scrape_start(struct scrape *s, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->port = port;
	cr_assert_eq(pthread_create(&s->thread, NULL, scrape_run, s), 0);
}

static void scrape_wait(struct scrape *s)
{
	pthread_join(s->thread, NULL);
}

/* Whether the HTTP thread asks for a render within ms. */
static bool asked_within(struct httpd *h, int ms)
{
	struct pollfd p = { .fd = httpd_fd(h), .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static struct httpd *start(void)
{
	struct config_listen where = { .on = true, .family = AF_INET, .addr = { 127, 0, 0, 1 }, .port = 0 };
	struct httpd *h;
	char err[256] = "";

	cr_assert_eq(httpd_start(&h, &where, err, sizeof(err)), 0, "%s", err);
	cr_assert_neq(httpd_port(h), 0);
	return h;
}

/* The main loop's part: render when asked, as main.c's serve_scrape does. */
static void answer(struct httpd *h, uint64_t tick, const char *text)
{
	cr_assert(asked_within(h, 3000), "the scrape did not ask for a render");
	cr_assert(httpd_render_wanted(h, tick), "no render wanted for a new tick");
	httpd_publish(h, strdup(text), strlen(text), tick);
}

Test(httpd, a_scrape_gets_the_render_it_asked_for)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 1);
	scrape_start(&s, httpd_port(h));
	answer(h, 1, "m 1\n");
	scrape_wait(&s);
	cr_assert_eq(s.status, 200);
	cr_assert_str_eq(s.body, "m 1\n");
	httpd_stop(h);
}

Test(httpd, scrapes_of_one_tick_share_one_render)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 7);
	scrape_start(&s, httpd_port(h));
	answer(h, 7, "m 7\n");
	scrape_wait(&s);
	/* Same tick: answered from the snapshot, without a word to the main loop. */
	for (int i = 0; i < 5; i++) {
		scrape_start(&s, httpd_port(h));
		scrape_wait(&s);
		cr_assert_eq(s.status, 200);
		cr_assert_str_eq(s.body, "m 7\n");
	}
	cr_assert(!asked_within(h, 100), "a scrape of the same tick asked for another render");
	/* The next tick makes the snapshot stale: the next scrape asks again. */
	httpd_tick(h, 8);
	scrape_start(&s, httpd_port(h));
	answer(h, 8, "m 8\n");
	scrape_wait(&s);
	cr_assert_str_eq(s.body, "m 8\n");
	httpd_stop(h);
}

Test(httpd, a_render_already_there_is_not_redone)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 3);
	scrape_start(&s, httpd_port(h));
	answer(h, 3, "m 3\n");
	scrape_wait(&s);
	/* Asked again for the same tick (two wake-ups in one turn): no render, the waiters are told. */
	cr_assert(!httpd_render_wanted(h, 3));
	httpd_stop(h);
}

Test(httpd, a_main_loop_that_does_not_answer_gives_503, .timeout = 20)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 1);
	scrape_start(&s, httpd_port(h));
	scrape_wait(&s);
	cr_assert_eq(s.status, 503);
	cr_assert(s.secs >= 4.5 && s.secs < 8.0, "503 after %.1f s, not after the 5 s wait", s.secs);
	httpd_stop(h);
}

/* The previous tick's snapshot is still held: a failed render must not send it as this tick's. */
Test(httpd, a_failed_render_does_not_send_the_last_one)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 1);
	scrape_start(&s, httpd_port(h));
	answer(h, 1, "m 1\n");
	scrape_wait(&s);
	cr_assert_eq(s.status, 200);
	httpd_tick(h, 2);
	scrape_start(&s, httpd_port(h));
	cr_assert(asked_within(h, 3000));
	cr_assert(httpd_render_wanted(h, 2));
	httpd_publish(h, NULL, 0, 2);
	scrape_wait(&s);
	cr_assert_eq(s.status, 503, "got %d with body '%s'", s.status, s.body);
	httpd_stop(h);
}

Test(httpd, a_failed_render_gives_503_at_once)
{
	struct httpd *h = start();
	struct scrape s;

	httpd_tick(h, 1);
	scrape_start(&s, httpd_port(h));
	cr_assert(asked_within(h, 3000));
	cr_assert(httpd_render_wanted(h, 1));
	httpd_publish(h, NULL, 0, 1);
	scrape_wait(&s);
	cr_assert_eq(s.status, 503);
	cr_assert(s.secs < 2.0, "took %.1f s", s.secs);
	httpd_stop(h);
}

Test(httpd, stop_ends_a_waiting_scrape_at_once, .timeout = 20)
{
	struct httpd *h = start();
	struct scrape s;
	double t0;

	httpd_tick(h, 1);
	scrape_start(&s, httpd_port(h));
	cr_assert(asked_within(h, 3000));
	t0 = now_secs();
	httpd_stop(h);
	cr_assert(now_secs() - t0 < 2.0, "stop took %.1f s", now_secs() - t0);
	scrape_wait(&s);
	cr_assert(s.status == 503 || s.status == 0, "a scrape cut by stop got %d", s.status);
}

Test(httpd, a_port_in_use_names_the_address_and_the_error)
{
	struct httpd *h = start();
	struct config_listen same = { .on = true, .family = AF_INET, .addr = { 127, 0, 0, 1 },
				      .port = httpd_port(h) };
	struct httpd *h2 = NULL;
	char err[256] = "", want[64];

	cr_assert_lt(httpd_start(&h2, &same, err, sizeof(err)), 0);
	cr_assert_null(h2);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u", (unsigned)httpd_port(h));
	cr_assert(strstr(err, want) && strstr(err, "Address already in use"), "%s", err);
	cr_assert(!strstr(err, "drop-in"), "the drop-in hint for EADDRINUSE: %s", err);
	httpd_stop(h);
}
