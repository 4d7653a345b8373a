/* monitor.h: one tick end to end: probes -> sample -> track -> diagnose -> findings. */
#ifndef BACKLOGD_MONITOR_H
#define BACKLOGD_MONITOR_H

#include <stdint.h>
#include "client_book.h"
#include "config.h"
#include "conntrack.h"
#include "deep.h"
#include "deep_policy.h"
#include "fast_peaks.h"
#include "findings.h"
#include "kmsg.h"
#include "procexit.h"
#include "links.h"
#include "netns.h"
#include "listener.h"
#include "netstat.h"
#include "nl.h"
#include "procfile.h"
#include "procmap.h"
#include "qhist.h"
#include "sockdiag.h"
#include "sockstat.h"
#include "sources.h"
#include "sysctl.h"
#include "track.h"

/* The eBPF tier as the daemon runs it (host-wide), for status: told to the host's monitor. */
struct tier_report {
	bool on;
	char why[256];            /* why it is off, or which part is missing; "" */
	char parts[96];           /* the programs that run: "kfree_skb cgroup_skb tcp_send_reset" */
	uint64_t events;          /* events booked in a watched namespace */
	uint64_t lost;            /* the ring buffer was full */
	uint64_t unwatched;       /* from namespaces not watched, not written to the ring */
	uint64_t bad;             /* records that did not decode */
	uint64_t event_ticks;     /* ticks run at once because an event opened an overflow */
};

struct monitor {
	const char *proc_root;    /* PROC_ROOT/net files: "/proc", "/proc/thread-self" in another namespace */
	const char *sys_root;     /* SYS_ROOT/sys files: "/proc" (the calling thread's namespace) */
	bool keep_files;          /* /proc files stay open between ticks: the host's monitor only */
	/*
	 * The host monitor's limits, for another namespace's monitor (NULL in
	 * the host's): tcp_mem and tcp_max_orphans are host-wide and exist only
	 * in the init namespace's /proc/sys, yet apply inside every namespace.
	 */
	const struct limits *host_limits;
	uint64_t netns_inode;     /* the namespace this monitor watches; 0 unknown */
	char netns_name[NETNS_NAME_MAX];
	char netns_enter[NETNS_NAME_MAX + 16];  /* "ip netns exec red", "nsenter -t 812 -n"; "" for ours */
	struct config cfg;
	struct sockdiag *sd;
	struct procmap *pm;       /* owners always from the real /proc */
	struct links *links;      /* NULL when rtnetlink could not be opened */
	struct procbuf pbuf;      /* the /proc readers' buffer, reused every tick */
	/* The last good LISTEN dump: its listeners stand for the ticks that do not dump (dump_policy.h). */
	struct listener_set dump;
	const char *dump_reason;  /* why the latest tick dumped the listeners; NULL: it did not */
	bool listeners_stale;     /* the next tick must dump: the last dump failed, or the configuration changed */
	int64_t last_dump_mono_ms;  /* monotonic ms of the last good dump; 0 none */
	int64_t listeners_at_ms;  /* wall clock ms of the last good dump; 0 none */
	unsigned long dumps;      /* good LISTEN dumps since start */
	struct counters counters;
	struct limits limits;
	struct sysctl_files sysctl_files;  /* kept open: read with every dump */
	struct sockstat sockstat;
	struct conntrack_stat conntrack;
	struct procfd conntrack_count;  /* nf_conntrack_count, kept open like the sysctls (our namespace only) */
	struct link_table link_table;
	struct listener_set fast_set;  /* scratch for the fast samples */
	struct fast_peaks fast;   /* what the fast samples saw since the last tick */
	unsigned long fast_dumps; /* rounds of fast samples (one dump each), since start */
	unsigned long fast_full;  /* ticks whose fast samples saw a full queue the tick itself missed */
	struct deep_sample deep;
	bool deep_ran;            /* the deep tier ran in the latest tick */
	const char *deep_reason;  /* why it ran ("every 30 ticks", "TCPReqQFullDrop moved", ...) */
	unsigned long deep_runs;
	struct deep_book deep_book;   /* when it ran and what that cost, for deep_policy */
	bool deep_oneshot;        /* the next tick is a one-shot run's last (deep_policy_in.oneshot) */
	/* Kernel log events read since the last tick (the daemon's loop adds them). */
	struct kmsg_event kmsg_pending[TRACK_KMSG_MAX];
	size_t n_kmsg_pending;
	unsigned kmsg_overflow;   /* events beyond the buffer between two ticks */
	bool kmsg_following;      /* the caller follows the kernel log (for status) */
	/* Process exits for the next tick (host-wide, the caller's buffer), NULL when none. */
	const struct proc_exit *exits;
	size_t n_exits;
	bool proc_events;         /* the caller follows process exits (for status) */
	/* Who the eBPF tier saw dropped or refused here; findings are stamped from it every tick. */
	struct client_book clients;
	struct tier_report bpf;   /* the host's monitor only; zero (off) elsewhere */
	struct track track;
	struct qhist qhist;       /* the recent past of the listeners ever hot or dropping (top, explain) */
	struct finding_list firing;
	struct finding_table findings;
	/*
	 * procmap is asked again only when the sockets to own changed (or the
	 * last ask failed), and the listeners' owners are resolved again only
	 * when they changed or procmap's generation moved.
	 */
	bool owners_stale;
	unsigned long owners_gen;
	/* The sample's owners and owner states, by position in dump; they grow with it. */
	const struct owner **owners;
	char *owner_states;
	size_t owners_cap;
	int64_t started;          /* wall clock, seconds */
	int last_error;           /* -errno of the latest failed tick, 0 */
	/* What the kernel said when the listener dump failed it (printable ASCII); "" otherwise. */
	char last_error_detail[NL_EXT_ACK_MAX];
	unsigned long failed_ticks;
	struct sources sources;   /* which /proc files the latest tick could not read */
};

/*
 * Netlink sockets are bound to the namespace of the thread that opens them:
 * call this (and monitor_tick) in the namespace to watch. sys_root NULL is
 * proc_root, and the monitor's own namespace: only then are /proc files kept
 * open between ticks (in another namespace they would pin it, and a flood of
 * namespaces would take a descriptor each). Return: 0 or -errno (netlink socket, memory).
 */
int monitor_init(struct monitor *m, const struct config *cfg, const char *proc_root);
int monitor_init_ns(struct monitor *m, const struct config *cfg, const char *proc_root,
		    const char *sys_root);
void monitor_done(struct monitor *m);

/*
 * Sample between ticks the listeners whose queue was above half their
 * backlog at the latest tick (or sample): one port-filtered dump per hot
 * port; the highest queue seen is folded into the next tick's history, so a
 * burst that fills the queue and drains before the tick is still seen.
 * Call in the monitor's namespace. Return: how many listeners are hot.
 */
size_t monitor_fast_sample(struct monitor *m);
/* Return: whether tr is hot: its queue above half its backlog lately. */
bool monitor_listener_hot(const struct tracked *tr);
/* Return: how many listeners are hot now (whether fast sampling should run). */
size_t monitor_hot(const struct monitor *m);

/* Queue kernel log events for the next tick (extra ones are counted, not kept). */
void monitor_add_kmsg(struct monitor *m, const struct kmsg_event *ev, size_t n);

/* Swap in a new configuration (after SIGHUP); state is kept. */
void monitor_set_config(struct monitor *m, const struct config *cfg);

/*
 * Book one event of the eBPF tier in this namespace at wall clock wall_ms.
 * Return: true when it is an overflow at an endpoint the book did not
 * have: a new episode, which the caller may tick for at once.
 */
bool monitor_add_drop(struct monitor *m, const struct drop_event *ev, int64_t wall_ms);

/*
 * Run one tick at now_ms (wall clock). cb sees findings open and resolve.
 * A failing probe leaves the previous state in place. Return: 0 or -errno.
 */
int monitor_tick(struct monitor *m, int64_t now_ms, finding_cb cb, void *arg);

#endif
