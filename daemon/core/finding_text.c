/* finding_text.c: a finding's message and remedy as everyone shows them, side-effect and namespace clauses said once. */
#include "base.h"

#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "finding_text.h"
#include "sbuf.h"

/* "Side effect of tcp-memory: " or "Side effect of syn-flood on 127.0.0.1:8080: ". */
static void side_effect_clause(struct sbuf *sb, const struct finding *f)
{
	size_t klen = strnlen(f->explained_by_key, sizeof(f->explained_by_key));

	sb_printf(sb, "Side effect of %s", cause_code(f->explained_by));
	if (klen)
		sb_printf(sb, " on %.*s", (int)klen, f->explained_by_key);
	sb_printf(sb, ": ");
}

/*
 * The rule's sentence; after the clause's colon it goes on in lower case:
 * "The TIME_WAIT ..." becomes "the TIME_WAIT ...", while "TCP" stays.
 */
static void sentence(struct sbuf *sb, const char *text, size_t size, bool after_colon)
{
	size_t len = strnlen(text, size);

	if (after_colon && len >= 2 && isupper((unsigned char)text[0]) &&
	    islower((unsigned char)text[1])) {
		sb_printf(sb, "%c", (char)tolower((unsigned char)text[0]));
		text++;
		len--;
	}
	sb_printf(sb, "%.*s", (int)len, text);
}

void finding_words(const struct finding *f, struct finding_words *w)
{
	bool side = finding_is_side_effect(f);
	struct sbuf sb;

	sb_init(&sb, w->message, sizeof(w->message));
	if (side)
		side_effect_clause(&sb, f);
	sentence(&sb, f->body.happened, sizeof(f->body.happened), side);

	/* A sysctl set on the host fixes nothing in a container's namespace: say where to run it. */
	sb_init(&sb, w->remedy, sizeof(w->remedy));
	if (f->netns_enter[0])
		sb_printf(&sb, "in network namespace %.*s (enter it with %.*s): ",
			  (int)strnlen(f->netns_name, sizeof(f->netns_name)), f->netns_name,
			  (int)strnlen(f->netns_enter, sizeof(f->netns_enter)), f->netns_enter);
	sentence(&sb, f->body.fix, sizeof(f->body.fix), false);
}

const char *finding_clients_noun(const struct finding *f, uint64_t count)
{
	if (f->cause == CAUSE_LISTENER_GAP)
		return "refused";
	return count == 1 ? "drop" : "drops";
}

void finding_clients_words(const struct finding *f, char *buf, size_t len)
{
	const struct finding_clients *c = &f->clients;
	size_t n = c->n < FINDING_CLIENTS_MAX ? c->n : FINDING_CLIENTS_MAX;
	char addr[INET6_ADDRSTRLEN];
	struct sbuf sb;

	if (len == 0)
		return;
	sb_init(&sb, buf, len);
	if (!c->known)
		return;
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%s%s (%" PRIu64 " %s)", i ? ", " : "",
			  endpoint_addr(c->top[i].family, c->top[i].addr, addr, sizeof(addr)),
			  c->top[i].count, finding_clients_noun(f, c->top[i].count));
	sb_printf(&sb, "%s%" PRIu64 " %s from %" PRIu64 " peer%s", n ? "; " : "", c->total,
		  finding_clients_noun(f, c->total), c->peers, c->peers == 1 ? "" : "s");
}
