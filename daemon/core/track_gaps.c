/* track_gaps.c: restart gaps: an address:port whose listener vanished, until it comes back, and the kernel's word when its process was killed. */
#include "base.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>	/* AF_INET, AF_INET6 */

#include "array.h"
#include "sort.h"
#include "track_int.h"

/* IPv4 lives in the first 4 bytes; whatever follows is not part of the address. */
static void addr_norm(uint8_t family, const uint8_t *src, uint8_t dst[16])
{
	memset(dst, 0, 16);
	memcpy(dst, src, family == AF_INET ? 4 : 16);
}

static int endpoint_cmp(uint8_t fa, const uint8_t *aa, uint16_t pa,
			uint8_t fb, const uint8_t *ab, uint16_t pb)
{
	int c;

	if (fa != fb)
		return fa < fb ? -1 : 1;
	c = memcmp(aa, ab, 16);
	if (c)
		return c;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return 0;
}

static int addr_key_cmp(const void *a, const void *b)
{
	const struct track_addr_key *x = a, *y = b;
	int c = endpoint_cmp(x->family, x->addr, x->port, y->family, y->addr, y->port);

	if (c)
		return c;
	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return 0;
}

/* Return: the first index of ak[0..n) on (family, addr, port), or n when nothing listens there. */
static size_t addr_find(const struct track_addr_key *ak, size_t n, uint8_t family,
			const uint8_t *addr, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (endpoint_cmp(ak[mid].family, ak[mid].addr, ak[mid].port, family, addr, port) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && endpoint_cmp(ak[lo].family, ak[lo].addr, ak[lo].port, family, addr, port) == 0)
		return lo;
	return n;
}

static bool any_open_gap(const struct track *t)
{
	size_t i;

	for (i = 0; i < t->n_gaps; i++)
		if (t->gaps[i].returned_ms == 0)
			return true;
	return false;
}

/*
 * Gaps need to know who listens on an address:port now only when a
 * listener vanished or an address:port waits for its listener: most ticks
 * need no index at all.
 */
int track_gaps_index(struct track *t, const struct listener_set *now, size_t u, size_t gone,
		     size_t *na)
{
	struct track_addr_key *ak;
	void *np;
	size_t j;

	*na = 0;
	if (!u || (!gone && !any_open_gap(t)))
		return 0;
	if (array_reserve(t->addr_keys, &t->addr_keys_cap, u, sizeof(*t->addr_keys), &np) < 0)
		return -ENOMEM;
	t->addr_keys = ak = np;
	for (j = 0; j < u; j++) {
		const struct listener *l = &now->items[t->keys[j].idx];

		ak[j].family = l->family;
		addr_norm(l->family, l->addr, ak[j].addr);
		ak[j].port = l->port;
		ak[j].cookie = l->cookie;
	}
	sort_inplace(ak, u, sizeof(*ak), addr_key_cmp);
	*na = u;
	return 0;
}

/* Tcp.OutRsts moved from base to cur; -1 when either end is unknown. */
static int64_t rst_delta(int64_t base, int64_t cur)
{
	if (base < 0 || cur < 0)
		return -1;
	/* Went backwards: the counters were reset (namespace recreated), nothing known moved. */
	return cur >= base ? cur - base : 0;
}

/* Return: true when d is the death of one of o's processes (the same pid and name). */
static bool death_of(const struct proc_death *d, const struct owner *o)
{
	unsigned i;

	for (i = 0; d->pid > 0 && i < o->nprocs && i < OWNER_MAX_PROCS; i++)
		if (o->procs[i].pid == d->pid &&
		    strncmp(o->procs[i].comm, d->comm, KMSG_COMM_MAX - 1) == 0)
			return true;
	return false;
}

/*
 * The kernel's line says more than the exit event (a segfault, the OOM
 * killer), so it takes the place of the event's word for the same pid;
 * the event never takes the place of a line.
 */
static bool death_better(const struct proc_death *cand, const struct proc_death *have)
{
	if (have->pid == 0)
		return true;
	return have->by_exit && !cand->by_exit && have->pid == cand->pid;
}

/*
 * The kernel logs a death as it kills the process, the exit event follows,
 * and the listener is found gone at that tick or the next: whichever comes
 * second stamps the gap. A pid is reused only after the pid space wraps,
 * and with the same name too within TRACK_DEATH_KEEP_MS is not to be feared.
 */
static void gap_stamp_death(const struct track *t, struct listener_gap *g)
{
	size_t i;

	for (i = t->n_deaths; i-- > 0; )
		if (death_better(&t->deaths[i], &g->death) && death_of(&t->deaths[i], &g->old_owner))
			g->death = t->deaths[i];
}

/* Forget the deaths older than TRACK_DEATH_KEEP_MS. */
static void deaths_expire(struct track *t)
{
	size_t i, keep = 0;

	for (i = 0; i < t->n_deaths; i++)
		if (t->now_ms - t->deaths[i].seen_ms <= TRACK_DEATH_KEEP_MS)
			t->deaths[keep++] = t->deaths[i];
	t->n_deaths = keep;
}

/* Keep nd (one word per pid: a line over an event), and stamp it on the gap its process left. */
static void death_keep(struct track *t, const struct proc_death *nd)
{
	struct proc_death *d = NULL;
	size_t i;

	for (i = 0; i < t->n_deaths && !d; i++)
		if (t->deaths[i].pid == nd->pid)
			d = &t->deaths[i];
	if (d && !death_better(nd, d))
		return;
	if (!d) {
		if (t->n_deaths == TRACK_DEATHS_MAX) {
			memmove(&t->deaths[0], &t->deaths[1], (TRACK_DEATHS_MAX - 1) * sizeof(t->deaths[0]));
			t->n_deaths--;
		}
		d = &t->deaths[t->n_deaths++];
	}
	*d = *nd;
	d->seen_ms = t->now_ms;
	/* Only a gap that began about when it died: an old gap's holder may die much later. */
	for (i = 0; i < t->n_gaps; i++)
		if (t->now_ms - t->gaps[i].last_seen_ms <= TRACK_DEATH_KEEP_MS)
			gap_stamp_death(t, &t->gaps[i]);
}

void track_gaps_deaths(struct track *t, const struct kmsg_event *ev, size_t n)
{
	size_t i;

	deaths_expire(t);
	for (i = 0; i < n; i++) {
		struct proc_death d;

		if (!kmsg_is_death(ev[i].kind) || ev[i].pid <= 0)
			continue;
		memset(&d, 0, sizeof(d));
		d.kind = ev[i].kind;
		d.pid = ev[i].pid;
		memcpy(d.comm, ev[i].comm, sizeof(d.comm));
		d.comm[sizeof(d.comm) - 1] = '\0';
		memcpy(d.signal, ev[i].signal, sizeof(d.signal));
		d.signal[sizeof(d.signal) - 1] = '\0';
		death_keep(t, &d);
	}
}

/* The stop signals: how systemd, a terminal and an operator ask a server to go. */
static bool stop_signal(const char *sig)
{
	return strcmp(sig, "SIGTERM") == 0 || strcmp(sig, "SIGINT") == 0 ||
	       strcmp(sig, "SIGQUIT") == 0 || strcmp(sig, "SIGHUP") == 0;
}

bool track_exit_is_crash(const struct proc_exit *e)
{
	if (e->pid <= 0)
		return false;
	if (e->status < 0)
		return !stop_signal(e->signal);
	/*
	 * 128 + SIGHUP, SIGINT, SIGQUIT, SIGTERM: these four have the same
	 * numbers on every Linux architecture.
	 */
	return e->status != 0 && e->status != 129 && e->status != 130 && e->status != 131 &&
	       e->status != 143;
}

static int exit_pid_cmp(const void *a, const void *b)
{
	const struct proc_exit *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return 0;
}

/* Return: the crash exit of pid among t->exits[0..n) not taken yet, or NULL. */
static struct proc_exit *exit_find(struct track *t, size_t n, int pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->exits[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && t->exits[lo].pid == pid; lo++)
		if (t->exits[lo].status != INT_MIN)
			return &t->exits[lo];
	return NULL;
}

/*
 * The exits of o's processes become deaths. The event carries no name (the
 * process is gone when it is read): the holder's name stands for it, which
 * is what death_of matches a gap's old owner by.
 */
static void exits_of(struct track *t, size_t n, const struct owner *o)
{
	unsigned i;

	for (i = 0; i < o->nprocs && i < OWNER_MAX_PROCS; i++) {
		struct proc_exit *e = exit_find(t, n, o->procs[i].pid);
		struct proc_death d;

		if (!e)
			continue;
		memset(&d, 0, sizeof(d));
		d.by_exit = true;
		d.pid = e->pid;
		d.exit_status = e->status;
		snprintf(d.comm, sizeof(d.comm), "%s", o->procs[i].comm);
		snprintf(d.signal, sizeof(d.signal), "%s", e->signal);
		e->status = INT_MIN;    /* taken: one death per exit */
		death_keep(t, &d);
	}
}

/*
 * A host has many processes that exit non-zero (scripts, failed commands);
 * only the holders of listeners matter. The crash exits are sorted by pid
 * once, and every holder is looked up among them: the cost is the
 * holders', not exits times holders.
 */
void track_gaps_exits(struct track *t, const struct proc_exit *ev, size_t n)
{
	size_t i, m = 0;
	void *np;

	deaths_expire(t);
	for (i = 0; i < n; i++)
		m += track_exit_is_crash(&ev[i]);
	if (!m || array_reserve(t->exits, &t->exits_cap, m, sizeof(*t->exits), &np) < 0)
		return;
	t->exits = np;
	for (i = 0, m = 0; i < n; i++)
		if (track_exit_is_crash(&ev[i]))
			t->exits[m++] = ev[i];
	sort_inplace(t->exits, m, sizeof(*t->exits), exit_pid_cmp);
	for (i = 0; i < t->n_gaps; i++)
		if (t->now_ms - t->gaps[i].last_seen_ms <= TRACK_DEATH_KEEP_MS)
			exits_of(t, m, &t->gaps[i].old_owner);
	/* A holder whose listener lives on in others' hands (a pre-fork master) may die first. */
	for (i = 0; i < t->count; i++)
		exits_of(t, m, tracked_owner(&t->items[i]));
}

/*
 * A slot for a new gap at the end of t->gaps. When full, the oldest gap that
 * has closed goes first: an address:port still without its listener is the
 * one a refused client is asking about. Only when every gap is open does the
 * oldest open one go.
 */
static struct listener_gap *gap_push(struct track *t, size_t *first_new)
{
	struct listener_gap *g;

	if (t->n_gaps == TRACK_GAPS_MAX) {
		size_t victim = 0, i;

		for (i = 0; i < t->n_gaps; i++) {
			if (t->gaps[i].returned_ms != 0) {
				victim = i;
				break;
			}
		}
		memmove(&t->gaps[victim], &t->gaps[victim + 1],
			(t->n_gaps - victim - 1) * sizeof(t->gaps[0]));
		t->n_gaps--;
		if (victim < *first_new)
			(*first_new)--;
	}
	g = &t->gaps[t->n_gaps++];
	memset(g, 0, sizeof(*g));
	return g;
}

/*
 * The members of a group that vanished together make one gap; an owner is
 * kept if any knew it. Looked at first: the first member already found no
 * survivor, and a large group is not scanned once per member.
 * Return: whether tr joined a gap opened by this tick.
 */
static bool gap_join(struct track *t, const struct tracked *tr, const uint8_t addr[16],
		     size_t first_new)
{
	size_t i;

	for (i = first_new; i < t->n_gaps; i++) {
		struct listener_gap *g = &t->gaps[i];

		if (endpoint_cmp(g->family, g->addr, g->port, tr->l.family, addr, tr->l.port) != 0)
			continue;
		if (g->old_owner.nprocs == 0 && tracked_owner(tr)->nprocs > 0) {
			g->old_owner = *tracked_owner(tr);
			gap_stamp_death(t, g);
		}
		if (tr->last_seen_ms > g->last_seen_ms)
			g->last_seen_ms = tr->last_seen_ms;
		return true;
	}
	return false;
}

/*
 * tr is tracked and missing from this tick. ak[0..na) is who listens now;
 * gaps from *first_new on were opened by this tick.
 * A survivor on its address:port (an SO_REUSEPORT group lost one member)
 * means no client was refused: no gap. A new socket there means it was
 * replaced between two ticks; nothing there means it is gone for now.
 */
static void gap_vanished(struct track *t, const struct tracked *tr, size_t na, int64_t rst_prev,
			 int64_t rst_cur, int64_t now_ms, size_t *first_new)
{
	const struct track_addr_key *ak = t->addr_keys;
	uint8_t addr[16];
	uint64_t repl = 0;
	struct listener_gap *g;
	size_t x;

	addr_norm(tr->l.family, tr->l.addr, addr);
	if (gap_join(t, tr, addr, *first_new))
		return;
	for (x = addr_find(ak, na, tr->l.family, addr, tr->l.port);
	     x < na && endpoint_cmp(ak[x].family, ak[x].addr, ak[x].port,
				    tr->l.family, addr, tr->l.port) == 0; x++) {
		if (track_find(t, ak[x].cookie))
			return;
		if (!repl)
			repl = ak[x].cookie;
	}

	g = gap_push(t, first_new);
	g->family = tr->l.family;
	g->port = tr->l.port;
	memcpy(g->addr, addr, sizeof(g->addr));
	listener_name(&tr->l, g->listener, sizeof(g->listener));
	g->old_owner = *tracked_owner(tr);
	g->last_seen_ms = tr->last_seen_ms;
	g->missing_ms = now_ms;
	/* The RSTs sent since the last tick that saw it are the gap's: count from there. */
	g->out_rsts_base = rst_prev;
	if (repl) {
		g->returned_ms = now_ms;
		g->new_cookie = repl;
		g->replaced = true;
		g->missing_ticks = 0;
	} else {
		g->missing_ticks = 1;
	}
	g->out_rsts = rst_delta(rst_prev, rst_cur);
	gap_stamp_death(t, g);
}

/* This tick's Tcp.OutRsts; -1 when not read. */
static int64_t rsts_now(const struct counters *host)
{
	int64_t v;

	return host && counters_get(host, "Tcp.OutRsts", &v) ? v : -1;
}

void track_gaps_carry(struct track *t, const struct counters *host)
{
	int64_t rst_cur = rsts_now(host);
	size_t i;

	for (i = 0; i < t->n_gaps; i++) {
		struct listener_gap *g = &t->gaps[i];

		if (g->returned_ms != 0)
			continue;
		g->missing_ticks++;
		g->out_rsts = rst_delta(g->out_rsts_base, rst_cur);
	}
}

void track_gaps_update(struct track *t, size_t u, size_t na, const struct counters *host,
		       int64_t now_ms)
{
	const struct track_key *keys = t->keys;
	const struct track_addr_key *ak = t->addr_keys;
	int64_t rst_prev = -1, rst_cur = -1, v;
	size_t i, j, first_new;

	/* host_cur still holds the previous tick's counters here. */
	if (t->ticks > 0 && counters_get(&t->host_cur, "Tcp.OutRsts", &v))
		rst_prev = v;
	rst_cur = rsts_now(host);

	/* Open gaps: back now (the first socket found there stands for a new group), or one tick longer. */
	for (i = 0; i < t->n_gaps; i++) {
		struct listener_gap *g = &t->gaps[i];
		size_t x;

		if (g->returned_ms != 0)
			continue;
		x = addr_find(ak, na, g->family, g->addr, g->port);
		if (x < na) {
			g->returned_ms = now_ms;
			g->new_cookie = ak[x].cookie;
		} else {
			g->missing_ticks++;
		}
		g->out_rsts = rst_delta(g->out_rsts_base, rst_cur);
	}

	/* The vanished: tracked cookies not in this dump (both lists sorted by cookie). */
	first_new = t->n_gaps;
	for (i = 0, j = 0; i < t->count; ) {
		if (j < u && keys[j].cookie < t->items[i].l.cookie) {
			j++;
		} else if (j < u && keys[j].cookie == t->items[i].l.cookie) {
			i++;
			j++;
		} else {
			gap_vanished(t, &t->items[i], na, rst_prev, rst_cur, now_ms, &first_new);
			i++;
		}
	}
}
