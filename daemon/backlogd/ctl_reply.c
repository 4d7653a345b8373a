/* ctl_reply.c: the control server's replies as bytes: built once under memory bounds, shared by reference. */
#include "base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_reply.h"

/* Where json_dump_callback writes, and why it stopped when it did. */
struct doc_writer {
	struct ctl_replies *r;
	struct ctl_doc *doc;
	size_t small;
	int err;
};

/*
 * Grow the document to hold want bytes, doubling. Past small, the bounds
 * apply to what the reply needs: one reply's own, and the one on every
 * reply not yet sent (ctl_doc_build trims the doubling's slack after).
 */
static int doc_grow(struct doc_writer *w, size_t want)
{
	struct ctl_doc *d = w->doc;
	size_t ncap = d->cap ? d->cap : 4096;
	char *grown;

	if (want <= d->cap)
		return 0;
	if (want > w->small && want > w->r->reply_max)
		return -EFBIG;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (want > w->small && ncap > w->r->reply_max)
		ncap = w->r->reply_max > want ? w->r->reply_max : want;
	if (want > w->small && w->r->total - d->cap + want > w->r->total_max)
		return -ENOBUFS;
	grown = realloc(d->text, ncap);
	if (!grown)
		return -ENOMEM;
	w->r->total = w->r->total - d->cap + ncap;
	d->text = grown;
	d->cap = ncap;
	return 0;
}

static int doc_write(const char *buf, size_t size, void *arg)
{
	struct doc_writer *w = arg;
	struct ctl_doc *d = w->doc;

	if (size > SIZE_MAX - d->len - 1) {
		w->err = -EFBIG;
		return -1;
	}
	w->err = doc_grow(w, d->len + size + 1);
	if (w->err < 0)
		return -1;
	memcpy(d->text + d->len, buf, size);
	d->len += size;
	return 0;
}

int ctl_doc_build(struct ctl_replies *r, const json_t *reply, size_t small, struct ctl_doc **out)
{
	struct doc_writer w = { .r = r, .small = small };

	*out = NULL;
	w.doc = calloc(1, sizeof(*w.doc));
	if (!w.doc)
		return -ENOMEM;
	w.doc->refs = 1;
	w.doc->owner = r;
	/* Streamed into one growing buffer: no second copy the size of the reply, no limit but ours. */
	if (json_dump_callback(reply, doc_write, &w, JSON_COMPACT) < 0) {
		ctl_doc_put(w.doc);
		return w.err < 0 ? w.err : -ENOMEM;
	}
	/* doc_write always leaves a byte for the newline. */
	if (w.doc->len == 0 && doc_grow(&w, 1) < 0) {
		ctl_doc_put(w.doc);
		return -ENOMEM;
	}
	w.doc->text[w.doc->len++] = '\n';
	/* A document may wait long for a slow reader: it keeps only what it needs. */
	if (w.doc->cap > w.doc->len) {
		char *fit = realloc(w.doc->text, w.doc->len);

		if (fit) {
			r->total -= w.doc->cap - w.doc->len;
			w.doc->text = fit;
			w.doc->cap = w.doc->len;
		}
	}
	*out = w.doc;
	return 0;
}

struct ctl_doc *ctl_doc_get(struct ctl_doc *d)
{
	d->refs++;
	return d;
}

void ctl_doc_put(struct ctl_doc *d)
{
	if (!d || --d->refs > 0)
		return;
	d->owner->total -= d->cap;
	free(d->text);
	free(d);
}

static void slot_clear(struct ctl_share_slot *s)
{
	free(s->key);
	ctl_doc_put(s->doc);
	*s = (struct ctl_share_slot){ 0 };
}

struct ctl_doc *ctl_share_find(struct ctl_replies *r, const char *key, uint64_t now, uint64_t max_age_ms)
{
	for (size_t i = 0; r->sharing && i < CTL_SHARE_SLOTS; i++) {
		struct ctl_share_slot *s = &r->slots[i];

		if (s->key && strcmp(s->key, key) == 0 && now - s->built_ms < max_age_ms)
			return ctl_doc_get(s->doc);
	}
	return NULL;
}

void ctl_share_keep(struct ctl_replies *r, const char *key, struct ctl_doc *doc, uint64_t now)
{
	struct ctl_share_slot *victim = &r->slots[0];
	char *copy;

	if (!r->sharing)
		return;
	/* The same request again (its reply had aged), an empty slot, else the oldest. */
	for (size_t i = 0; i < CTL_SHARE_SLOTS; i++) {
		struct ctl_share_slot *s = &r->slots[i];

		if (s->key && strcmp(s->key, key) == 0) {
			victim = s;
			break;
		}
		if (victim->key && (!s->key || s->built_ms < victim->built_ms))
			victim = s;
	}
	copy = strdup(key);
	if (!copy)
		return;
	slot_clear(victim);
	victim->key = copy;
	victim->doc = ctl_doc_get(doc);
	victim->built_ms = now;
}

void ctl_share_generation(struct ctl_replies *r, uint64_t generation)
{
	if (r->sharing && r->generation == generation)
		return;
	ctl_share_clear(r);
	r->sharing = 1;
	r->generation = generation;
}

void ctl_share_clear(struct ctl_replies *r)
{
	for (size_t i = 0; i < CTL_SHARE_SLOTS; i++)
		slot_clear(&r->slots[i]);
}
