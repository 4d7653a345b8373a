/* record.h: what the fixture recorders share: send one dump request, and write the bytes of every recv() to a file up to the end of the dump. */
#ifndef BACKLOGD_RECORD_H
#define BACKLOGD_RECORD_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

/* The same size as the daemon's buffer (nl.h) so the recording shows its recv() pattern. */
#define RECORD_BUF (64 * 1024)

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Return: true when buf holds the message that ends the dump. */
static int ends_dump(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return 1;
	return 0;
}

/*
 * Send req on a new netlink socket of protocol and write every recv() to
 * path, up to and including the message that ends the dump.
 * Return: the exit status, 0 or 1 (the reason printed).
 */
static int record_dump(int protocol, const struct nlmsghdr *req, const char *path)
{
	struct mnl_socket *nl;
	unsigned recvs = 0;
	size_t total = 0;
	char *buf;
	int fd;

	buf = malloc(RECORD_BUF);
	if (!buf) {
		perror("malloc");
		return 1;
	}
	nl = mnl_socket_open(protocol);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink socket");
		return 1;
	}
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		perror("send");
		return 1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, RECORD_BUF);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recv");
			return 1;
		}
		if (write_all(fd, buf, (size_t)n) < 0) {
			perror(path);
			return 1;
		}
		recvs++;
		total += (size_t)n;
		if (ends_dump(buf, (size_t)n))
			break;
	}
	if (close(fd) < 0) {
		perror(path);
		return 1;
	}
	fprintf(stderr, "%s: %zu bytes in %u recv()\n", path, total, recvs);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}

#endif
