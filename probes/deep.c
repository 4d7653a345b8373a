/* deep.c: the deep sock_diag tier: SYN_RECV counts per local address, sockets per remote destination, top memory holders. */
#include "base.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "compat.h"
#include "deep.h"
#include "nl.h"
#include "sockdiag_int.h"

/*
 * TCP states as inet_diag reports them (include/net/tcp_states.h). Named
 * apart from <netinet/tcp.h>'s enum, which compat.h's TCP_LISTEN fallback
 * would clash with. A request socket is reported as SYN_RECV, a time-wait
 * minisocket by its substate: TIME_WAIT, or FIN_WAIT2 for an orphan whose
 * peer has not closed.
 */
enum {
	DEEP_ST_ESTABLISHED = 1,
	DEEP_ST_SYN_SENT = 2,
	DEEP_ST_SYN_RECV = 3,
	DEEP_ST_TIME_WAIT = 6,
};

/*
 * Bounds on memory, whatever the host holds. A request socket is keyed by
 * the local address:port the SYN was sent to, so entries number the busy
 * listening addresses: a few per listener. Sorted insertion costs O(n) per
 * new key, which this cap keeps small.
 */
#define DEEP_SYNRECV_MAX 4096
/*
 * Distinct remote address:ports tallied: 44 bytes each plus 8 bytes of index
 * (11.5 MiB + 2 MiB at the cap). A server's accepted sockets each form a
 * destination of their own, so a host with more peers than this stops
 * adding new destinations; a destination with many sockets (the kind that
 * exhausts ports) is all but sure to have been met before then, since the
 * established hash is walked in hash order, not by destination.
 */
#define DEEP_DESTS_MAX (1U << 18)
#define DEEP_DEST_SLOTS_MAX (2 * DEEP_DESTS_MAX)
/*
 * Slots of the cookie set that removes repeats (8 bytes each: 16 MiB at the
 * cap, about a million sockets at half load). Past it, sockets are still
 * counted but no longer remembered: a repeat then adds one to a tally.
 */
#define DEEP_COOKIE_SLOTS_MAX (1U << 21)

/* The working state behind ds->priv: kept across resets so a stable host allocates nothing. */
struct deep_priv {
	uint64_t seed;          /* keys the hashes: peers choose addresses and ports */
	struct dest_count *ent; /* every destination met, in order of arrival */
	size_t n_ent, cap_ent;
	uint32_t *idx;          /* open addressing over ent: index + 1, 0 = empty */
	size_t idx_cap;         /* a power of two, at most half full */
	uint64_t *ck;           /* cookies seen in this dump, 0 = empty */
	size_t ck_cap, n_ck;
};

/* ---- hashing ---- */

/* A 64-bit finalizer (MurmurHash3's fmix64): cheap, and every input bit moves every output bit. */
static uint64_t deep_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * A seed per process, so that no one can choose remote addresses and ports
 * that all land on one probe chain. Not cryptographic: it only has to be
 * unknown to the peers.
 */
static uint64_t deep_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s) && s != 0)
		return s;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return deep_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid());
}

static uint64_t dest_hash(const struct deep_priv *p, const struct dest_count *k)
{
	uint64_t a, b;

	memcpy(&a, k->addr, sizeof(a));
	memcpy(&b, k->addr + 8, sizeof(b));
	return deep_mix(deep_mix(deep_mix(p->seed ^ a) ^ b) ^
			((uint64_t)k->family << 16 | k->port));
}

static bool dest_key_eq(const struct dest_count *a, const struct dest_count *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* ---- the destination table ---- */

static struct deep_priv *deep_priv_get(struct deep_sample *ds)
{
	struct deep_priv *p = ds->priv;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->seed = deep_seed();
	ds->priv = p;
	return p;
}

/* Find the slot of key, or the empty slot where it belongs. The table is never full. */
static size_t dest_slot(const struct deep_priv *p, const struct dest_count *key)
{
	size_t mask = p->idx_cap - 1, h = (size_t)dest_hash(p, key) & mask;

	for (size_t n = 0; n < p->idx_cap; n++, h = (h + 1) & mask) {
		uint32_t v = p->idx[h];

		if (v == 0 || dest_key_eq(&p->ent[v - 1], key))
			return h;
	}
	return SIZE_MAX;        /* not reached: the load stays at most one half */
}

/* Double the index (or make the first one) and place every entry again. Return: 0 or -ENOMEM. */
static int dest_index_grow(struct deep_priv *p)
{
	size_t cap = p->idx_cap ? p->idx_cap * 2 : 1024;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	free(p->idx);
	p->idx = idx;
	p->idx_cap = cap;
	for (size_t i = 0; i < p->n_ent; i++)
		p->idx[dest_slot(p, &p->ent[i])] = (uint32_t)(i + 1);
	return 0;
}

/*
 * The tally of the destination in key, made on first sight.
 * Return: the entry; NULL with *err 0 when the table is at its cap (the
 * socket goes untallied), NULL with *err -ENOMEM.
 */
static struct dest_count *dest_get(struct deep_priv *p, const struct dest_count *key, int *err)
{
	struct dest_count *e;
	size_t slot;

	*err = 0;
	if ((p->n_ent + 1) * 2 > p->idx_cap && p->idx_cap < DEEP_DEST_SLOTS_MAX) {
		*err = dest_index_grow(p);
		if (*err < 0)
			return NULL;
	}
	slot = dest_slot(p, key);
	if (slot == SIZE_MAX)
		return NULL;
	if (p->idx[slot] != 0)
		return &p->ent[p->idx[slot] - 1];
	if (p->n_ent >= DEEP_DESTS_MAX || (p->n_ent + 1) * 2 > p->idx_cap)
		return NULL;
	if (p->n_ent == p->cap_ent) {
		size_t cap = p->cap_ent ? p->cap_ent * 2 : 1024;
		struct dest_count *ent;

		if (cap > DEEP_DESTS_MAX)
			cap = DEEP_DESTS_MAX;
		ent = realloc(p->ent, cap * sizeof(*ent));
		if (!ent) {
			*err = -ENOMEM;
			return NULL;
		}
		p->ent = ent;
		p->cap_ent = cap;
	}
	e = &p->ent[p->n_ent];
	memset(e, 0, sizeof(*e));
	e->family = key->family;
	e->port = key->port;
	memcpy(e->addr, key->addr, sizeof(e->addr));
	p->idx[slot] = (uint32_t)(++p->n_ent);
	return e;
}

/* ---- the cookie set ---- */

static size_t cookie_slot(const struct deep_priv *p, uint64_t c)
{
	size_t mask = p->ck_cap - 1, h = (size_t)deep_mix(p->seed ^ c) & mask;

	for (size_t n = 0; n < p->ck_cap; n++, h = (h + 1) & mask)
		if (p->ck[h] == 0 || p->ck[h] == c)
			return h;
	return SIZE_MAX;        /* not reached: the load stays at most one half */
}

static int cookie_grow(struct deep_priv *p)
{
	size_t cap = p->ck_cap ? p->ck_cap * 2 : 1024;
	uint64_t *old = p->ck, *ck = calloc(cap, sizeof(*ck));
	size_t old_cap = p->ck_cap;

	if (!ck)
		return -ENOMEM;
	p->ck = ck;
	p->ck_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != 0)
			p->ck[cookie_slot(p, old[i])] = old[i];
	free(old);
	return 0;
}

/*
 * Remember a socket's cookie. inet_diag resumes a dump by position, so a
 * socket can come back in a later recv() (KERNEL.md); only its first copy
 * is counted. Return: 1 when new (or not trackable), 0 when seen, -ENOMEM.
 */
static int cookie_add(struct deep_priv *p, uint64_t c)
{
	size_t slot;

	/* Kernels hand out cookies from 1: 0 means none, so nothing to match. */
	if (c == 0)
		return 1;
	if ((p->n_ck + 1) * 2 > p->ck_cap && p->ck_cap < DEEP_COOKIE_SLOTS_MAX) {
		int r = cookie_grow(p);

		if (r < 0)
			return r;
	}
	slot = cookie_slot(p, c);
	if (slot == SIZE_MAX)
		return 1;
	if (p->ck[slot] == c)
		return 0;
	/* At the cap: still look up, stop remembering (at most half full). */
	if ((p->n_ck + 1) * 2 > p->ck_cap)
		return 1;
	p->ck[slot] = c;
	p->n_ck++;
	return 1;
}

/* ---- SYN_RECV counts ---- */

static int synrecv_cmp(const struct synrecv_count *a, uint8_t family, const uint8_t *addr, uint16_t port)
{
	int c;

	if (a->family != family)
		return a->family < family ? -1 : 1;
	c = memcmp(a->addr, addr, sizeof(a->addr));
	if (c != 0)
		return c;
	if (a->port != port)
		return a->port < port ? -1 : 1;
	return 0;
}

/* Count one request socket under its local address:port. Return: 0 or -ENOMEM. */
static int synrecv_add(struct deep_sample *ds, uint8_t family, const uint8_t *addr, uint16_t port)
{
	size_t lo = 0, hi = ds->n_synrecv;
	struct synrecv_count *e;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = synrecv_cmp(&ds->synrecv[mid], family, addr, port);

		if (c == 0) {
			ds->synrecv[mid].count++;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ds->n_synrecv == ds->cap_synrecv) {
		size_t cap = ds->cap_synrecv ? ds->cap_synrecv * 2 : 16;
		struct synrecv_count *n;

		if (ds->cap_synrecv >= DEEP_SYNRECV_MAX)
			return 0;       /* at the cap: this address goes uncounted */
		if (cap > DEEP_SYNRECV_MAX)
			cap = DEEP_SYNRECV_MAX;
		n = realloc(ds->synrecv, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ds->synrecv = n;
		ds->cap_synrecv = cap;
	}
	memmove(&ds->synrecv[lo + 1], &ds->synrecv[lo], (ds->n_synrecv - lo) * sizeof(*e));
	e = &ds->synrecv[lo];
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->port = port;
	memcpy(e->addr, addr, sizeof(e->addr));
	e->count = 1;
	ds->n_synrecv++;
	return 0;
}

/* ---- memory holders ---- */

static uint64_t holder_bytes(const struct mem_holder *h)
{
	return (uint64_t)h->rqueue + h->wqueue;
}

/*
 * Does a rank above b? Unread bytes first, then unsent: data received and
 * not read is the local application's doing (a server that accepts and
 * never reads), while unsent data waits on the peer. When a server stops
 * reading, its clients' send queues fill as much as its receive queues;
 * ranked by the sum, the clients' sockets (no owner here when they are
 * remote, or not the one at fault when local) crowd out the server's.
 */
static bool holder_above(const struct mem_holder *a, const struct mem_holder *b)
{
	if (a->rqueue != b->rqueue)
		return a->rqueue > b->rqueue;
	return a->wqueue > b->wqueue;
}

/*
 * Offer a socket to the top DEEP_TOP_HOLDERS, kept sorted by holder_above
 * (unread bytes, then unsent), largest first (the earlier of equals first). A socket already there (a
 * repeat in the dump) is replaced by its newer copy. Sockets holding nothing
 * are not candidates: an idle host has no holders, not ten empty ones.
 * Nor are handshakes (below).
 */
static void holder_offer(struct deep_sample *ds, const struct mem_holder *h)
{
	uint64_t bytes = holder_bytes(h);
	size_t i;

	for (i = 0; i < ds->n_holders; i++)
		if (h->cookie != 0 && ds->holders[i].cookie == h->cookie)
			break;
	if (i < ds->n_holders) {
		/* Take the old copy out; the new one is placed below like any other. */
		memmove(&ds->holders[i], &ds->holders[i + 1],
			(ds->n_holders - i - 1) * sizeof(ds->holders[0]));
		ds->n_holders--;
	}
	/*
	 * A handshake's queue is its SYN or SYN-ACK (a byte of sequence
	 * space), not memory anyone holds: a client connecting to a full
	 * listener would otherwise top the list, a new socket each time.
	 */
	if (bytes == 0 || h->state == DEEP_ST_SYN_SENT || h->state == DEEP_ST_SYN_RECV)
		return;
	if (ds->n_holders == DEEP_TOP_HOLDERS) {
		if (!holder_above(h, &ds->holders[DEEP_TOP_HOLDERS - 1]))
			return;
		ds->n_holders--;        /* the lowest makes room */
	}
	i = ds->n_holders;
	while (i > 0 && holder_above(h, &ds->holders[i - 1])) {
		ds->holders[i] = ds->holders[i - 1];
		i--;
	}
	ds->holders[i] = *h;
	ds->n_holders++;
}

/* ---- one message ---- */

/* Record where the attributes end; mnl_attr_parse has checked each header against the message. */
static int deep_attr_cb(const struct nlattr *attr, void *data)
{
	const char **end = data;

	*end = (const char *)attr + MNL_ALIGN(attr->nla_len);
	return MNL_CB_OK;
}

/*
 * No attribute is read here (idiag_ext is 0: rqueue and wqueue are in the
 * base message), but an entry whose attributes do not tile the message to
 * its end is damaged, as in sockdiag.c, and is skipped as a whole.
 * Attributes of any type, known or not, are otherwise ignored.
 */
static bool deep_attrs_ok(const struct nlmsghdr *nlh)
{
	const char *tail = (const char *)nlh + nlh->nlmsg_len;
	const char *end = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct inet_diag_msg));

	if (mnl_attr_parse(nlh, sizeof(struct inet_diag_msg), deep_attr_cb, &end) < 0)
		return false;
	/* Up to 3 bytes of padding may follow the last attribute; a header cannot. */
	return tail - end < (ptrdiff_t)sizeof(struct nlattr);
}

static void copy_addr(uint8_t dst[16], const __be32 *src, uint8_t family)
{
	memset(dst, 0, 16);
	memcpy(dst, src, family == AF_INET ? 4 : 16);
}

/* Is addr (16 bytes, IPv6) an IPv4-mapped address, ::ffff:a.b.c.d? */
static bool is_v4mapped(const uint8_t *addr)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(addr, prefix, sizeof(prefix)) == 0;
}

/* Add one socket to the tally of its remote address:port. Return: 0 or -ENOMEM. */
static int dest_tally(struct deep_sample *ds, struct deep_priv *p, const struct inet_diag_msg *m)
{
	struct dest_count key, *e;
	uint16_t lport = ntohs(m->id.idiag_sport);
	int err;

	memset(&key, 0, sizeof(key));
	key.family = m->idiag_family;
	key.port = ntohs(m->id.idiag_dport);
	copy_addr(key.addr, m->id.idiag_dst, m->idiag_family);
	/*
	 * An IPv6 socket connected to ::ffff:a.b.c.d takes its port from the
	 * same 4-tuple space as IPv4 sockets to a.b.c.d: count them together,
	 * as IPv4, or an exhausted destination would look half as full.
	 */
	if (key.family == AF_INET6 && is_v4mapped(key.addr)) {
		key.family = AF_INET;
		memmove(key.addr, key.addr + 12, 4);
		memset(key.addr + 4, 0, 12);
	}
	e = dest_get(p, &key, &err);
	if (!e)
		return err;
	e->total++;
	switch (m->idiag_state) {
	case DEEP_ST_ESTABLISHED:
		e->established++;
		break;
	case DEEP_ST_TIME_WAIT:
		e->time_wait++;
		break;
	case DEEP_ST_SYN_SENT:
		e->syn_sent++;
		break;
	default:
		e->other++;
		break;
	}
	if (ds->port_lo >= 0 && ds->port_hi >= ds->port_lo &&
	    lport >= ds->port_lo && lport <= ds->port_hi)
		e->in_port_range++;
	return 0;
}

static void holder_from_msg(struct mem_holder *h, const struct inet_diag_msg *m, uint64_t cookie)
{
	memset(h, 0, sizeof(*h));
	h->family = m->idiag_family;
	h->state = m->idiag_state;
	h->lport = ntohs(m->id.idiag_sport);
	h->rport = ntohs(m->id.idiag_dport);
	copy_addr(h->laddr, m->id.idiag_src, m->idiag_family);
	copy_addr(h->raddr, m->id.idiag_dst, m->idiag_family);
	h->rqueue = m->idiag_rqueue;
	h->wqueue = m->idiag_wqueue;
	h->inode = m->idiag_inode;
	h->cookie = cookie;
	/* pid and comm stay 0 and "": the daemon resolves owners (procmap). */
}

/*
 * The one per-message parser, for live dumps and recorded buffers alike.
 * A malformed entry is counted in ds->skipped and passed over, never fatal
 * to the dump. Listeners are not this tier's business (their rqueue counts
 * connections, not bytes) and are passed over uncounted.
 * Return: MNL_CB_OK, or MNL_CB_ERROR with errno ENOMEM.
 */
static int deep_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct deep_sample *ds = data;
	struct inet_diag_msg m;
	struct mem_holder h;
	struct deep_priv *p;
	uint64_t cookie;
	uint8_t laddr[16];
	int r;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
		goto skip;
	/* Work on a copy: aligned for the struct whatever buffer it came in. */
	memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof(m));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		goto skip;
	if (!deep_attrs_ok(nlh))
		goto skip;
	if (m.idiag_state == TCP_LISTEN)
		return MNL_CB_OK;
	p = deep_priv_get(ds);
	if (!p)
		goto nomem;
	cookie = (uint64_t)m.id.idiag_cookie[0] | (uint64_t)m.id.idiag_cookie[1] << 32;
	holder_from_msg(&h, &m, cookie);
	r = cookie_add(p, cookie);
	if (r < 0)
		goto nomem;
	if (r == 0) {
		/* A repeat: counted already; its queues may have moved since. */
		holder_offer(ds, &h);
		return MNL_CB_OK;
	}
	if (ds->sockets_seen < UINT32_MAX)
		ds->sockets_seen++;
	if (m.idiag_state == DEEP_ST_SYN_RECV) {
		copy_addr(laddr, m.id.idiag_src, m.idiag_family);
		if (synrecv_add(ds, m.idiag_family, laddr, h.lport) < 0)
			goto nomem;
	}
	if (dest_tally(ds, p, &m) < 0)
		goto nomem;
	holder_offer(ds, &h);
	return MNL_CB_OK;

skip:
	ds->skipped++;
	return MNL_CB_OK;
nomem:
	errno = ENOMEM;
	return MNL_CB_ERROR;
}

/* ---- the sample ---- */

/** deep_sample_init - an empty sample with no port range; allocates nothing. */
void deep_sample_init(struct deep_sample *ds)
{
	memset(ds, 0, sizeof(*ds));
	ds->port_lo = -1;
	ds->port_hi = -1;
}

/**
 * deep_sample_reset - forget the previous results, keep every allocation
 * @ds: the sample
 * @port_lo: low end of ip_local_port_range, for in_port_range; -1 unknown
 * @port_hi: high end
 */
void deep_sample_reset(struct deep_sample *ds, int64_t port_lo, int64_t port_hi)
{
	struct deep_priv *p = ds->priv;

	ds->n_synrecv = 0;
	memset(ds->dests, 0, sizeof(ds->dests));
	ds->n_dests = 0;
	memset(ds->holders, 0, sizeof(ds->holders));
	ds->n_holders = 0;
	ds->sockets_seen = 0;
	ds->skipped = 0;
	ds->port_lo = port_lo;
	ds->port_hi = port_hi;
	if (p) {
		p->n_ent = 0;
		if (p->idx)
			memset(p->idx, 0, p->idx_cap * sizeof(*p->idx));
		p->n_ck = 0;
		if (p->ck)
			memset(p->ck, 0, p->ck_cap * sizeof(*p->ck));
	}
}

/**
 * deep_sample_trim - give back a big dump's working state
 * @ds: a finished sample
 * @max_bytes: what may be kept for the next dump
 *
 * The cookie set and the destination tally grow with the sockets walked
 * (6 MiB at 400,000): kept, they would weigh on the daemon's memory for
 * the hours between two deep runs on a busy host.
 *
 * Return: the bytes freed, 0 when under max_bytes.
 */
size_t deep_sample_trim(struct deep_sample *ds, size_t max_bytes)
{
	struct deep_priv *p = ds->priv;
	size_t bytes;

	if (!p)
		return 0;
	bytes = p->cap_ent * sizeof(*p->ent) + p->idx_cap * sizeof(*p->idx) +
		p->ck_cap * sizeof(*p->ck);
	if (bytes <= max_bytes)
		return 0;
	free(p->ent);
	free(p->idx);
	free(p->ck);
	p->ent = NULL;
	p->idx = NULL;
	p->ck = NULL;
	p->n_ent = p->cap_ent = p->idx_cap = p->ck_cap = p->n_ck = 0;
	return bytes;
}

/** deep_sample_free - free every allocation; the sample is then as after init. */
void deep_sample_free(struct deep_sample *ds)
{
	struct deep_priv *p = ds->priv;

	if (p) {
		free(p->ent);
		free(p->idx);
		free(p->ck);
		free(p);
	}
	free(ds->synrecv);
	deep_sample_init(ds);
}

/* Is a a bigger destination than b? Ties go by address, so the order is stable. */
static bool dest_before(const struct dest_count *a, const struct dest_count *b)
{
	int c;

	if (a->total != b->total)
		return a->total > b->total;
	if (a->family != b->family)
		return a->family < b->family;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c != 0)
		return c < 0;
	return a->port < b->port;
}

/**
 * deep_sample_finish - pick the DEEP_TOP_DESTS biggest destinations into dests[]
 * @ds: a sample every buffer of the dump has been folded into
 *
 * May be called again after more buffers: it starts over from the tally.
 */
void deep_sample_finish(struct deep_sample *ds)
{
	struct deep_priv *p = ds->priv;

	memset(ds->dests, 0, sizeof(ds->dests));
	ds->n_dests = 0;
	if (!p)
		return;
	for (size_t i = 0; i < p->n_ent; i++) {
		const struct dest_count *e = &p->ent[i];
		size_t j;

		if (ds->n_dests == DEEP_TOP_DESTS) {
			if (!dest_before(e, &ds->dests[DEEP_TOP_DESTS - 1]))
				continue;
			ds->n_dests--;
		}
		j = ds->n_dests;
		while (j > 0 && dest_before(e, &ds->dests[j - 1])) {
			ds->dests[j] = ds->dests[j - 1];
			j--;
		}
		ds->dests[j] = *e;
		ds->n_dests++;
	}
}

/**
 * deep_parse - fold a recorded inet_diag dump into a sample
 * @buf: netlink messages, one or more recv() worth concatenated
 * @len: bytes in buf
 * @ds: the sample (reset by the caller); deep_sample_finish must follow
 *
 * Uses the same per-message parser as the live dump, and nl.c's walk over
 * the messages. Bytes at the end that do not form a whole message (a cut
 * recording) count as one skipped entry.
 *
 * Return: 1 when NLMSG_DONE was seen, 0 when more is expected, -errno from
 * an NLMSG_ERROR or a DONE carrying an error, -EINTR for a dump flagged
 * interrupted, -EBADMSG when buf does not start with a netlink message,
 * -EMSGSIZE, -ENOMEM.
 */
int deep_parse(const void *buf, size_t len, struct deep_sample *ds)
{
	unsigned int cut_off;
	int ret;

	/* As nl.c's live dump: DONE carries the dump's own status. */
	ret = nlsock_parse_buffer(buf, len, deep_msg_cb, ds, &cut_off);
	ds->skipped += cut_off;
	return ret;
}

/*
 * One dump of one family, every state but LISTEN: this walks the whole
 * established hash (KERNEL.md), which is what makes the tier expensive.
 * idiag_ext stays 0: the base message has the queues, and each entry stays
 * small (about 90 to 130 bytes), so a dump takes few recv() rounds.
 */
static int deep_dump_family(struct nlsock *nl, uint8_t family, struct deep_sample *ds)
{
	return sockdiag_dump_tcp(nl, family, 0xffffffffU & ~(1U << TCP_LISTEN), 0, deep_msg_cb, ds);
}

/**
 * sockdiag_dump_deep - walk every TCP socket but the listeners, IPv4 then IPv6
 * @sd: the handle (its socket is shared with the LISTEN dump)
 * @ds: reset with the port range, filled and finished; reset again on error
 * @port_lo: low end of ip_local_port_range, for in_port_range; -1 unknown
 * @port_hi: high end
 *
 * ENOBUFS and interrupted dumps are redone from scratch (after a reopen
 * where needed) at most NL_DUMP_RETRIES times.
 *
 * Return: 0 or -errno.
 */
int sockdiag_dump_deep(struct sockdiag *sd, struct deep_sample *ds, int64_t port_lo, int64_t port_hi)
{
	struct nlsock *nl = sockdiag_nl(sd);
	int r, attempt;

	for (attempt = 0;; attempt++) {
		deep_sample_reset(ds, port_lo, port_hi);
		r = deep_dump_family(nl, AF_INET, ds);
		if (r == 0) {
			r = deep_dump_family(nl, AF_INET6, ds);
			/* A kernel without IPv6 has no IPv6 sockets: not an error. */
			if (r == -EAFNOSUPPORT || r == -ENOENT)
				r = 0;
		}
		if (r == 0) {
			deep_sample_finish(ds);
			return 0;
		}
		if (!nlsock_dump_retry(nl, &r, attempt))
			break;
	}
	deep_sample_reset(ds, port_lo, port_hi);
	return r;
}
