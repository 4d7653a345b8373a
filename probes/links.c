/* links.c: per-interface receive counters (packets, drops, missed, FIFO) from an RTM_GETSTATS dump on nl.c, named from a cached RTM_GETLINK dump, their attributes checked by libnl-3's policies. */
#include "base.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/*
 * nl.c does the I/O; libnl-3 only parses what it received (nlmsg_parse and
 * nla_*, which allocate nothing). The transport's names (struct nlsock,
 * nlsock_*) are its own: libnl exports nl_close(), nl_dump() and a struct
 * nl_sock, which a program's functions of the same name would replace for
 * libnl's own calls.
 */
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "links.h"
#include "nl.h"

/*
 * A read is an RTM_GETSTATS dump of the 64-bit counters alone: the kernel
 * fills some 200 bytes per link where an RTM_GETLINK dump fills dozens of
 * attributes (rtnl_fill_ifinfo), which on a host with hundreds of veths
 * was most of a quiet tick. The names come from the last RTM_GETLINK dump,
 * made again whenever the stats name an ifindex set other than its own
 * (or a counter falls), and one read in LINKS_NAMES_EVERY.
 */
struct links {
	struct nlsock nl;      /* NETLINK_ROUTE, its receive buffer reused by every dump */
	/*
	 * The last read's table, names from the last RTM_GETLINK dump: the
	 * same LINKS_MAX lowest ifindexes as a stats dump keeps.
	 */
	struct link_table known;
	bool known_valid;      /* false until a link dump succeeds whole */
	bool no_getstats;      /* the kernel refused RTM_GETSTATS (before 4.7): link dumps only */
	unsigned int stats_reads;       /* since the last link dump */
	unsigned long link_dumps;
};

/* The highest attribute read; a newer kernel's higher ones are skipped by nla_parse. */
#define LINKS_ATTR_MAX IFLA_STATS64
_Static_assert(IFLA_IFNAME <= LINKS_ATTR_MAX && IFLA_STATS <= LINKS_ATTR_MAX,
	       "tb[] must hold every attribute read");

/*
 * The stats structs grew over the years (rx_nohandler, rx_otherhost_dropped)
 * and may grow again: ask for the fields read here, not for this build's
 * sizeof, or an older kernel's every link would be refused.
 */
#define LINKS_STATS64_MIN (offsetof(struct rtnl_link_stats64, rx_missed_errors) + \
			   sizeof(((struct rtnl_link_stats64 *)0)->rx_missed_errors))
#define LINKS_STATS32_MIN (offsetof(struct rtnl_link_stats, rx_missed_errors) + \
			   sizeof(((struct rtnl_link_stats *)0)->rx_missed_errors))
_Static_assert(offsetof(struct rtnl_link_stats64, rx_fifo_errors) < LINKS_STATS64_MIN &&
	       offsetof(struct rtnl_link_stats64, rx_dropped) < LINKS_STATS64_MIN &&
	       offsetof(struct rtnl_link_stats, rx_fifo_errors) < LINKS_STATS32_MIN &&
	       offsetof(struct rtnl_link_stats, rx_dropped) < LINKS_STATS32_MIN,
	       "rx_missed_errors must be the last field read");

/*
 * nla_parse checks every attribute of these types before the message is
 * used: a name that is not NUL-terminated, or stats shorter than the fields
 * read, make it fail, and the whole link is skipped. Types in range without
 * an entry (NLA_UNSPEC, minlen 0) are not checked: they are not read.
 */
static const struct nla_policy links_policy[LINKS_ATTR_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING },
	[IFLA_STATS] = { .minlen = LINKS_STATS32_MIN },
	[IFLA_STATS64] = { .minlen = LINKS_STATS64_MIN },
};

/*
 * Insert st into out, kept sorted by ifindex. When more than LINKS_MAX links
 * exist, the lowest ifindexes are kept whatever the dump order: those are
 * the oldest interfaces (the host's NICs), not the containers' veths that
 * come and go. A link already in the table (a recording fed twice) is
 * replaced, never listed twice.
 */
static void links_insert(struct link_table *out, const struct link_stat *st)
{
	size_t i;

	for (i = 0; i < out->count; i++)
		if (out->items[i].ifindex == st->ifindex) {
			out->items[i] = *st;
			return;
		}
	i = out->count;
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
 * The four receive counters from a stats attribute of type TYPE (struct
 * rtnl_link_stats64, or rtnl_link_stats from a kernel or driver that sends
 * no 64-bit ones): both name them alike, only the width differs. The
 * policy made sure the attribute holds all four. A copy, not a cast: the
 * kernel aligns attributes to 4 bytes only.
 */
#define LINKS_TAKE_RX(TYPE, st, nla)					\
	do {								\
		TYPE s_;						\
									\
		memset(&s_, 0, sizeof(s_));				\
		nla_memcpy(&s_, (nla), (int)sizeof(s_));		\
		(st)->rx_packets = s_.rx_packets;			\
		(st)->rx_dropped = s_.rx_dropped;			\
		(st)->rx_missed_errors = s_.rx_missed_errors;		\
		(st)->rx_fifo_errors = s_.rx_fifo_errors;		\
	} while (0)

/*
 * nla_parse stops without a word at an attribute that overruns the message
 * (or is shorter than its own header), leaving the attributes after it
 * unseen: walk the stream again and call the message malformed unless the
 * walk ends where the message does.
 */
static bool links_attrs_whole(const struct nlmsghdr *nlh, size_t hdrlen)
{
	const struct nlattr *nla;
	int rem;

	nlmsg_for_each_attr(nla, nlh, (int)hdrlen, rem)
		;
	/* Below 0: the last attribute's padding is past an unaligned nlmsg_len. */
	return rem <= 0;
}

/*
 * One RTM_NEWLINK of the dump into the table. A malformed one (a payload
 * shorter than ifinfomsg, an attribute that overruns the message or fails
 * the policy, bytes after the last attribute, no valid ifindex) is skipped, never the whole dump: the table
 * only ever receives whole entries.
 */
static int links_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_table *out = data;
	struct nlattr *tb[LINKS_ATTR_MAX + 1];
	const struct ifinfomsg *ifi;
	struct link_stat st;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	/*
	 * libnl's parser takes a non-const header but only reads it. It checks
	 * that the payload holds an ifinfomsg, then walks the attributes within
	 * nlmsg_len (which libmnl checked against the bytes received).
	 */
	if (nlmsg_parse((struct nlmsghdr *)nlh, (int)sizeof(*ifi), tb, LINKS_ATTR_MAX,
			links_policy) < 0 || !links_attrs_whole(nlh, sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_index <= 0)
		return MNL_CB_OK;       /* the kernel numbers links from 1 */

	memset(&st, 0, sizeof(st));
	st.ifindex = ifi->ifi_index;
	/* IFNAMSIZ is LINK_NAME_MAX (16); cut anything longer, keep it terminated. */
	if (tb[IFLA_IFNAME])
		nla_strlcpy(st.name, tb[IFLA_IFNAME], sizeof(st.name));
	/* As libnl-route's link cache did: 64-bit counters first, then 32-bit, else none. */
	if (tb[IFLA_STATS64])
		LINKS_TAKE_RX(struct rtnl_link_stats64, &st, tb[IFLA_STATS64]);
	else if (tb[IFLA_STATS])
		LINKS_TAKE_RX(struct rtnl_link_stats, &st, tb[IFLA_STATS]);
	links_insert(out, &st);
	return MNL_CB_OK;
}

/* The highest attribute of an RTM_NEWSTATS read; the others asked for none. */
#define LINKS_STATS_ATTR_MAX IFLA_STATS_LINK_64

/* As links_policy: the 64-bit counters must hold every field read. */
static const struct nla_policy links_stats_policy[LINKS_STATS_ATTR_MAX + 1] = {
	[IFLA_STATS_LINK_64] = { .minlen = LINKS_STATS64_MIN },
};

/*
 * One RTM_NEWSTATS of a stats dump into the table, its name left empty.
 * Skipped as links_msg_cb skips: a payload shorter than if_stats_msg, an
 * attribute that overruns the message or fails the policy, bytes after the
 * last attribute, no valid ifindex; and no IFLA_STATS_LINK_64, the one
 * thing asked for (IFLA_STATS_UNSPEC, the kernel's 64-bit alignment
 * padding, is passed over).
 */
static int links_stats_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_table *out = data;
	struct nlattr *tb[LINKS_STATS_ATTR_MAX + 1];
	const struct if_stats_msg *ifsm;
	struct link_stat st;

	if (nlh->nlmsg_type != RTM_NEWSTATS)
		return MNL_CB_OK;
	if (nlmsg_parse((struct nlmsghdr *)nlh, (int)sizeof(*ifsm), tb, LINKS_STATS_ATTR_MAX,
			links_stats_policy) < 0 || !links_attrs_whole(nlh, sizeof(*ifsm)) ||
	    !tb[IFLA_STATS_LINK_64])
		return MNL_CB_OK;
	ifsm = nlmsg_data(nlh);
	if (ifsm->ifindex == 0 || ifsm->ifindex > INT_MAX)
		return MNL_CB_OK;

	memset(&st, 0, sizeof(st));
	st.ifindex = (int)ifsm->ifindex;
	LINKS_TAKE_RX(struct rtnl_link_stats64, &st, tb[IFLA_STATS_LINK_64]);
	links_insert(out, &st);
	return MNL_CB_OK;
}

/**
 * links_open - open the NETLINK_ROUTE socket used for every read
 * @out: set to the new handle, NULL on failure
 *
 * The receive buffer is allocated here, once: a read allocates nothing.
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
	r = nlsock_open(&lk->nl, NETLINK_ROUTE);
	if (r < 0) {
		free(lk);
		return r;
	}
	*out = lk;
	return 0;
}

/** links_close - close the socket and free the handle; NULL is fine. */
void links_close(struct links *lk)
{
	if (!lk)
		return;
	nlsock_close(&lk->nl);
	free(lk);
}

/*
 * One RTM_GETLINK dump of every link into out. AF_UNSPEC: one message per
 * link, with its generic counters. No IFLA_EXT_MASK: its default (0)
 * already leaves VF data out, and RTEXT_FILTER_SKIP_STATS would drop the
 * counters, which a link dump's read takes with its names.
 */
static int links_dump(struct links *lk, struct link_table *out)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return nlsock_dump(&lk->nl, nlh, links_msg_cb, out);
}

/*
 * One RTM_GETSTATS dump of every link's struct rtnl_link_stats64 alone
 * into out, as `ip stats show group link` asks: ifindex 0 (every link),
 * zero padding (checked by a strict kernel).
 */
static int links_stats_dump(struct links *lk, struct link_table *out)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct if_stats_msg))];
	struct if_stats_msg *ifsm;
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETSTATS;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifsm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifsm));
	ifsm->family = AF_UNSPEC;
	ifsm->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	return nlsock_dump(&lk->nl, nlh, links_stats_msg_cb, out);
}

/*
 * Run dump into a cleared out; ENOBUFS and interrupted dumps are redone
 * from scratch (after a reopen where needed) at most NL_DUMP_RETRIES
 * times; a socket left with the rest of a lost dump is replaced, so it is
 * never read as the next answer. Return: 0 or the last try's -errno (out
 * holds what that try read).
 */
static int links_dump_retrying(struct links *lk,
			       int (*dump)(struct links *, struct link_table *),
			       struct link_table *out)
{
	int r;

	for (int attempt = 0;; attempt++) {
		out->count = 0;
		r = dump(lk, out);
		if (r == 0 || !nlsock_dump_retry(&lk->nl, &r, attempt))
			return r;
	}
}

/* A counter below the last read's: another interface under the same ifindex. */
static bool links_went_back(const struct link_stat *now, const struct link_stat *before)
{
	return now->rx_packets < before->rx_packets || now->rx_dropped < before->rx_dropped ||
	       now->rx_missed_errors < before->rx_missed_errors ||
	       now->rx_fifo_errors < before->rx_fifo_errors;
}

/*
 * Name a stats dump's links from lk->known, and remember its counters
 * there. Return: false, out's names left empty, when its ifindexes are not
 * exactly the known ones (an interface came or went) or a counter went
 * backwards (an ifindex reused): only a link dump can name them.
 */
static bool links_name_from_known(struct links *lk, struct link_table *out)
{
	struct link_table *k = &lk->known;

	if (out->count != k->count)
		return false;
	for (size_t i = 0; i < out->count; i++)
		if (out->items[i].ifindex != k->items[i].ifindex ||
		    links_went_back(&out->items[i], &k->items[i]))
			return false;
	for (size_t i = 0; i < out->count; i++) {
		memcpy(out->items[i].name, k->items[i].name, sizeof(out->items[i].name));
		k->items[i] = out->items[i];
	}
	return true;
}

/*
 * The stats dump of a read, named from the last link dump. Return: 1 when
 * out is the read's answer, 0 when a link dump must make it, or the stats
 * dump's -errno when a link dump could not do better (out is then empty).
 */
static int links_read_stats(struct links *lk, struct link_table *out)
{
	int r = links_dump_retrying(lk, links_stats_dump, out);

	if (r == 0 && links_name_from_known(lk, out)) {
		lk->stats_reads++;
		return 1;
	}
	/*
	 * A kernel before 4.7 knows no RTM_GETSTATS (EOPNOTSUPP); EINVAL is
	 * one that refuses this request's form. Either way, link dumps still
	 * give every counter. Links that kept coming and going under every
	 * try (EINTR) are for the link dump too.
	 */
	if (r == -EOPNOTSUPP || r == -EINVAL)
		lk->no_getstats = true;
	else if (r < 0 && r != -EINTR) {
		out->count = 0;
		return r;
	}
	return 0;
}

/**
 * links_read - read every link's receive counters
 * @lk: the handle
 * @out: overwritten; sorted by ifindex, at most LINKS_MAX links
 *
 * A steady read is a stats dump alone, named from the last link dump. A
 * link dump (names and counters at once) is made at the first read, one
 * read in LINKS_NAMES_EVERY, when the stats dump names other ifindexes
 * than the last read or a counter of one went backwards, and for good
 * when the kernel has no RTM_GETSTATS.
 *
 * Return: 0 or -errno (out is then empty).
 */
int links_read(struct links *lk, struct link_table *out)
{
	int r;

	if (lk->known_valid && !lk->no_getstats && lk->stats_reads + 1 < LINKS_NAMES_EVERY) {
		r = links_read_stats(lk, out);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	r = links_dump_retrying(lk, links_dump, out);
	lk->link_dumps++;
	lk->stats_reads = 0;
	lk->known_valid = r == 0;
	if (r == 0) {
		lk->known = *out;
		return 0;
	}
	/*
	 * Links kept coming or going under every dump (a host starting many
	 * containers). The links read before the first interrupted message are
	 * whole and their counters their own; only some may be missing this
	 * tick, which is better than none at all. Not a set to name the next
	 * stats from: the next read is a link dump again.
	 */
	if (r == -EINTR)
		return 0;
	out->count = 0;
	return r;
}

/** links_link_dumps - how many RTM_GETLINK dumps links_read has made */
unsigned long links_link_dumps(const struct links *lk)
{
	return lk->link_dumps;
}

/** links_ext_ack - the kernel's extended ACK of the last failed read, "" when none */
const char *links_ext_ack(const struct links *lk)
{
	return nlsock_ext_ack(&lk->nl);
}

/**
 * links_parse - parse a recorded RTM_GETLINK dump
 * @buf: netlink messages, one or more recv() worth concatenated; any alignment
 * @len: bytes in buf
 * @out: links are inserted here as links_read inserts them (sorted, at most
 *       LINKS_MAX, a known ifindex replaced); not cleared first
 *
 * The same per-message parser as the live dump, over nl.c's walk of the
 * messages: a malformed message, or bytes at the end that do not form a
 * whole one (a cut recording), are skipped.
 *
 * Return: 1 when NLMSG_DONE was seen, 0 when more is expected, -EINTR at
 * a message flagged interrupted (those before it are in out), the -errno
 * of an NLMSG_ERROR, -EBADMSG when buf does not start with a netlink
 * message, -EMSGSIZE, -ENOMEM (an unaligned buf is copied).
 */
int links_parse(const void *buf, size_t len, struct link_table *out)
{
	unsigned int cut_off;

	return nlsock_parse_buffer(buf, len, links_msg_cb, out, &cut_off);
}

/**
 * links_parse_stats - parse a recorded RTM_GETSTATS dump
 * @buf: netlink messages, one or more recv() worth concatenated; any alignment
 * @len: bytes in buf
 * @out: links are inserted here as links_read inserts a stats dump's, their
 *       names empty (sorted, at most LINKS_MAX, a known ifindex replaced);
 *       not cleared first
 *
 * The same per-message parser as the live stats dump; what is skipped and
 * returned is as for links_parse.
 *
 * Return: as links_parse.
 */
int links_parse_stats(const void *buf, size_t len, struct link_table *out)
{
	unsigned int cut_off;

	return nlsock_parse_buffer(buf, len, links_stats_msg_cb, out, &cut_off);
}
