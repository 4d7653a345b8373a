/* causes.h: the cause catalogue in one table: code, MESSAGE_ID, severity, family and scope of each cause. */
#ifndef BACKLOGD_CAUSES_H
#define BACKLOGD_CAUSES_H

/*
 * Codes (and MESSAGE_IDs) are the interface: journal, JSON and metrics use
 * them, never these numbers. CAUSE_NONE comes first so that a zeroed finding
 * reads as "explained by nothing", a cause in its own right.
 */
enum cause {
	CAUSE_NONE = 0,
	CAUSE_BACKLOG_CLAMPED,
	CAUSE_BACKLOG_SMALL,
	CAUSE_SLOW_ACCEPT,
	CAUSE_OVERFLOW_RESET,
	CAUSE_SYN_QUEUE_DROP,
	CAUSE_SYN_FLOOD,
	CAUSE_LISTENER_GAP,
	CAUSE_REUSEPORT_IMBALANCE,
	CAUSE_EPHEMERAL_PORTS,
	CAUSE_TIMEWAIT_OVERFLOW,
	CAUSE_TCP_MEMORY,
	CAUSE_ORPHANS,
	CAUSE_CONNTRACK_FULL,
	CAUSE_LINK_DROPS,
	CAUSE_COUNT                /* one past the last */
};

/* The first real cause, for loops: for (c = CAUSE_FIRST; c < CAUSE_COUNT; c++). */
#define CAUSE_FIRST CAUSE_BACKLOG_CLAMPED

/*
 * How urgent a finding is. The numbers are syslog's (LOG_ERR, LOG_WARNING,
 * LOG_NOTICE), so alert hands them to the journal as PRIORITY unchanged;
 * they are spelt out here because daemon/core does no logging and does not
 * include <syslog.h>.
 */
enum severity {
	SEVERITY_ERR = 3,
	SEVERITY_WARNING = 4,
	SEVERITY_NOTICE = 5,
};

/* Which part of the stack a cause is about (DESIGN.md, "Cause catalogue"). */
enum cause_family {
	FAMILY_NONE = 0,
	FAMILY_ACCEPT_QUEUE,       /* backlog-clamped, backlog-small, slow-accept, overflow-reset */
	FAMILY_SYN,                /* syn-queue-drop, syn-flood */
	FAMILY_GAPS,               /* listener-gap, reuseport-imbalance */
	FAMILY_HOST_LIMITS,        /* ports, TIME_WAIT, memory, orphans, conntrack, links */
};

/* What a finding is about: its key (finding.listener) is named for it. */
enum finding_scope {
	SCOPE_LISTENER,     /* "127.0.0.1:8080" */
	SCOPE_HOST,         /* "host" */
	SCOPE_INTERFACE,    /* "eth0" */
	SCOPE_DESTINATION,  /* "10.0.0.5:5432", the remote end of client sockets */
};

/* One row of the catalogue. */
struct cause_info {
	const char *code;          /* "backlog-clamped": stable */
	const char *message_id;    /* 32 hex digits, catalogued in systemd/backlogd.catalog: stable */
	enum severity severity;    /* the usual one; a rule may raise or lower it per finding */
	enum cause_family family;
	enum finding_scope scope;  /* the usual one; some rules fall back to the host */
};

/* Return: c's row, or NULL for CAUSE_NONE and out-of-range values. */
const struct cause_info *cause_info(enum cause c);

/* "backlog-clamped", ... Return: NULL for CAUSE_NONE or an out-of-range cause. */
const char *cause_code(enum cause c);
/* The catalogued 128-bit MESSAGE_ID, 32 hex digits. Return: NULL as cause_code. */
const char *cause_message_id(enum cause c);
/* Return: the cause with this code, or CAUSE_NONE for NULL or an unknown code. */
enum cause cause_from_code(const char *code);
/* Return: c's family, FAMILY_NONE for CAUSE_NONE or an out-of-range cause. */
enum cause_family cause_family(enum cause c);

/* "listener", "host", "interface", "destination"; never NULL. */
const char *scope_name(enum finding_scope s);

#endif
