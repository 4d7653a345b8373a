/* nl.h: the one netlink transport: socket setup, dump loop, errors as -errno. */
#ifndef BACKLOGD_NL_H
#define BACKLOGD_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <libmnl/libmnl.h>

/* The kernel sizes dump skbs up to 32 KiB; a smaller buffer truncates silently. */
#define NL_RECV_BUF (64 * 1024)

/* The longest extended-ACK message kept: the kernel's are one short sentence. */
#define NL_EXT_ACK_MAX 128

/* What the kernel said about a refused request, beyond its errno (NETLINK_EXT_ACK). */
struct nlsock_ext_ack {
	/*
	 * NLMSGERR_ATTR_MSG, cut to fit; every byte outside printable ASCII is
	 * '?', since it ends in a log line. "" when the kernel said nothing.
	 */
	char msg[NL_EXT_ACK_MAX];
	/* NLMSGERR_ATTR_OFFS: the byte of the request at fault, -1 when not given. */
	long offset;
};

struct nlsock {
	struct mnl_socket *mnl;
	int protocol;
	unsigned int portid;
	unsigned int seq;
	char *buf;            /* NL_RECV_BUF bytes, reused for every dump */
	struct nlsock_ext_ack ext_ack;  /* of the last nlsock_dump, cleared when it starts */
};

/* Open a netlink socket of PROTOCOL with NETLINK_EXT_ACK on. Return: 0 or -errno. */
int nlsock_open(struct nlsock *nl, int protocol);
void nlsock_close(struct nlsock *nl);
/* Close and reopen (after ENOBUFS). Return: 0 or -errno. */
int nlsock_reopen(struct nlsock *nl);

/*
 * Send the request in nlh (its nlmsg_seq is set here) and run cb on every
 * reply until NLMSG_DONE. Return: 0, or -errno (-ENOBUFS, -EINTR for an
 * interrupted dump that the caller should redo, or the kernel's error).
 */
int nlsock_dump(struct nlsock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Return: the extended-ACK message of the last nlsock_dump's error, "" when
 * it succeeded or the kernel gave none. Printable ASCII, for a log line.
 */
const char *nlsock_ext_ack(const struct nlsock *nl);

/*
 * The status of an NLMSG_ERROR or NLMSG_DONE message, and into ack (when
 * not NULL) the extended ACK it carries, "" and -1 when none.
 * Return: 0 for an ACK or a DONE without error, else the -errno it
 * carries; -EBADMSG for a message too short to hold one, -EPROTO for an
 * NLMSG_ERROR whose error is positive.
 */
int nlsock_msg_status(const struct nlmsghdr *nlh, struct nlsock_ext_ack *ack);

/* A failed dump is redone from scratch at most this many times. */
#define NL_DUMP_RETRIES 3

/*
 * After a failed dump: reopen the socket when the error may have left the
 * rest of the dump queued on it (ENOBUFS, a timeout, ...), and say whether
 * a second try can cure the error (ENOBUFS and an interrupted dump can, a
 * timeout cannot). attempt counts the tries so far from 0; *err is the
 * dump's -errno, replaced by nlsock_reopen's when the reopen fails.
 * Return: true to redo the dump, false to give up with *err.
 */
bool nlsock_dump_retry(struct nlsock *nl, int *err, int attempt);

/*
 * Walk a buffer of netlink messages as nlsock_dump walks a dump's replies, for
 * recorded dumps fed in (buf, len) pieces. Calls cb for every data message
 * (NOOP and OVERRUN are passed over); cb returns MNL_CB_OK to go on,
 * MNL_CB_STOP to end the walk, or MNL_CB_ERROR with errno set. buf need
 * not be aligned: the walk is over a private copy. *cut_off is set to 1
 * when bytes after the last whole message do not form one (a cut recording),
 * else to 0. An NLMSG_DONE that carries an error (a dump the kernel cut
 * short) is that error, as in nlsock_dump.
 * Return: 1 when NLMSG_DONE (or an ACK) ended the dump, 0 when more is
 * expected, -EINTR for a message flagged NLM_F_DUMP_INTR, the -errno of an
 * NLMSG_ERROR (-EBADMSG when it is cut short, -EPROTO when not negative),
 * -EBADMSG when buf does not start with a netlink message, -EMSGSIZE,
 * -ENOMEM, or -errno from cb.
 */
int nlsock_parse_buffer(const void *buf, size_t len, mnl_cb_t cb, void *data,
		    unsigned int *cut_off);

#endif
