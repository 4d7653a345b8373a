/* sockdiag.c: every TCP listener's accept queue, backlog and drops from NETLINK_SOCK_DIAG. */
#include "base.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "compat.h"
#include "nl.h"
#include "sockdiag.h"
#include "sort.h"
#include "sockdiag_int.h"	/* internal: for the deep dump in deep.c */

/* Headers older than 5.8 stop before INET_DIAG_CGROUP_ID: size the table for it anyway. */
#if INET_DIAG_MAX > BACKLOGD_INET_DIAG_CGROUP_ID
#define SOCKDIAG_ATTR_MAX INET_DIAG_MAX
#else
#define SOCKDIAG_ATTR_MAX BACKLOGD_INET_DIAG_CGROUP_ID
#endif

struct cookie_pos {
	uint64_t cookie;
	size_t pos;
};

/* The dedup's working arrays, kept so that a steady dump allocates nothing. */
struct dedup_scratch {
	struct cookie_pos *cp;
	bool *drop;
	size_t cap;
};

struct sockdiag {
	struct nlsock nl;
	struct dedup_scratch dd;
};

/* The attributes of one inet_diag message, and whether they were sound. */
struct sockdiag_attrs {
	const struct nlattr *tb[SOCKDIAG_ATTR_MAX + 1];
	const char *end;        /* just past the last attribute accepted */
	bool bad;
};

/*
 * Check the attributes we read. Types above the ones this build knows are
 * ignored: a newer kernel adding one is not an error. Known types we do not
 * read need no check beyond the bounds mnl_attr_parse already enforces.
 */
static int sockdiag_attr_cb(const struct nlattr *attr, void *data)
{
	struct sockdiag_attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);
	uint16_t plen = mnl_attr_get_payload_len(attr);

	a->end = (const char *)attr + MNL_ALIGN(attr->nla_len);
	if (type > SOCKDIAG_ATTR_MAX)
		return MNL_CB_OK;
	switch (type) {
	case INET_DIAG_SKMEMINFO:
		/*
		 * An array of u32 that grows with the kernel (drops came in 4.7),
		 * so check the element size, not an exact length (which is what
		 * mnl_attr_validate2 would demand).
		 */
		if (plen % sizeof(uint32_t) != 0)
			goto bad;
		break;
	case BACKLOGD_INET_DIAG_CGROUP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			goto bad;
		break;
	default:
		break;
	}
	a->tb[type] = attr;
	return MNL_CB_OK;

bad:
	a->bad = true;
	/* Stop here: the entry will be skipped whatever follows. */
	return MNL_CB_STOP;
}

/*
 * Parse the attributes after the inet_diag_msg. mnl_attr_parse stops
 * silently at an attribute whose length runs past the message, so check
 * that the walk reached the end of the message: if not, the entry is
 * malformed. Return: true when every attribute was well-formed.
 */
static bool sockdiag_parse_attrs(const struct nlmsghdr *nlh, struct sockdiag_attrs *a)
{
	const char *tail = (const char *)nlh + nlh->nlmsg_len;

	memset(a, 0, sizeof(*a));
	a->end = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct inet_diag_msg));
	if (mnl_attr_parse(nlh, sizeof(struct inet_diag_msg), sockdiag_attr_cb, a) < 0 || a->bad)
		return false;
	/* Up to 3 bytes of padding may follow the last attribute; a header cannot. */
	return tail - a->end < (ptrdiff_t)sizeof(struct nlattr);
}

/* Copy the fields of one listener out of a checked message and its attributes. */
static void sockdiag_fill(struct listener *l, const struct inet_diag_msg *m,
			  const struct sockdiag_attrs *a)
{
	const struct nlattr *mem = a->tb[INET_DIAG_SKMEMINFO];
	const struct nlattr *cg = a->tb[BACKLOGD_INET_DIAG_CGROUP_ID];

	l->family = m->idiag_family;
	l->port = ntohs(m->id.idiag_sport);
	/* Both sizes fit idiag_src (4 x __be32) and l->addr (16 bytes). */
	if (m->idiag_family == AF_INET)
		memcpy(l->addr, m->id.idiag_src, 4);
	else
		memcpy(l->addr, m->id.idiag_src, 16);
	l->queue = m->idiag_rqueue;
	l->backlog = m->idiag_wqueue;
	l->inode = m->idiag_inode;
	l->uid = m->idiag_uid;
	l->cookie = (uint64_t)m->id.idiag_cookie[0] |
		    (uint64_t)m->id.idiag_cookie[1] << 32;
	if (mem && mnl_attr_get_payload_len(mem) >= (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
		uint32_t v;

		memcpy(&v, (const char *)mnl_attr_get_payload(mem) +
		       SK_MEMINFO_DROPS * sizeof(uint32_t), sizeof(v));
		l->drops = v;
		l->has_drops = true;
	}
	if (cg)
		l->cgroup_id = mnl_attr_get_u64(cg);
}

/*
 * The one per-message parser, for live dumps and recorded buffers alike.
 * A malformed entry is counted in out->skipped and passed over, never
 * fatal to the dump. Return: MNL_CB_OK, or MNL_CB_ERROR (errno ENOMEM).
 */
int sockdiag_listener_cb(const struct nlmsghdr *nlh, void *data)
{
	struct listener_set *out = data;
	const struct inet_diag_msg *m;
	struct sockdiag_attrs a;
	struct inet_diag_msg copy;
	struct listener *l;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
		goto skip;
	/* Work on a copy: aligned for the struct whatever buffer it came in. */
	memcpy(&copy, mnl_nlmsg_get_payload(nlh), sizeof(copy));
	m = &copy;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		goto skip;
	/* A LISTEN dump returns listeners only; anything else is not ours to count. */
	if (m->idiag_state != TCP_LISTEN)
		return MNL_CB_OK;
	if (!sockdiag_parse_attrs(nlh, &a))
		goto skip;
	l = listener_set_add(out);
	if (!l) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	sockdiag_fill(l, m, &a);
	return MNL_CB_OK;

skip:
	out->skipped++;
	return MNL_CB_OK;
}

static int cookie_pos_cmp(const void *pa, const void *pb)
{
	const struct cookie_pos *a = pa, *b = pb;

	if (a->cookie != b->cookie)
		return a->cookie < b->cookie ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/*
 * A port's few listeners (sockdiag_parse fed one message at a time) are
 * deduplicated on the stack; only a larger set uses the scratch.
 */
#define DEDUP_STACK 32

static void dedup_scratch_free(struct dedup_scratch *dd)
{
	free(dd->cp);
	free(dd->drop);
	memset(dd, 0, sizeof(*dd));
}

/* Room for n entries; it only ever grows. Return: 0 or -ENOMEM (dd still valid). */
static int dedup_scratch_reserve(struct dedup_scratch *dd, size_t n)
{
	struct cookie_pos *cp;
	bool *drop;
	size_t cap;

	if (n <= dd->cap)
		return 0;
	/* Doubling: a host adding listeners one by one does not realloc per tick. */
	cap = dd->cap ? dd->cap : DEDUP_STACK;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*cp))
			return -ENOMEM;
		cap *= 2;
	}
	cp = realloc(dd->cp, cap * sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	dd->cp = cp;
	drop = realloc(dd->drop, cap * sizeof(*drop));
	if (!drop)
		return -ENOMEM;
	dd->drop = drop;
	dd->cap = cap;
	return 0;
}

/*
 * inet_diag resumes a dump by position, so a socket can be seen twice
 * across recv() calls. Keep the last copy of each cookie (the newer
 * value), in dump order. Sorting keeps this O(n log n) for hosts with
 * many thousands of listeners. Return: 0 or -ENOMEM.
 */
static int sockdiag_dedup(struct listener_set *set, struct dedup_scratch *dd)
{
	struct cookie_pos small_cp[DEDUP_STACK];
	bool small_drop[DEDUP_STACK];
	struct cookie_pos *cp = small_cp;
	bool *drop = small_drop;
	size_t i, kept;

	if (set->count < 2)
		return 0;
	if (set->count > DEDUP_STACK) {
		if (dedup_scratch_reserve(dd, set->count) < 0)
			return -ENOMEM;
		cp = dd->cp;
		drop = dd->drop;
	}
	memset(drop, 0, set->count * sizeof(*drop));
	for (i = 0; i < set->count; i++) {
		cp[i].cookie = set->items[i].cookie;
		cp[i].pos = i;
	}
	sort_inplace(cp, set->count, sizeof(*cp), cookie_pos_cmp);
	for (i = 0; i + 1 < set->count; i++)
		if (cp[i].cookie == cp[i + 1].cookie)
			drop[cp[i].pos] = true;
	for (i = kept = 0; i < set->count; i++)
		if (!drop[i])
			set->items[kept++] = set->items[i];
	set->count = kept;
	return 0;
}

/**
 * sockdiag_parse - parse a recorded inet_diag dump
 * @buf: netlink messages, one or more recv() worth concatenated
 * @len: bytes in buf
 * @out: listeners are appended here; duplicates by cookie are collapsed
 *
 * Uses the same per-message parser as the live dump, and nl.c's walk over
 * the messages. Bytes at the end that do not form a whole message (a cut
 * recording) count as one skipped entry. The status an NLMSG_DONE carries
 * is not read: DONE ends the dump with 1 whatever it holds.
 *
 * Return: 1 when NLMSG_DONE was seen, 0 when more is expected, -errno from
 * an NLMSG_ERROR, -EINTR for a dump flagged interrupted, -EBADMSG when buf
 * does not start with a netlink message, -EMSGSIZE, -ENOMEM.
 */
int sockdiag_parse(const void *buf, size_t len, struct listener_set *out)
{
	unsigned int cut_off;
	int r, ret;

	/* Nothing read: out is left exactly as it was, not even deduplicated. */
	if (len == 0)
		return 0;
	ret = nlsock_parse_buffer(buf, len, sockdiag_listener_cb, out, &cut_off);
	out->skipped += cut_off;
	if (ret >= 0) {
		/* No handle to keep scratch in: a large recording's is freed here. */
		struct dedup_scratch dd = { NULL, NULL, 0 };

		r = sockdiag_dedup(out, &dd);
		dedup_scratch_free(&dd);
		if (r < 0)
			ret = r;
	}
	return ret;
}

/**
 * sockdiag_open - open the NETLINK_SOCK_DIAG socket used for every dump
 * @out: set to the new handle
 *
 * Return: 0 or -errno.
 */
int sockdiag_open(struct sockdiag **out)
{
	struct sockdiag *sd;
	int r;

	*out = NULL;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	r = nlsock_open(&sd->nl, NETLINK_SOCK_DIAG);
	if (r < 0) {
		free(sd);
		return r;
	}
	*out = sd;
	return 0;
}

/** sockdiag_close - close the handle; NULL is fine. */
void sockdiag_close(struct sockdiag *sd)
{
	if (!sd)
		return;
	nlsock_close(&sd->nl);
	dedup_scratch_free(&sd->dd);
	free(sd);
}

/**
 * sockdiag_dump_tcp - one inet_diag dump of the TCP sockets of one family
 * @nl: the transport
 * @family: AF_INET or AF_INET6
 * @states: the TCP states wanted, one bit per state (idiag_states)
 * @ext: the extensions wanted, bit (INET_DIAG_x - 1) each (idiag_ext)
 * @cb: called for every reply message
 * @data: passed to cb
 *
 * Return: as nlsock_dump.
 */
int sockdiag_dump_tcp(struct nlsock *nl, uint8_t family, uint32_t states, uint8_t ext,
		      mnl_cb_t cb, void *data)
{
	char buf[SOCKDIAG_TCP_REQ_SIZE] __attribute__((aligned(4)));

	return nlsock_dump(nl, sockdiag_tcp_request(buf, sizeof(buf), family, states, ext), cb, data);
}

/**
 * sockdiag_tcp_request - an inet_diag dump request for the TCP sockets of one family
 * @buf: size bytes, at least SOCKDIAG_TCP_REQ_SIZE, aligned for a struct nlmsghdr; zeroed here
 * @size: bytes in buf: room for attributes put after the request
 * @family: AF_INET or AF_INET6
 * @states: the TCP states wanted, one bit per state (idiag_states)
 * @ext: the extensions wanted, bit (INET_DIAG_x - 1) each (idiag_ext)
 *
 * Return: the request, at the start of buf.
 */
struct nlmsghdr *sockdiag_tcp_request(void *buf, size_t size, uint8_t family, uint32_t states,
				      uint8_t ext)
{
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = states;
	req->idiag_ext = ext;
	return nlh;
}

/*
 * One LISTEN-only dump of one family: it walks only the listening hash.
 * Only SKMEMINFO is asked for (the drop count): INET_DIAG_INFO would have
 * the kernel fill a struct tcp_info per listener for nothing the tick
 * reads (queue and backlog are in the header).
 */
static int sockdiag_dump_family(struct sockdiag *sd, uint8_t family, void *arg,
				struct listener_set *out)
{
	(void)arg;
	return sockdiag_dump_tcp(&sd->nl, family, 1U << TCP_LISTEN,
				 SOCKDIAG_LISTEN_EXT, sockdiag_listener_cb, out);
}

/**
 * sockdiag_dump_families - a listener dump of both families, retried whole
 * @sd: the handle
 * @dump_family: makes the dump of one family into out (appending)
 * @arg: passed to dump_family
 * @dedup: drop repeated cookies (the later entry stays)
 * @out: cleared, then filled; empty again on error
 *
 * IPv4 then IPv6 (a kernel without IPv6 has no IPv6 listeners: not an
 * error), then duplicates by cookie dropped when asked. ENOBUFS and interrupted dumps
 * are redone from scratch (after a reopen where needed) at most
 * NL_DUMP_RETRIES times.
 *
 * Return: 0 or -errno.
 */
int sockdiag_dump_families(struct sockdiag *sd, sockdiag_family_fn dump_family, void *arg,
			   bool dedup, struct listener_set *out)
{
	int r, attempt;

	for (attempt = 0;; attempt++) {
		listener_set_clear(out);
		r = dump_family(sd, AF_INET, arg, out);
		if (r == 0) {
			r = dump_family(sd, AF_INET6, arg, out);
			if (r == -EAFNOSUPPORT || r == -ENOENT)
				r = 0;
		}
		if (r == 0 && dedup)
			r = sockdiag_dedup(out, &sd->dd);
		if (r == 0)
			return 0;
		if (!nlsock_dump_retry(&sd->nl, &r, attempt))
			break;
	}
	listener_set_clear(out);
	return r;
}

/**
 * sockdiag_dump_listeners - dump every TCP listener, IPv4 then IPv6
 * @sd: the handle
 * @out: cleared, then filled; empty again on error
 *
 * ENOBUFS and interrupted dumps are redone from scratch (after a reopen
 * where needed) at most NL_DUMP_RETRIES times.
 *
 * Return: 0 or -errno.
 */
int sockdiag_dump_listeners(struct sockdiag *sd, struct listener_set *out)
{
	return sockdiag_dump_families(sd, sockdiag_dump_family, NULL, true, out);
}

/**
 * sockdiag_dump_listeners_raw - sockdiag_dump_listeners without the dedup
 * @sd: the handle
 * @out: cleared, then filled; empty again on error
 *
 * For a caller that matches listeners by cookie anyway (track_update keeps
 * a repeated cookie's later entry): no sort and no scratch as big as the
 * dump on every tick.
 *
 * Return: 0 or -errno.
 */
int sockdiag_dump_listeners_raw(struct sockdiag *sd, struct listener_set *out)
{
	return sockdiag_dump_families(sd, sockdiag_dump_family, NULL, false, out);
}

/** sockdiag_ext_ack - the kernel's extended ACK of the last failed dump, "" when none */
const char *sockdiag_ext_ack(const struct sockdiag *sd)
{
	return nlsock_ext_ack(&sd->nl);
}

/** sockdiag_nl - the handle's transport, for the deep dump (sockdiag_int.h). */
struct nlsock *sockdiag_nl(struct sockdiag *sd)
{
	return &sd->nl;
}
