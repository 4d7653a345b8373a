/* rules_gaps.c: listeners missing for a moment (listener-gap: a restart, or a crash the kernel logged or the exit event told) and one stuck member of an SO_REUSEPORT group (reuseport-imbalance). */
#include "base.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "software.h"

/* ---- listener-gap ---- */

/*
 * The severity of a gap: refusing clients right now is an error; a gap that
 * closed is a warning when resets show clients met it, else a notice.
 */
static enum severity gap_severity(const struct ctx *c, const struct listener_gap *g, bool open)
{
	if (open)
		return c->out_rsts > 0 ? SEVERITY_ERR : SEVERITY_WARNING;
	if (g->replaced)
		return SEVERITY_NOTICE;
	return g->out_rsts > 0 ? SEVERITY_WARNING : SEVERITY_NOTICE;
}

/*
 * SIGKILL cannot be caught, so it says nothing of the process itself: who
 * sent it is the question.
 */
#define SIGKILL_SENDERS "by an operator, systemd's stop timeout or the OOM killer"

/* How the old holder ended, as its exit event said; ing as in death_words. */
static void exit_words(struct sbuf *sb, const struct proc_death *d, bool ing)
{
	if (!d->signal[0])
		sb_printf(sb, "%s with status %d", ing ? "exiting" : "exited", d->exit_status);
	else if (strcmp(d->signal, "SIGKILL") == 0)
		sb_printf(sb, "%s killed by SIGKILL (" SIGKILL_SENDERS ")", ing ? "being" : "was");
	else
		sb_printf(sb, "%s (killed by %.*s)", ing ? "crashing" : "crashed",
			  (int)sizeof(d->signal) - 1, d->signal);
}

/*
 * How the old holder died, as the kernel said: "crashed (SIGSEGV: the
 * kernel logged a segfault)"; ing: "crashing (...)" to follow "between".
 */
static void death_words(struct sbuf *sb, const struct proc_death *d, bool ing)
{
	sb_printf(sb, "%.*s[%d] ", KMSG_COMM_MAX - 1, d->comm, d->pid);
	if (d->by_exit) {
		exit_words(sb, d, ing);
		return;
	}
	if (d->kind == KMSG_OOM_KILL) {
		sb_printf(sb, "%s killed by the kernel's OOM killer (SIGKILL)", ing ? "being" : "was");
		return;
	}
	sb_printf(sb, "%s (", ing ? "crashing" : "crashed");
	if (d->signal[0])
		sb_printf(sb, "%.*s: ", (int)sizeof(d->signal) - 1, d->signal);
	sb_printf(sb, "the kernel logged a %s)", d->kind == KMSG_SEGFAULT ? "segfault" : "fatal trap");
}

/* What happened while the address:port had no listener; nt: the new listener, or NULL. */
static void gap_message(struct finding *f, const struct ctx *c, const struct listener_gap *g,
			const struct tracked *nt, bool open, int64_t gap_ms)
{
	struct sbuf sb;

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	if (open) {
		sb_printf(&sb, "%s has had no listener for ", g->listener);
		sb_secs(&sb, gap_ms);
		sb_printf(&sb, " (%u tick%s) since ", g->missing_ticks, g->missing_ticks == 1 ? "" : "s");
		if (g->death.pid) {
			death_words(&sb, &g->death, false);
		} else {
			owner_or(&sb, &g->old_owner, "its last listener");
			sb_printf(&sb, " stopped listening");
		}
		if (g->out_rsts >= 0)
			sb_printf(&sb, ", and the host sent %" PRId64 " TCP resets since", g->out_rsts);
		if (c->out_rsts >= 0)
			sb_printf(&sb, " (%" PRId64 " in the last tick)", c->out_rsts);
		sb_printf(&sb, "; clients connecting to it now get ECONNREFUSED (connection refused).");
	} else if (g->replaced) {
		sb_printf(&sb, "%s was closed and opened again between two ticks (", g->listener);
		owner_or(&sb, &g->old_owner, "the old socket");
		sb_printf(&sb, ", then ");
		owner_or(&sb, nt ? tracked_owner(nt) : NULL, "a new one");
		sb_printf(&sb, ")");
		if (g->death.pid) {
			sb_printf(&sb, " after ");
			death_words(&sb, &g->death, false);
		}
		sb_printf(&sb, " while the host sent %" PRId64 " TCP resets; clients that connected "
			  "in that moment got ECONNREFUSED (connection refused).", g->out_rsts);
	} else {
		sb_printf(&sb, "%s had no listener for up to ", g->listener);
		sb_secs(&sb, gap_ms);
		sb_printf(&sb, " (%u tick%s found it absent) between ", g->missing_ticks,
			  g->missing_ticks == 1 ? "" : "s");
		if (g->death.pid)
			death_words(&sb, &g->death, true);
		else
			owner_or(&sb, &g->old_owner, "the old listener");
		sb_printf(&sb, " and ");
		owner_or(&sb, nt ? tracked_owner(nt) : NULL, "the new one");
		if (g->out_rsts > 0)
			sb_printf(&sb, ", and the host sent %" PRId64 " TCP resets in that time; clients "
				  "that connected in the gap got ECONNREFUSED (connection refused).",
				  g->out_rsts);
		else if (g->out_rsts == 0)
			sb_printf(&sb, ", and the host sent no TCP reset in that time; a client that "
				  "connected in the gap would have got ECONNREFUSED (connection refused), "
				  "and none did.");
		else
			sb_printf(&sb, "; clients that connected in the gap got ECONNREFUSED "
				  "(connection refused).");
	}
}

/*
 * Where to look for why it ended, when only its exit event told; unit: the
 * systemd unit whose journal has its output, "" when none is known.
 */
static void exit_remedy(struct sbuf *sb, const struct proc_death *d, const char *unit)
{
	bool killed = strcmp(d->signal, "SIGKILL") == 0;

	sb_printf(sb, "%.*s[%d] ", KMSG_COMM_MAX - 1, d->comm, d->pid);
	if (killed)
		sb_printf(sb, "was killed by SIGKILL");
	else
		exit_words(sb, d, false);
	sb_printf(sb, ", so no restart method would have avoided the gap: ");
	if (killed) {
		sb_printf(sb, "find who sent it (an operator's kill -9; a stop that timed out, in ");
		if (unit[0])
			sb_printf(sb, "journalctl -u %s", unit);
		else
			sb_printf(sb, "its service manager's log");
		sb_printf(sb, "; the OOM killer, in journalctl -k)");
	} else if (!d->signal[0]) {
		sb_printf(sb, "find why in its log");
		if (unit[0])
			sb_printf(sb, " (journalctl -u %s)", unit);
	} else {
		sb_printf(sb, "find why in its log and core dump (coredumpctl info %d)", d->pid);
	}
}

/*
 * The old holder died: no restart method would have kept the listener, so
 * the advice is why it died and what serves clients while it is down.
 */
static void crash_remedy(struct sbuf *sb, const struct listener_gap *g, const struct software *sw,
			 const char *svc, bool open)
{
	const struct proc_death *d = &g->death;

	if (open)
		sb_printf(sb, "start %s again (Restart=on-failure in its unit does it for you); ", svc);
	if (d->by_exit)
		exit_remedy(sb, d, g->old_owner.unit);
	else if (d->kind == KMSG_OOM_KILL)
		sb_printf(sb, "the kernel ran out of memory and killed %.*s[%d]: give it the memory "
			  "it needs or cap its own use (its unit's MemoryMax=, the server's own "
			  "memory limit)", KMSG_COMM_MAX - 1, d->comm, d->pid);
	else
		sb_printf(sb, "%.*s[%d] crashed, so no restart method would have avoided the gap: "
			  "find why in its log and core dump (coredumpctl info %d)",
			  KMSG_COMM_MAX - 1, d->comm, d->pid, d->pid);
	sb_printf(sb, "; ");
	software_crash_fix(sw, sb, g->listener, svc);
}

/*
 * What to do about the gap, in the words of the software that held the
 * listener; cur: the owner to name (the new one when known).
 */
static void gap_remedy(struct finding *f, const struct listener_gap *g, const struct owner *cur,
		       bool open)
{
	const struct software *sw = software_of(&g->old_owner);
	char svc[OWNER_UNIT_MAX];
	struct sbuf sb;

	if (software_generic(sw))
		sw = software_of(cur);
	/* The unit is what an operator restarts; the process name when there is none. */
	if (cur->unit[0])
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(cur->unit) - 1, cur->unit);
	else if (g->old_owner.unit[0])
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(g->old_owner.unit) - 1,
			 g->old_owner.unit);
	else if (cur->nprocs > 0)
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(cur->procs[0].comm) - 1,
			 cur->procs[0].comm);
	else
		snprintf(svc, sizeof(svc), "the service");
	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	if (g->death.pid) {
		set_knob(f, "crash", -1, -1);
		crash_remedy(&sb, g, sw, svc, open);
		return;
	}
	set_knob(f, "restart method", -1, -1);
	if (open)
		sb_printf(&sb, "start %s again if it should be running; from then on, ", svc);
	software_restart_fix(sw, &sb, g->listener, svc);
}

static int gap_finding(struct ctx *c, const struct listener_gap *g, bool open)
{
	const struct track *t = c->t;
	const struct tracked *nt = open ? NULL : track_find(t, g->new_cookie);
	const struct owner *cur = nt && tracked_owner(nt)->nprocs > 0 ? tracked_owner(nt) : &g->old_owner;
	int64_t gap_ms = (open ? t->now_ms : g->returned_ms) - g->last_seen_ms;
	struct finding *f;

	f = new_finding(c, CAUSE_LISTENER_GAP);
	if (!f)
		return -ENOMEM;
	f->priority = gap_severity(c, g, open);
	owner_identity(f, g->listener, cur, nt ? nt->l.cookie : 0, nt ? nt->l.inode : 0);
	if (nt)
		listener_evidence(f, nt);
	gap_message(f, c, g, nt, open, gap_ms);

	add_ev(f, "gap_ms", gap_ms);
	add_ev(f, "missing_ticks", g->missing_ticks);
	add_ev(f, "out_rsts", g->out_rsts);
	add_ev(f, "out_rsts_tick", c->out_rsts);
	add_ev(f, "old_pid", g->old_owner.nprocs > 0 ? g->old_owner.procs[0].pid : 0);
	add_ev(f, "new_pid", nt && tracked_owner(nt)->nprocs > 0 ? tracked_owner(nt)->procs[0].pid : 0);
	add_ev(f, "replaced", g->replaced ? 1 : 0);
	add_ev(f, "absent", open ? 1 : 0);
	add_ev(f, "died_pid", g->death.pid);

	gap_remedy(f, g, cur, open);
	return 0;
}

/*
 * A vanished listener refuses clients (ECONNREFUSED, and Tcp.OutRsts moves;
 * no TcpExt counter does). A gap that closed is reported for gap_memory_secs;
 * one still open likewise, and no longer: past that the listener was stopped
 * on purpose rather than restarted, and the host's later resets (OutRsts is
 * host-wide) say nothing about it. A socket replaced between two ticks counts
 * only when resets moved in that very tick. The newest firing gap of an
 * address:port stands for it.
 */
int rule_listener_gap(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t memory_ms = (int64_t)c->th.gap_memory_secs * 1000;
	size_t i;

	for (i = t->n_gaps; i-- > 0; ) {
		const struct listener_gap *g = &t->gaps[i];
		bool open = g->returned_ms == 0, fire;

		if (open)
			fire = t->now_ms - g->missing_ms < memory_ms;
		else if (g->replaced)
			fire = g->returned_ms == t->now_ms && g->out_rsts > 0;
		else
			fire = t->now_ms - g->returned_ms <= memory_ms;
		if (!fire || have_finding(c->out, CAUSE_LISTENER_GAP, g->listener))
			continue;
		if (gap_finding(c, g, open) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- reuseport-imbalance ---- */

struct group {
	unsigned others;           /* members besides the stuck one */
	uint32_t others_max_queue;
	uint32_t others_backlog;   /* the smallest backlog among them */
};

/*
 * tr overflows; its SO_REUSEPORT siblings are the other tracked sockets on
 * the same family, address and port. Return: true when there are some and
 * every one has its queue within room_pct of its backlog: the kernel hashes
 * each connection to one member, and only tr's share is lost.
 */
static bool reuseport_stuck(const struct track *t, const struct tracked *tr, unsigned room_pct,
			    struct group *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < t->count; i++) {
		const struct tracked *o = &t->items[i];

		if (o == tr || !listener_same_endpoint(&o->l, &tr->l))
			continue;
		if ((uint64_t)o->l.queue * 100 > (uint64_t)room_pct * o->l.backlog)
			return false;
		if (g->others == 0 || o->l.backlog < g->others_backlog)
			g->others_backlog = o->l.backlog;
		if (o->l.queue > g->others_max_queue)
			g->others_max_queue = o->l.queue;
		g->others++;
	}
	return g->others > 0;
}

static int reuseport_finding(struct ctx *c, const struct tracked *tr, const struct group *g)
{
	struct finding *f = new_finding(c, CAUSE_REUSEPORT_IMBALANCE);
	struct sbuf sb;

	if (!f)
		return -ENOMEM;
	fill_identity(f, tr);
	listener_evidence(f, tr);
	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	sb_printf(&sb, "%s is an SO_REUSEPORT group of %u sockets and only one member, ",
		  f->listener, g->others + 1);
	if (owner_known(tr))
		sb_printf(&sb, "held by ");
	else
		sb_printf(&sb, "socket inode %" PRIu32 " (owner unknown), ", tr->l.inode);
	who_owner(tracked_owner(tr), &sb);
	sb_printf(&sb, "%soverflowed, queue %" PRIu32 " of backlog %" PRIu32 " with %" PRIu32
		  " drop%s in one tick, while ", owner_known(tr) ? ", " : "", tr->l.queue,
		  tr->l.backlog, tr->drops_delta, tr->drops_delta == 1 ? "" : "s");
	if (g->others == 1)
		sb_printf(&sb, "the other held %" PRIu32, g->others_max_queue);
	else
		sb_printf(&sb, "the other %u held at most %" PRIu32 " each", g->others,
			  g->others_max_queue);
	sb_printf(&sb, "; clients hashed to that socket ");
	if (c->lim->tcp_abort_on_overflow == 1)
		sb_printf(&sb, "got ECONNRESET (net.ipv4.tcp_abort_on_overflow=1)");
	else
		sb_printf(&sb, "timed out or stalled");
	sb_printf(&sb, " while the rest were served.");

	add_ev(f, "members", g->others + 1);
	add_ev(f, "others_max_queue", g->others_max_queue);
	add_ev(f, "others_backlog", g->others_backlog);
	add_ev(f, "room_pct", c->th.reuseport_room_pct);
	add_ev(f, "stuck_pid", f->pid);

	set_knob(f, "accept loop", -1, -1);
	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	actor(tr, f, &sb);
	if (tr->owner_state == 'T' || tr->owner_state == 't')
		sb_printf(&sb, " is stopped (state %c, SIGCONT resumes it)", tr->owner_state);
	else
		sb_printf(&sb, " stopped accepting on its socket");
	sb_printf(&sb, ": look at that process (a blocked accept loop, a stuck event loop, a long "
		  "request) and restart it if it does not recover; the kernel hashes each new "
		  "connection to one member by its addresses and ports, so the idle members cannot "
		  "take its share, and a bigger backlog only delays the drops");
	return 0;
}

int rule_reuseport_member(struct ctx *c, const struct tracked *tr)
{
	struct group g;

	if (!reuseport_stuck(c->t, tr, c->th.reuseport_room_pct, &g))
		return 0;
	return reuseport_finding(c, tr, &g);
}
