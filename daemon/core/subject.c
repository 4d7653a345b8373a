/* subject.c: who a finding is about: its key, its owner (pid, comm, unit, user) and the subject line naming them. */
#include "base.h"

#include <stdio.h>

#include "ownertab.h"
#include "rules.h"

/*
 * The acceptor, not procs[0]: a pre-fork server's master (the lowest pid)
 * holds the listener but never accepts, so naming it sends an SRE to the
 * one process that is fine. A worker is named with its master, so that
 * the server is recognisable: "nginx[4312] (worker of nginx[4300])".
 */
void who_owner(const struct owner *o, struct sbuf *sb)
{
	const struct owner_proc *a, *parent;

	if (o->nprocs == 0)
		return;
	a = owner_acceptor(o);
	parent = owner_parent(o, a);
	/* Bounded reads: the kernel's comm is at most 15 bytes, and a unit fits its array. */
	sb_printf(sb, "%.*s[%d]", (int)sizeof(a->comm) - 1, a->comm, a->pid);
	/* The master says which server it is; its other workers are in the listener's holders. */
	if (parent)
		sb_printf(sb, " (worker of %.*s[%d])", (int)sizeof(parent->comm) - 1, parent->comm,
			  parent->pid);
	else if (o->nprocs_total > 1)
		sb_printf(sb, " +%u more", o->nprocs_total - 1);
}

void owner_or(struct sbuf *sb, const struct owner *o, const char *unknown)
{
	if (o && o->nprocs > 0)
		who_owner(o, sb);
	else
		sb_printf(sb, "%s", unknown);
}

void actor(const struct tracked *tr, const struct finding *f, struct sbuf *sb)
{
	if (owner_known(tr))
		who_owner(tracked_owner(tr), sb);
	else
		sb_printf(sb, "the application behind %s", f->listener);
}

/*
 * The owner's user and first command line, so that an alert names who runs
 * the listener without a second lookup. A zeroed owner (uid 0, user "") is
 * unknown, not root: the user name is what says the uid was read.
 */
static void owner_account(struct finding *f, const struct owner *o)
{
	const struct owner_proc *a = owner_acceptor(o);

	snprintf(f->cmdline, sizeof(f->cmdline), "%.*s", (int)sizeof(a->cmdline) - 1, a->cmdline);
	if (o->user[0] && o->uid >= 0) {
		snprintf(f->user, sizeof(f->user), "%.*s", (int)sizeof(o->user) - 1, o->user);
		f->uid = o->uid;
	}
}

void owner_identity(struct finding *f, const char *key, const struct owner *o, uint64_t cookie,
		    uint32_t inode)
{
	bool known = o && o->nprocs > 0;
	struct sbuf sb;

	snprintf(f->listener, sizeof(f->listener), "%s", key);
	f->cookie = cookie;
	f->inode = inode;
	if (known) {
		const struct owner_proc *a = owner_acceptor(o);

		f->pid = a->pid;
		snprintf(f->comm, sizeof(f->comm), "%.*s", (int)sizeof(a->comm) - 1, a->comm);
		owner_account(f, o);
	}
	if (o)
		snprintf(f->unit, sizeof(f->unit), "%.*s", (int)sizeof(o->unit) - 1, o->unit);
	sb_init(&sb, f->subject, sizeof(f->subject));
	sb_printf(&sb, "%s", key);
	if (known) {
		sb_printf(&sb, " ");
		who_owner(o, &sb);
	}
	if (f->unit[0])
		sb_printf(&sb, " %s", f->unit);
}

void fill_identity(struct finding *f, const struct tracked *tr)
{
	char key[LISTENER_NAME_MAX];

	listener_name(&tr->l, key, sizeof(key));
	owner_identity(f, key, tracked_owner(tr), tr->l.cookie, tr->l.inode);
}
