/* links.c: per-interface receive counters (packets, drops, missed, FIFO) from rtnetlink via libnl-route-3's link cache. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/*
 * libnl's own struct nl_sock (netlink/socket.h) shares its name with the
 * transport in include/nl.h: this file uses libnl only and never includes nl.h.
 */
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>

#include "links.h"

/* As in nl.c: a kernel that stops answering must not freeze the daemon's tick. */
#define LINKS_RECV_TIMEOUT_SEC 5
/*
 * A link dump is flagged interrupted when an interface came or went while it
 * ran; redo it this many times, then keep what came back (see links_read).
 */
#define LINKS_RETRIES 3

struct links {
	struct nl_sock *sk;
	struct nl_cache *cache;
	bool intr;              /* the last dump carried NLM_F_DUMP_INTR */
};

/*
 * libnl reports errors as negative NLE_* codes, and maps the errno of a
 * failed system call to one of them (nl_syserr2nlerr) on the way, losing
 * detail (ENOBUFS becomes NLE_NOMEM, for example). Map back to the closest
 * errno so callers see one error space; nl_geterror(nle) has the libnl text.
 */
static int links_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:           return 0;
	case NLE_INTR:              return -EINTR;
	case NLE_BAD_SOCK:          return -EBADF;
	case NLE_AGAIN:             return -ETIMEDOUT;   /* SO_RCVTIMEO ran out (links_connect) */
	case NLE_NOMEM:             return -ENOMEM;
	case NLE_EXIST:             return -EEXIST;
	case NLE_INVAL:             return -EINVAL;
	case NLE_RANGE:             return -ERANGE;
	case NLE_MSGSIZE:           return -EMSGSIZE;
	case NLE_OPNOTSUPP:         return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:      return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:      return -ENOENT;
	case NLE_NOADDR:            return -EADDRNOTAVAIL;
	case NLE_SEQ_MISMATCH:      return -EPROTO;      /* a reply that is not ours */
	case NLE_MSG_OVERFLOW:      return -EOVERFLOW;
	case NLE_MSG_TRUNC:         return -EMSGSIZE;
	case NLE_MSG_TOOSHORT:      /* messages we cannot parse */
	case NLE_PARSE_ERR:
	case NLE_ATTRSIZE:
	case NLE_MISSING_ATTR:      return -EBADMSG;
	case NLE_MSGTYPE_NOSUPPORT: return -EOPNOTSUPP;
	case NLE_BUSY:              return -EBUSY;
	case NLE_PROTO_MISMATCH:    return -EPROTONOSUPPORT;
	case NLE_NOACCESS:          return -EACCES;
	case NLE_PERM:              return -EPERM;
	case NLE_NODEV:             return -ENODEV;
	case NLE_DUMP_INTR:         return -EINTR;
	default:                    return -EIO;         /* NLE_FAILURE and the rest */
	}
}

/* Called by libnl for a message flagged NLM_F_DUMP_INTR, in place of its own handling. */
static int links_dump_intr_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(bool *)arg = true;
	/*
	 * NL_OK: read the dump to its end and let nl_cache_refill return.
	 * libnl's default would restart the dump inside nl_cache_refill with no
	 * limit; links_read redoes it a bounded number of times instead.
	 */
	return NL_OK;
}

/* A connected NETLINK_ROUTE socket with a receive timeout. Return: 0 or -errno. */
static int links_connect(struct links *lk)
{
	struct timeval tv = { .tv_sec = LINKS_RECV_TIMEOUT_SEC, .tv_usec = 0 };
	int r;

	lk->sk = nl_socket_alloc();
	if (!lk->sk)
		return -ENOMEM;
	r = nl_socket_modify_cb(lk->sk, NL_CB_DUMP_INTR, NL_CB_CUSTOM, links_dump_intr_cb, &lk->intr);
	if (r < 0)
		goto out_sock;
	r = nl_connect(lk->sk, NETLINK_ROUTE);
	if (r < 0)
		goto out_sock;
	/* libnl turns the timeout's EAGAIN into NLE_AGAIN: see links_errno. */
	if (setsockopt(nl_socket_get_fd(lk->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		nl_socket_free(lk->sk);
		lk->sk = NULL;
		return r;
	}
	return 0;

out_sock:
	nl_socket_free(lk->sk);
	lk->sk = NULL;
	return links_errno(r);
}

/**
 * links_open - connect to rtnetlink and fill the link cache once
 * @out: set to the new handle, NULL on failure
 *
 * Return: 0 or -errno.
 */
int links_open(struct links **out)
{
	struct links *lk;
	int r;

	*out = NULL;
	lk = calloc(1, sizeof(*lk));
	if (!lk)
		return -ENOMEM;
	r = links_connect(lk);
	if (r < 0)
		goto out_free;
	r = rtnl_link_alloc_cache(lk->sk, AF_UNSPEC, &lk->cache);
	if (r < 0) {
		r = links_errno(r);
		goto out_sock;
	}
	*out = lk;
	return 0;

out_sock:
	nl_socket_free(lk->sk);
out_free:
	free(lk);
	return r;
}

/** links_close - free the cache and the socket; NULL is fine. */
void links_close(struct links *lk)
{
	if (!lk)
		return;
	if (lk->cache)
		nl_cache_free(lk->cache);
	if (lk->sk)
		nl_socket_free(lk->sk);
	free(lk);
}

/*
 * Insert st into out, kept sorted by ifindex. When more than LINKS_MAX links
 * exist, the lowest ifindexes are kept whatever the cache order: those are
 * the oldest interfaces (the host's NICs), not the containers' veths that
 * come and go.
 */
static void links_insert(struct link_table *out, const struct link_stat *st)
{
	size_t i = out->count;

	if (i == LINKS_MAX) {
		if (st->ifindex >= out->items[LINKS_MAX - 1].ifindex)
			return;
		i--;            /* the highest ifindex makes room */
	} else {
		out->count++;
	}
	while (i > 0 && out->items[i - 1].ifindex > st->ifindex) {
		out->items[i] = out->items[i - 1];
		i--;
	}
	out->items[i] = *st;
}

/*
 * Refill the cache, redoing a dump that an interface change interrupted.
 * Return: 0 or -errno; on error the cache holds a partial dump.
 */
static int links_refill(struct links *lk)
{
	int r = 0;

	for (int attempt = 0; attempt <= LINKS_RETRIES; attempt++) {
		lk->intr = false;
		r = nl_cache_refill(lk->sk, lk->cache);
		if (r < 0)
			return links_errno(r);
		if (!lk->intr)
			return 0;
	}
	/*
	 * Interfaces kept changing under every dump (a host starting many
	 * containers). Each link's counters are still its own, only a link
	 * may be missing or stale: better than no data at all.
	 */
	return 0;
}

/**
 * links_read - refill the link cache and copy every link's receive counters
 * @lk: the handle
 * @out: overwritten; sorted by ifindex, at most LINKS_MAX links
 *
 * After an error the socket is replaced by a fresh one, so that the rest of
 * a lost dump is never read as the answer to the next request.
 *
 * Return: 0 or -errno (out is then empty).
 */
int links_read(struct links *lk, struct link_table *out)
{
	struct nl_object *obj;
	int r;

	out->count = 0;
	if (!lk->sk) {
		r = links_connect(lk);
		if (r < 0)
			return r;
	}
	r = links_refill(lk);
	if (r < 0) {
		nl_socket_free(lk->sk);
		lk->sk = NULL;  /* reconnected on the next read */
		nl_cache_clear(lk->cache);
		return r;
	}
	for (obj = nl_cache_get_first(lk->cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *link = (struct rtnl_link *)obj;
		const char *name = rtnl_link_get_name(link);
		struct link_stat st;

		memset(&st, 0, sizeof(st));
		st.ifindex = rtnl_link_get_ifindex(link);
		if (name) {
			/* IFNAMSIZ is LINK_NAME_MAX (16); cut anything longer, keep it terminated. */
			strncpy(st.name, name, sizeof(st.name) - 1);
		}
		st.rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
		st.rx_dropped = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
		st.rx_missed_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_MISSED_ERR);
		st.rx_fifo_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_FIFO_ERR);
		links_insert(out, &st);
	}
	return 0;
}
