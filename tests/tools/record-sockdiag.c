/* record-sockdiag.c: save the raw bytes of a TCP sock_diag dump (LISTEN, or the deep tier's states), for test fixtures. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "compat.h"

/* The same size as the daemon's buffer (nl.h) so the recording shows its recv() pattern. */
#define RECORD_BUF (64 * 1024)

static void usage(void)
{
	fprintf(stderr,
		"usage: record-sockdiag [-d] -4|-6 FILE\n"
		"  Dump every TCP listener of one family, exactly as backlogd asks\n"
		"  (INET_DIAG_INFO and INET_DIAG_SKMEMINFO), and write the bytes of\n"
		"  every recv() to FILE, concatenated, up to and including NLMSG_DONE.\n"
		"  -d  the deep tier's dump instead (probes/sockdiag_deep.c): every\n"
		"      state but LISTEN, no extensions.\n");
	exit(2);
}

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

int main(int argc, char **argv)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	struct inet_diag_req_v2 *req;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned recvs = 0;
	size_t total = 0;
	uint8_t family;
	int deep = 0;
	char *buf;
	int fd;

	if (argc == 4 && strcmp(argv[1], "-d") == 0) {
		deep = 1;
		argv++;
		argc--;
	}
	if (argc != 3)
		usage();
	if (strcmp(argv[1], "-4") == 0)
		family = AF_INET;
	else if (strcmp(argv[1], "-6") == 0)
		family = AF_INET6;
	else
		usage();

	buf = malloc(RECORD_BUF);
	if (!buf) {
		perror("malloc");
		return 1;
	}
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink socket");
		return 1;
	}

	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	if (deep) {
		/* The same request as deep_dump_family in probes/sockdiag_deep.c. */
		req->idiag_states = 0xffffffffU & ~(1U << TCP_LISTEN);
		req->idiag_ext = 0;
	} else {
		req->idiag_states = 1U << TCP_LISTEN;
		req->idiag_ext = (1U << (INET_DIAG_INFO - 1)) | (1U << (INET_DIAG_SKMEMINFO - 1));
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("send");
		return 1;
	}

	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[2]);
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
			perror(argv[2]);
			return 1;
		}
		recvs++;
		total += (size_t)n;
		if (ends_dump(buf, (size_t)n))
			break;
	}
	if (close(fd) < 0) {
		perror(argv[2]);
		return 1;
	}
	fprintf(stderr, "%s: %zu bytes in %u recv()\n", argv[2], total, recvs);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}
