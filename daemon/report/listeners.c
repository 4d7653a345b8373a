/* listeners.c: the listeners document: one object per tracked listener with its owners, sorted. */
#include "base.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "json.h"
#include "listener.h"
#include "monitor.h"
#include "ownertab.h"
#include "report.h"
#include "report_int.h"

static const char *family_name(uint8_t family)
{
	switch (family) {
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	default:
		return "unknown";
	}
}

unsigned owner_nprocs(const struct owner *ow)
{
	return ow->nprocs > OWNER_MAX_PROCS ? OWNER_MAX_PROCS : ow->nprocs;
}

/*
 * The owner's real uid. "uid" on a listener stays the socket's (sock_diag),
 * which scripts already read; a zeroed owner (uid 0, no user name) is
 * unknown, not root, so the name decides.
 */
static json_t *owner_uid(const struct owner *ow)
{
	return ow->user[0] && ow->uid >= 0 ? jint(ow->uid) : json_null();
}

/*
 * Each holder with its state: the one read when it was found, or for the
 * acceptor the one read this tick while its listener drops (a worker
 * stopped since it was found is shown stopped). "polls": its epoll set
 * watches the socket, so it is one that accepts.
 */
static json_t *report_processes(const struct tracked *tr, const struct owner *ow)
{
	const struct owner_proc *acc = owner_nprocs(ow) > 0 ? owner_acceptor(ow) : NULL;
	json_t *a = json_array();
	int rc = 0;

	for (unsigned i = 0; i < owner_nprocs(ow); i++) {
		const struct owner_proc *op = &ow->procs[i];
		char state = op == acc && tr->owner_state ? tr->owner_state : op->state;
		json_t *p = json_object();
		int prc = 0;

		prc |= put(p, "pid", json_integer(ow->procs[i].pid));
		prc |= put(p, "ppid", op->ppid > 0 ? json_integer(op->ppid) : json_null());
		prc |= put(p, "state", jstate(state));
		prc |= put(p, "polls", json_boolean(op->polls));
		prc |= put(p, "acceptor", json_boolean(op == acc));
		prc |= put(p, "comm", JSTR(ow->procs[i].comm));
		prc |= put(p, "cmdline", JSTR_OR_NULL(ow->procs[i].cmdline));
		rc |= append(a, finish(p, prc));
	}
	return finish(a, rc);
}

/* Return: one listener object, or NULL when out of memory. */
json_t *report_listener(const struct tracked *tr)
{
	const struct listener *l = &tr->l;
	const struct owner *ow = tracked_owner(tr);
	char name[LISTENER_NAME_MAX];
	char addr[LISTENER_NAME_MAX];
	unsigned total = ow->nprocs_total > ow->nprocs ? ow->nprocs_total : ow->nprocs;
	json_t *o = json_object();
	int rc = 0;

	listener_name(l, name, sizeof(name));
	listener_addr(l, addr, sizeof(addr));
	rc |= put(o, "listener", JSTR(name));
	rc |= put(o, "address", JSTR(addr));
	rc |= put(o, "port", json_integer(l->port));
	rc |= put(o, "family", json_string(family_name(l->family)));
	rc |= put(o, "queue", json_integer(l->queue));
	rc |= put(o, "backlog", json_integer(l->backlog));
	rc |= put(o, "peak_queue", json_integer(tr->peak_queue));
	rc |= put(o, "full", json_boolean(listener_queue_full(l)));
	rc |= put(o, "drops", l->has_drops ? json_integer(l->drops) : json_null());
	rc |= put(o, "drops_delta", json_integer(tr->drops_delta));
	rc |= put(o, "drops_total", ju64(tr->drops_total));
	rc |= put(o, "ticks_full", json_integer(tr->ticks_full));
	/* Above half its backlog lately: sampled every fast_interval until it cools. */
	rc |= put(o, "hot", json_boolean(monitor_listener_hot(tr)));
	rc |= put(o, "ticks_seen", json_integer(tr->ticks_seen));
	rc |= put(o, "inode", json_integer(l->inode));
	rc |= put(o, "cookie", ju64_string(l->cookie));
	rc |= put(o, "uid", json_integer(l->uid));
	rc |= put(o, "processes", report_processes(tr, ow));
	rc |= put(o, "processes_total", json_integer(total));
	rc |= put(o, "owner_state", jstate(tr->owner_state));
	rc |= put(o, "unit", JSTR_OR_NULL(ow->unit));
	rc |= put(o, "user", JSTR_OR_NULL(ow->user));
	rc |= put(o, "owner_uid", owner_uid(ow));
	rc |= put(o, "first_seen", jint(tr->first_seen_ms / 1000));
	rc |= put(o, "last_seen", jint(tr->last_seen_ms / 1000));
	return finish(o, rc);
}

/* Port, family, address, then cookie: two sockets on one address:port (SO_REUSEPORT) keep their order. */
static int cmp_listener(const struct listener *a, const struct listener *b)
{
	int c;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	if (a->cookie != b->cookie)
		return a->cookie < b->cookie ? -1 : 1;
	return 0;
}

static int cmp_tracked_ptr(const void *pa, const void *pb)
{
	const struct tracked *a = *(const struct tracked *const *)pa;
	const struct tracked *b = *(const struct tracked *const *)pb;

	return cmp_listener(&a->l, &b->l);
}

/* Scripts and humans see the same table from one tick to the next. */
const struct tracked **sorted_tracked(const struct track *t)
{
	const struct tracked **v;

	if (t->count == 0)
		return NULL;
	v = calloc(t->count, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < t->count; i++)
		v[i] = &t->items[i];
	qsort(v, t->count, sizeof(*v), cmp_tracked_ptr);
	return v;
}

int append_listeners(json_t *a, const struct track *t, const struct ns_ref *ns)
{
	const struct tracked **v = sorted_tracked(t);
	int rc = 0;

	if (t->count > 0 && !v)
		rc = -1;
	for (size_t i = 0; v && i < t->count; i++)
		rc |= append(a, tagged(report_listener(v[i]), ns));
	free(v);
	return rc;
}

/* Return: the array of listeners, sorted by port then address. */
json_t *report_listeners(const struct track *t)
{
	json_t *a = json_array();

	return finish(a, a ? append_listeners(a, t, NULL) : -1);
}
