/* ctl_reply.h: the control server's replies as bytes: built once under memory bounds, shared by reference. */
#ifndef BACKLOGD_CTL_REPLY_H
#define BACKLOGD_CTL_REPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Requests whose replies are kept for sharing at once; more distinct ones are built each time. */
#define CTL_SHARE_SLOTS 8

/* One reply line, '\n' included, and who still has to send it. */
struct ctl_doc {
	size_t refs;
	size_t len;
	size_t cap;		/* bytes allocated, what the memory bound counts */
	char *text;
	struct ctl_replies *owner;
};

struct ctl_share_slot {
	char *key;		/* the request, compact with sorted keys */
	struct ctl_doc *doc;
	uint64_t built_ms;	/* CLOCK_MONOTONIC */
};

/* The memory every reply of one server uses, and the replies it shares. */
struct ctl_replies {
	size_t reply_max;	/* bytes one reply may take */
	size_t total_max;	/* bytes every reply not yet sent may take together */
	size_t total;		/* bytes of every live document */
	int sharing;		/* 0 until the caller names a first generation */
	uint64_t generation;
	struct ctl_share_slot slots[CTL_SHARE_SLOTS];
};

/*
 * Serialize reply into a new document (one reference) of r, under r's
 * bounds; a reply of at most small bytes is always built, so that an error
 * can always say why. Return: 0, -EFBIG (over reply_max), -ENOBUFS (the
 * bound on every pending reply reached), -ENOMEM.
 */
int ctl_doc_build(struct ctl_replies *r, const json_t *reply, size_t small, struct ctl_doc **out);
struct ctl_doc *ctl_doc_get(struct ctl_doc *d);
/* Drop a reference; the last one frees the document. */
void ctl_doc_put(struct ctl_doc *d);

/* The document shared for key, built less than max_age_ms before now, or NULL. Return: a new reference. */
struct ctl_doc *ctl_share_find(struct ctl_replies *r, const char *key, uint64_t now, uint64_t max_age_ms);
/* Keep doc (a new reference is taken) as the reply to key; key is copied. */
void ctl_share_keep(struct ctl_replies *r, const char *key, struct ctl_doc *doc, uint64_t now);
/* Start sharing, or forget what was shared when the generation changes. */
void ctl_share_generation(struct ctl_replies *r, uint64_t generation);
/* Forget every shared reply (documents still being sent live on). */
void ctl_share_clear(struct ctl_replies *r);

#endif
