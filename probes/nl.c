/* nl.c: the one netlink transport: socket setup, the dump loop, its errors as -errno with the kernel's extended ACK, their retries, recorded dumps. */
#include "base.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "compat.h"
#include "nl.h"
#include "safe_text.h"

/*
 * A dump that stops answering must not freeze the daemon's tick forever:
 * give up on a recv() after this long and report -ETIMEDOUT.
 */
#define NL_RECV_TIMEOUT_SEC 5

/* What the dump loop learns from the messages, besides the caller's data. */
struct nl_dump_ctx {
	mnl_cb_t cb;
	void *data;
	bool intr;      /* a message carried NLM_F_DUMP_INTR: the dump is not whole */
	struct nlsock_ext_ack *ack;     /* where an error's extended ACK goes */
};

/*
 * Make the socket's receive queue hold at least a few dump skbs. Only ever
 * raise it: the kernel's default (rmem_default) is usually larger already,
 * and lowering it would only make the dump need more recv() rounds.
 */
static void nl_raise_rcvbuf(int fd)
{
	int cur = 0, want = NL_RECV_BUF;
	socklen_t len = sizeof(cur);

	/* getsockopt reports twice the value set (the kernel's bookkeeping). */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &len) == 0 && cur / 2 >= want)
		return;
	/* Failing here costs only speed, never correctness: dumps are paced by recv(). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
}

static int nl_socket_setup(struct nlsock *nl)
{
	struct timeval tv = { .tv_sec = NL_RECV_TIMEOUT_SEC, .tv_usec = 0 };
	int one = 1, fd;

	nl->mnl = mnl_socket_open2(nl->protocol, SOCK_CLOEXEC);
	if (!nl->mnl)
		return -errno;
	/*
	 * Extended ACK makes the kernel say why it refused a request. Kernels
	 * before 4.12 lack it; the plain errno still comes back, so carry on.
	 */
	(void)mnl_socket_setsockopt(nl->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	fd = mnl_socket_get_fd(nl->mnl);
	nl_raise_rcvbuf(fd);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto out_errno;
	if (mnl_socket_bind(nl->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out_errno;
	nl->portid = mnl_socket_get_portid(nl->mnl);
	return 0;

out_errno: {
		int err = errno;

		mnl_socket_close(nl->mnl);
		nl->mnl = NULL;
		return -err;
	}
}

/**
 * nlsock_open - open and bind a netlink socket with NETLINK_EXT_ACK on
 * @nl: the transport to fill; left closed on failure
 * @protocol: NETLINK_SOCK_DIAG and the like
 *
 * Return: 0 or -errno.
 */
int nlsock_open(struct nlsock *nl, int protocol)
{
	int r;

	memset(nl, 0, sizeof(*nl));
	nl->ext_ack.offset = -1;
	nl->protocol = protocol;
	nl->buf = malloc(NL_RECV_BUF);
	if (!nl->buf)
		return -ENOMEM;
	r = nl_socket_setup(nl);
	if (r < 0)
		goto out_buf;
	return 0;

out_buf:
	free(nl->buf);
	nl->buf = NULL;
	return r;
}

/**
 * nlsock_close - close the socket and free the buffer; safe on a closed or zeroed one
 * @nl: the transport
 */
void nlsock_close(struct nlsock *nl)
{
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	nl->mnl = NULL;
	free(nl->buf);
	nl->buf = NULL;
}

/**
 * nlsock_reopen - replace the socket by a fresh one, keeping the buffer
 * @nl: an opened transport
 *
 * After ENOBUFS the socket may still hold the tail of a lost dump; a new
 * socket is the simplest way to be sure no stale message is read as new.
 *
 * Return: 0 or -errno (the transport is then closed but still safe to nlsock_close).
 */
int nlsock_reopen(struct nlsock *nl)
{
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	nl->mnl = NULL;
	if (!nl->buf) {
		nl->buf = malloc(NL_RECV_BUF);
		if (!nl->buf)
			return -ENOMEM;
	}
	return nl_socket_setup(nl);
}

static int nl_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_dump_ctx *ctx = arg;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		ctx->intr = true;
	return ctx->cb(nlh, ctx->data);
}

static int nl_noop_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

static void ext_ack_clear(struct nlsock_ext_ack *ack)
{
	ack->msg[0] = '\0';
	ack->offset = -1;
}

/*
 * The kernel's words go to a log line: neutralised by safe_text(), cut to
 * fit, and never read past the attribute, NUL-terminated or not.
 */
static void ext_ack_set_msg(struct nlsock_ext_ack *ack, const struct nlattr *attr)
{
	const char *p = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	safe_text(ack->msg, sizeof(ack->msg), p, strnlen(p, len));
}

/*
 * The TLVs after an error's fixed part (NLM_F_ACK_TLVS), offset bytes into
 * the payload. Types this file does not read (the policy, the missing
 * attribute) are passed over, as is a malformed TLV and all after it.
 */
static void ext_ack_parse(const struct nlmsghdr *nlh, size_t offset, struct nlsock_ext_ack *ack)
{
	const char *tail = mnl_nlmsg_get_payload_tail(nlh);
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	/* mnl_attr_for_each, without its long-to-int narrowing of the room left. */
	for (attr = mnl_nlmsg_get_payload_offset(nlh, offset);
	     mnl_attr_ok(attr, (int)(tail - (const char *)attr)); attr = mnl_attr_next(attr)) {
		switch (mnl_attr_get_type(attr)) {
		case BACKLOGD_NLMSGERR_ATTR_MSG:
			ext_ack_set_msg(ack, attr);
			break;
		case BACKLOGD_NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				ack->offset = (long)mnl_attr_get_u32(attr);
			break;
		default:
			break;
		}
	}
}

/* NLMSG_DONE of a dump carries the dump's own status, then its TLVs. */
static int nl_done_status(const struct nlmsghdr *nlh, struct nlsock_ext_ack *ack)
{
	int status = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(status))
		memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof(status));
	if (status < 0)
		ext_ack_parse(nlh, sizeof(status), ack);
	return status < 0 ? status : 0;
}

/*
 * An NLMSG_ERROR: the errno, the request's header (or, unless
 * NLM_F_CAPPED, the whole request), then its TLVs.
 */
static int nl_error_status(const struct nlmsghdr *nlh, struct nlsock_ext_ack *ack)
{
	const struct nlmsgerr *err;
	size_t offset = sizeof(*err);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
		return -EBADMSG;
	err = mnl_nlmsg_get_payload(nlh);
	/* The kernel sends a negative errno; anything else is not a valid error. */
	if (err->error > 0)
		return -EPROTO;
	if (err->error < 0) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len >= sizeof(err->msg))
			offset += err->msg.nlmsg_len - sizeof(err->msg);
		ext_ack_parse(nlh, offset, ack);
	}
	return err->error;
}

int nlsock_msg_status(const struct nlmsghdr *nlh, struct nlsock_ext_ack *ack)
{
	struct nlsock_ext_ack unused;

	if (!ack)
		ack = &unused;
	ext_ack_clear(ack);
	if (nlh->nlmsg_type == NLMSG_DONE)
		return nl_done_status(nlh, ack);
	return nl_error_status(nlh, ack);
}

/** nlsock_ext_ack - what the kernel said about the last dump's error, "" when nothing */
const char *nlsock_ext_ack(const struct nlsock *nl)
{
	return nl->ext_ack.msg;
}

/* An error in the status of NLMSG_DONE ends the dump as an NLMSG_ERROR would. */
static int nl_done_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_dump_ctx *ctx = arg;
	int status = nlsock_msg_status(nlh, ctx->ack);

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		ctx->intr = true;
	if (status < 0) {
		errno = -status;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int nl_error_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_dump_ctx *ctx = arg;
	int err = nlsock_msg_status(nlh, ctx->ack);

	if (err == 0)
		return MNL_CB_STOP;     /* a plain ACK */
	errno = -err;
	return MNL_CB_ERROR;
}

/*
 * libmnl's mnl_nlmsg_ok compares nlmsg_len as an int: a length of 2^31 or
 * more passes and the walk jumps 4 GB. The same test, unsigned.
 */
/*
 * A whole message within rem, its padding included: libmnl walks a
 * message's attributes up to its 4-byte-aligned end, so a last message of
 * odd length would let an attribute reach past the buffer. The kernel
 * always puts the padding (__nlmsg_put reserves NLMSG_ALIGN of the size).
 */
static bool nl_msg_ok(const struct nlmsghdr *nlh, int rem)
{
	/* Length first: NLMSG_ALIGN masks with an unsigned int and wraps near 2^32. */
	return rem >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (uint32_t)rem && NLMSG_ALIGN(nlh->nlmsg_len) <= (uint32_t)rem;
}

/* Return: true when buf holds the message that ends a dump (DONE or ERROR). */
static bool nl_buf_ends_dump(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rem = (int)len;

	for (; nl_msg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

/*
 * Read and throw away the rest of a dump we stopped consuming, so that the
 * next request on this socket is not refused with EBUSY nor answered with
 * stale messages. A receive error ends the drain: the caller then sees the
 * original error, and ENOBUFS or a timeout leads it to reopen anyway.
 */
static void nl_drain(struct nlsock *nl)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->mnl, nl->buf, NL_RECV_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || nl_buf_ends_dump(nl->buf, (size_t)n))
			return;
	}
}

/**
 * nlsock_dump - send a dump request and feed every reply message to a callback
 * @nl: an opened transport
 * @nlh: the request; its nlmsg_seq is set here
 * @cb: called for each data message (type >= NLMSG_MIN_TYPE)
 * @data: passed to cb
 *
 * Return: 0 when the dump ended with NLMSG_DONE; -EINTR when the kernel
 * flagged the dump as interrupted (the caller should redo it); -ENOBUFS
 * when replies were lost (reopen, then redo); -ETIMEDOUT when the kernel
 * stopped answering; the kernel's -errno from NLMSG_ERROR; or the errno a
 * callback set when it returned MNL_CB_ERROR.
 */
int nlsock_dump(struct nlsock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = nl_noop_cb,
		[NLMSG_ERROR] = nl_error_cb,
		[NLMSG_DONE] = nl_done_cb,
		[NLMSG_OVERRUN] = nl_noop_cb,
	};
	struct nl_dump_ctx ctx = { .cb = cb, .data = data, .intr = false, .ack = &nl->ext_ack };
	ssize_t n;
	int ret, err;

	ext_ack_clear(&nl->ext_ack);
	if (!nl->mnl || !nl->buf)
		return -EBADF;
	/* Sequence 0 would turn off libmnl's check that a reply is ours. */
	if (++nl->seq == 0)
		nl->seq = 1;
	nlh->nlmsg_seq = nl->seq;
	n = mnl_socket_sendto(nl->mnl, nlh, nlh->nlmsg_len);
	if (n < 0)
		return -errno;
	if ((size_t)n != nlh->nlmsg_len)
		return -EMSGSIZE;

	for (;;) {
		n = mnl_socket_recvfrom(nl->mnl, nl->buf, NL_RECV_BUF);
		if (n < 0) {
			err = errno;
			if (err == EINTR)
				continue;       /* a signal, not an interrupted dump */
			return err == EAGAIN || err == EWOULDBLOCK ? -ETIMEDOUT : -err;
		}
		if (n == 0)
			return -EPIPE;
		errno = 0;
		ret = mnl_cb_run2(nl->buf, (size_t)n, nl->seq, nl->portid,
				  nl_data_cb, &ctx, ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_OK)
			continue;       /* the dump goes on in the next datagram */
		err = 0;
		if (ret < 0) {
			err = errno ? errno : EIO;
			/* libmnl >= 1.0.4 reports NLM_F_DUMP_INTR itself, as EINTR. */
			if (err == EINTR)
				ctx.intr = true;
		}
		/* A callback that gave up left the kernel mid-dump: finish it here. */
		if (!nl_buf_ends_dump(nl->buf, (size_t)n))
			nl_drain(nl);
		if (ctx.intr)
			return -EINTR;
		return -err;
	}
}

/*
 * Errors after which the socket may hold the rest of a lost dump (or is
 * gone, after a failed reopen): only a fresh socket is sure to be clean.
 */
static bool nl_error_needs_reopen(int err)
{
	return err == -ENOBUFS || err == -ENOSPC || err == -EPROTO || err == -ESRCH ||
	       err == -ETIMEDOUT || err == -EBUSY || err == -EBADF;
}

/* Errors that a second try can cure. A timeout is not one: it would only wait again. */
static bool nl_error_retryable(int err)
{
	return err == -EINTR || (err != -ETIMEDOUT && nl_error_needs_reopen(err));
}

/**
 * nlsock_dump_retry - after a failed dump, reopen if needed and say whether to redo it
 * @nl: the transport the dump ran on
 * @err: the dump's -errno; replaced by nlsock_reopen's when the reopen fails
 * @attempt: tries so far, from 0; past NL_DUMP_RETRIES the dump is given up
 *
 * Return: true to redo the dump from scratch, false to give up with *err.
 */
bool nlsock_dump_retry(struct nlsock *nl, int *err, int attempt)
{
	if (nl_error_needs_reopen(*err)) {
		int r = nlsock_reopen(nl);

		if (r < 0) {
			*err = r;
			return false;
		}
	}
	return nl_error_retryable(*err) && attempt < NL_DUMP_RETRIES;
}

/**
 * nlsock_parse_buffer - walk recorded netlink messages as nlsock_dump walks a live dump
 * @buf: netlink messages, one or more recv() worth concatenated; any alignment
 * @len: bytes in buf
 * @cb: called for each data message (type >= NLMSG_MIN_TYPE)
 * @data: passed to cb
 * @cut_off: set to 1 when bytes at the end do not form a whole message, else 0
 *
 * Return: 1 when NLMSG_DONE or an ACK ended the dump, 0 when more is
 * expected (or cb returned MNL_CB_STOP), -EINTR for a message flagged
 * NLM_F_DUMP_INTR, the -errno of an NLMSG_ERROR, -EBADMSG when buf does not
 * start with a netlink message, -EMSGSIZE, -ENOMEM, or the errno cb set.
 */
int nlsock_parse_buffer(const void *buf, size_t len, mnl_cb_t cb, void *data,
		    unsigned int *cut_off)
{
	const struct nlmsghdr *nlh;
	size_t seen = 0;
	void *copy = NULL;
	int rem, r, ret = 0;

	*cut_off = 0;
	if (len == 0)
		return 0;
	if (len > INT32_MAX)
		return -EMSGSIZE;
	/*
	 * A caller's buffer need not be 4-byte aligned: walk a private copy of
	 * one that is not. The walk only reads, so an aligned one (a message
	 * straight from a receive buffer) is walked where it is, with no copy.
	 */
	if ((uintptr_t)buf % NLMSG_ALIGNTO == 0) {
		nlh = buf;
	} else {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
		nlh = copy;
	}
	rem = (int)len;
	for (; nl_msg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem), seen++) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			ret = -EINTR;
			goto out;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			/* A dump the kernel cut short ends in a DONE that carries the error. */
			r = nlsock_msg_status(nlh, NULL);
			ret = r < 0 ? r : 1;
			goto out;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			r = nlsock_msg_status(nlh, NULL);
			ret = r < 0 ? r : 1;    /* an ACK also ends a request */
			goto out;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;       /* NOOP, OVERRUN: nothing to parse */
		errno = 0;
		r = cb(nlh, data);
		if (r == MNL_CB_ERROR) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
		if (r == MNL_CB_STOP)
			goto out;
	}
	if (rem > 0) {
		if (seen == 0)
			ret = -EBADMSG;         /* not netlink at all */
		else
			*cut_off = 1;           /* a cut-off last message */
	}
out:
	free(copy);
	return ret;
}
