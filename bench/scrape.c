/* scrape.c: one scrape of the daemon's metrics (over the control socket or HTTP) and one call of the by-hand reference, each with what it cost the client. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scrape.h"

static long long tv_ns(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000000LL + (long long)tv.tv_usec * 1000LL;
}

/* Count what a body holds: bytes, and sample lines (those not starting with '#'). */
static void tally(struct scrape_cost *c, const char *buf, size_t len, bool *line_start)
{
	for (size_t i = 0; i < len; i++) {
		if (*line_start && buf[i] != '#' && buf[i] != '\n')
			c->series++;
		*line_start = buf[i] == '\n';
	}
	c->bytes += len;
}

/*
 * Run argv with stdout into a pipe that is counted (when c counts) or to
 * /dev/null; the child's own CPU comes from wait4()'s rusage, so it is
 * exactly this child's, user plus system.
 */
static int run_child(char *const argv[], struct scrape_cost *c, bool count)
{
	struct rusage ru;
	bool line_start = true;
	char buf[65536];
	int p[2], st, null;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(count ? p[1] : null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			tally(c, buf, (size_t)n, &line_start);
	close(p[0]);
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	c->client_cpu_ns += tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int scrape_ctl(const char *backlogctl, const char *sock, struct scrape_cost *c)
{
	char *argv[] = { (char *)backlogctl, (char *)"-S", (char *)sock, (char *)"metrics", NULL };

	*c = (struct scrape_cost){ 0 };
	return run_child(argv, c, true);
}

int scrape_reference(struct scrape_cost *c)
{
	char *ss[] = { (char *)"ss", (char *)"-ltnm", NULL };
	char *nstat[] = { (char *)"nstat", (char *)"-az", NULL };

	*c = (struct scrape_cost){ 0 };
	if (run_child(ss, c, false) < 0)
		return -1;
	return run_child(nstat, c, false);
}

/*
 * GET /metrics over HTTP/1.0 in this process, as a scraper does: what it
 * costs the daemon is what matters, and no client program's start-up
 * muddies the timing. Return: 0 on "200", -1 otherwise.
 */
int scrape_http(const char *addr, unsigned port, struct scrape_cost *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n";
	bool line_start = true, in_body = false;
	char buf[65536], head[512];
	size_t head_len = 0;
	ssize_t n;
	int fd, ok = -1;

	*c = (struct scrape_cost){ 0 };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		/* The status line and headers end at the first empty line. */
		while (!in_body && off < (size_t)n) {
			if (head_len < sizeof(head) - 1)
				head[head_len++] = buf[off];
			off++;
			if (head_len >= 4 && !memcmp(head + head_len - 4, "\r\n\r\n", 4))
				in_body = true;
		}
		tally(c, buf + off, (size_t)n - off, &line_start);
	}
	head[head_len] = '\0';
	if (n == 0 && in_body && !strncmp(head, "HTTP/1.", 7) && !strncmp(head + 8, " 200", 4))
		ok = 0;
out:
	close(fd);
	return ok;
}
