/* finding_text.h: the words of a finding, composed once for the journal, JSON, the tables and explain. */
#ifndef BACKLOGD_FINDING_TEXT_H
#define BACKLOGD_FINDING_TEXT_H

#include "diagnose.h"

/*
 * Room for the rule's sentence and the clause put in front of it: "Side
 * effect of reuseport-imbalance on [ffff:...]:65535: " for the message, "in
 * network namespace NAME (enter it with COMMAND): " for the remedy. Nothing
 * of the rule's sentence is cut to make room.
 */
#define FINDING_WORDS_MAX (FINDING_TEXT_MAX + 256)

struct finding_words {
	char message[FINDING_WORDS_MAX];   /* what happened and what clients saw */
	char remedy[FINDING_WORDS_MAX];    /* what to change, and where */
};

/*
 * The message and remedy of f, as every consumer shows them. A side effect's
 * message starts with "Side effect of CAUSE: " (a host-wide cause) or "Side
 * effect of CAUSE on KEY: ", once; a finding from another network namespace
 * has its remedy start with where to run it. Consumers add no words of their
 * own about either.
 */
void finding_words(const struct finding *f, struct finding_words *w);

/* Room for finding_clients_words(): FINDING_CLIENTS_MAX peers, the longest IPv6 address and count each. */
#define FINDING_CLIENTS_WORDS_MAX 768

/* "drops" ("drop" for one) for what an accept queue dropped; "refused" for a listener-gap's clients. */
const char *finding_clients_noun(const struct finding *f, uint64_t count);

/*
 * The clients of f in one line, as the journal's BACKLOGD_CLIENTS carries
 * them: "127.0.0.11 (12 drops), 127.0.0.12 (9 drops); 25 drops from 3
 * peers" ("refused" for a listener-gap). "" when f->clients is not known.
 */
void finding_clients_words(const struct finding *f, char *buf, size_t len);

#endif
