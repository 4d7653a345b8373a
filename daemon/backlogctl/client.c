/* client.c: backlogctl's side of the control socket: connect, send a line, read a line, all by a deadline. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "clock.h"

/*
 * How long the daemon gets to start answering, and then to send each next
 * part: a status of 50,000 listeners is some 30 MB and may take more than
 * this in all, but never this long between two bytes.
 */
#define REPLY_TIMEOUT_MS 5000

/* Where the reasons go: stderr, or top's buffer while curses owns the terminal. */
static FILE *errors_to;

static FILE *errors(void)
{
	return errors_to ? errors_to : stderr;
}

FILE *client_set_errors(FILE *f)
{
	FILE *was = errors();

	errors_to = f;
	return was;
}

/* Wait for events on fd until deadline. Return: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		struct pollfd pfd = { .fd = fd, .events = events };
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Return: 0, -ETIMEDOUT, or -errno. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that went away is an error message, not a SIGPIPE death. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int w;

		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0)
			return w == 0 ? -ETIMEDOUT : w;
	}
	return 0;
}

/*
 * Read one line (the reply), of any size memory allows, into a malloc'd,
 * NUL-terminated *out, newline stripped; *got is how many bytes came.
 * Return: 0, -ETIMEDOUT, -ECONNRESET (EOF before any byte), -EPIPE (EOF
 * before the newline: the reply was cut short), -errno.
 */
static int read_line(int fd, char **out, size_t *got, int64_t deadline)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int rc;

	for (;;) {
		char *nl;
		ssize_t n;

		*got = len;
		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (ncap < cap) {
				rc = -ENOMEM;
				goto out_free;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0) {
			rc = len == 0 ? -ECONNRESET : -EPIPE;
			goto out_free;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				rc = -errno;
				goto out_free;
			}
			rc = wait_fd(fd, POLLIN, deadline);
			if (rc <= 0) {
				rc = rc == 0 ? -ETIMEDOUT : rc;
				goto out_free;
			}
			continue;
		}
		/* The daemon is sending: it gets another while for the rest. */
		deadline = clock_mono_ms() + REPLY_TIMEOUT_MS;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			len = (size_t)(nl - buf);
			break;
		}
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
out_free:
	free(buf);
	return rc;
}

static const char *connect_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "run as root or as a member of the backlogd group";
	case EAGAIN:
		return "backlogd is not accepting connections; systemctl status backlogd";
	case ENOENT:
	case ECONNREFUSED:
		return "backlogd is not running; systemctl status backlogd";
	default:
		return "is backlogd running? systemctl status backlogd";
	}
}

/* Return: a connected, non-blocking socket, or -1 with the exit status in *exit_code. */
static int connect_daemon(const char *path, int *exit_code)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	/* A daemon whose own accept queue is full must not hang us: bound connect() too. */
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_MS / 1000, .tv_usec = REPLY_TIMEOUT_MS % 1000 * 1000 };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*exit_code = usage_error("socket path too long (%zu bytes, at most %zu): %s",
					 strlen(path), sizeof(sun.sun_path) - 1, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(errors(), PROG ": socket: %s\n", strerror(errno));
		*exit_code = EXIT_NO_REPLY;
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		err = errno;
		fprintf(errors(), PROG ": cannot connect to %s: %s (%s)\n", path, strerror(err), connect_hint(err));
		close(fd);
		/* Only no socket, or nobody listening on it, means the daemon is not running. */
		*exit_code = err == ENOENT || err == ECONNREFUSED ? EXIT_UNREACHABLE : EXIT_NO_REPLY;
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(errors(), PROG ": fcntl: %s\n", strerror(errno));
		close(fd);
		*exit_code = EXIT_NO_REPLY;
		return -1;
	}
	return fd;
}

int client_ask(const char *path, const json_t *request, json_t **data)
{
	int64_t deadline = clock_mono_ms() + REPLY_TIMEOUT_MS;
	char *req = NULL, *line = NULL;
	json_t *reply = NULL;
	const json_t *ok;
	json_error_t jerr;
	size_t got = 0;
	int fd, rc, status = EXIT_UNREACHABLE;

	fd = connect_daemon(path, &status);
	if (fd < 0)
		return status;
	/* Connected: whatever fails from here, the daemon is running. */
	status = EXIT_NO_REPLY;
	req = json_dumps(request, JSON_COMPACT);
	if (!req) {
		fprintf(errors(), PROG ": out of memory\n");
		goto out_close;
	}
	rc = send_all(fd, req, strlen(req), deadline);
	if (rc == 0)
		rc = send_all(fd, "\n", 1, deadline);
	if (rc < 0) {
		fprintf(errors(), PROG ": cannot send the request to %s: %s\n", path, strerror(-rc));
		goto out_free;
	}
	rc = read_line(fd, &line, &got, deadline);
	if (rc == -ETIMEDOUT) {
		fprintf(errors(), PROG ": backlogd at %s is running but sent %s for %d s (after %zu bytes)\n",
			path, got ? "nothing more" : "no reply", REPLY_TIMEOUT_MS / 1000, got);
		goto out_free;
	}
	if (rc == -ECONNRESET) {
		fprintf(errors(), PROG ": backlogd at %s closed the connection without replying\n", path);
		goto out_free;
	}
	if (rc == -EPIPE) {
		fprintf(errors(), PROG ": backlogd at %s closed the connection after %zu bytes, before the end of its reply\n",
			path, got);
		goto out_free;
	}
	if (rc < 0) {
		fprintf(errors(), PROG ": reading the reply from %s (%zu bytes so far): %s\n", path, got, strerror(-rc));
		goto out_free;
	}

	status = EXIT_DAEMON_ERROR;
	reply = json_loads(line, 0, &jerr);
	ok = json_object_get(reply, "ok");
	if (!reply || !json_is_boolean(ok)) {
		fprintf(errors(), PROG ": malformed reply from backlogd: %s\n",
			reply ? "no \"ok\" member" : jerr.text);
		goto out_free;
	}
	if (!json_is_true(ok)) {
		const char *msg = json_string_value(json_object_get(reply, "error"));

		fprintf(errors(), PROG ": backlogd: %s\n", msg ? msg : "unspecified error");
		goto out_free;
	}
	*data = json_object_get(reply, "data");
	*data = *data ? json_incref(*data) : json_null();
	status = EXIT_OK;
out_free:
	json_decref(reply);
	free(line);
	free(req);
out_close:
	close(fd);
	return status;
}
