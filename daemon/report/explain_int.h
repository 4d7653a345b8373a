/* explain_int.h: what the explain files share: targets, steps, the findings told on a chain. */
#ifndef BACKLOGD_EXPLAIN_INT_H
#define BACKLOGD_EXPLAIN_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose.h"
#include "listener.h"
#include "monitor.h"

/* ---- target.c: what a person asked to have explained ---- */

/* "127.0.0.1:8080", "[::1]:443", "*:8080" or "8080". */
struct target {
	bool any_addr;            /* "PORT" or "*:PORT": ep holds the port only */
	struct listener ep;       /* family, addr and port; the rest zero */
};

enum match_kind {
	MATCH_NONE,
	MATCH_EXACT,        /* the address and port asked for */
	MATCH_PORT,         /* only a port was asked for */
	MATCH_WILDCARD,     /* no exact listener; 0.0.0.0 or :: on that port takes the connections */
};

/* A bare IPv6 address without brackets is refused: its last group cannot be told from a port. Return: true when s parsed. */
bool parse_target(const char *s, struct target *t);
/* How l answers t; wildcard_pass: whether this is the pass that looks for wildcard listeners. */
enum match_kind match_listener(const struct target *t, const struct listener *l, bool wildcard_pass);
/*
 * Whether a finding key of this scope answers target (tp: target parsed,
 * or NULL when it did not parse): the same text, or the same address and
 * port however written.
 */
bool key_matches(const char *target, const struct target *tp, enum finding_scope scope, const char *key);

/* ---- steps.c: one step of a chain, and the words steps share ---- */

/* Enough for one step of an explain chain: a listener, its owners and a finding. */
#define STEP_TEXT_MAX 2048

/* Append {step, text} to steps. Return: 0 or -1. */
__attribute__((format(printf, 3, 4)))
int step(json_t *steps, const char *name, const char *fmt, ...);
/* "5 s ago", "2 h 3 min ago": how long before now_s. */
void format_ago(int64_t now_s, int64_t then, char *buf, size_t len);
/* "1.5 s", "250 ms". */
void format_msecs(int64_t ms, char *buf, size_t len);
/* A limit or count in a sentence: "?" when unknown. Return: buf. */
const char *fmt_i64(int64_t v, char *buf, size_t len);
/* The first process of an owner, "tcpload[812]", or "an unknown process". */
void format_owner1(const struct owner *ow, char *buf, size_t len);
/* Write an error for the caller, when it gave room for one. */
__attribute__((format(printf, 3, 4)))
void set_err(char *err, size_t errlen, const char *fmt, ...);

/* ---- explain_findings.c: the findings on a chain's subject, told ---- */

/*
 * What one chain is about: a tracked listener (its findings by cookie or by
 * name), or a subject with no listener behind it: "host", an interface, a
 * destination, or an address:port whose listener is gone.
 */
struct chain_subject {
	const struct tracked *tr;     /* a listener chain; NULL for the others */
	enum finding_scope scope;     /* the others: the scope of key */
	const char *key;              /* the listener's name, or the finding key */
};

/* A subject's active findings in the order they are told: each primary cause followed by its side effects. */
struct told_findings {
	const struct finding_entry **items;
	size_t count;
	const struct finding_entry *last_resolved;   /* the latest resolved one, for "healthy" */
};

/* Gather cs's findings: all of them, active first, into findings (JSON); the active ones into tf. Return: 0 or -1. */
int told_gather(const struct monitor *m, const struct chain_subject *cs, json_t *findings,
		struct told_findings *tf);
void told_free(struct told_findings *tf);
/*
 * The finding steps: each active finding with its remedy (the message too,
 * unless the chain quoted the first one's already), or one step saying the
 * subject, what, is healthy. Return: 0 or -1.
 */
int steps_told(json_t *steps, const struct monitor *m, const struct told_findings *tf, const char *what,
	       bool first_message_quoted);

/* ---- explain_gap.c ---- */

/* The most recent gap recorded on name, or NULL. */
const struct listener_gap *latest_gap(const struct track *t, const char *name);
/* One listener gap: how long, who held it before and after, resets meanwhile. Return: 0 or -1. */
int step_gap(json_t *steps, const struct track *t, const struct listener_gap *g);

/* ---- the chains: explain_listener.c, explain_subject.c ---- */

/* The chain for a live listener that answers target as kind. Return: NULL when out of memory. */
json_t *explain_listener_chain(const struct monitor *m, const struct tracked *tr, const char *target,
			       enum match_kind kind);
/* The chain for a subject with no live listener: its own numbers, then its findings. */
json_t *explain_subject_chain(const struct monitor *m, enum finding_scope scope, const char *key);

#endif
